"""A search by BSN request by request (``integrator.console.kept``): the POST answers with a
redirect whose address holds a handle, never the BSN; the handle is the searcher's own, and
expires; a search without a BSN is kept the same way, and records no view. Without a browser,
on an engine whose clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.kept_searches import LASTS
from tests.conftest import load_sample
from tests.console.started import started_engine
from tests.console.test_session import START, accepted, client, csrf, sign_in

BSN = str(load_sample("referral")["patient"]["bsn"])


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


def clock_of(engine: Engine) -> ManualClock:
    assert isinstance(engine.clock, ManualClock)
    return engine.clock


async def search(browser: httpx.AsyncClient, path: str, **terms: str) -> httpx.Response:
    form = await browser.get(path.removesuffix("/search"))
    return await browser.post(
        path,
        data={"csrf": csrf(form.text), **terms},
        headers={"origin": str(browser.base_url).rstrip("/")},
    )


async def searches_made(engine: Engine) -> int:
    entries = await engine.store.list_audit(limit=1000)
    return sum(1 for e in entries if e.target == "messages.search")


@pytest.mark.parametrize("path", ["/messages/search", "/events/search", "/rejected/search"])
async def test_a_bsn_search_redirects_to_its_handle_never_its_bsn(
    engine: Engine, path: str
) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        answer = await search(browser, path, bsn=BSN, zd_number="ZD100000001")
        assert answer.status_code == 303
        location = answer.headers["location"]
        listing = path.removesuffix("/search")
        assert location.startswith(f"{listing}?search=") and BSN not in location
        assert "ZD100000001" not in location  # the handle stands for the whole search
        shown = await browser.get(location)
        assert shown.status_code == 200 and BSN not in shown.text
        assert 'value="ZD100000001"' in shown.text  # the terms are shown back, the BSN not


async def test_a_search_without_a_bsn_is_kept_too_and_records_no_view(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        answer = await search(browser, "/messages/search", bsn=" ", zd_number="ZD100000001")
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/messages?search=") and "ZD100000001" not in location
        shown = await browser.get(location)
        assert shown.status_code == 200 and 'value="ZD100000001"' in shown.text
        assert 'id="by-bsn"' not in shown.text  # it searched no patient, and says none
    assert await searches_made(engine) == 0


async def test_a_handle_expires_and_pages_of_it_are_not_audited_again(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        location = (await search(browser, "/messages/search", bsn=BSN)).headers["location"]
        # A handle is of one kind of search: not an event search's.
        assert (await browser.get(location.replace("/messages?", "/events?"))).status_code == 404
        for _ in range(3):  # a reload, Back, another page: the same search
            assert (await browser.get(location)).status_code == 200
            assert (await browser.get(f"{location}&offset=50")).status_code == 200
        assert await searches_made(engine) == 1

        clock_of(engine).advance(LASTS + timedelta(seconds=1))
        gone = await browser.get(location, headers={"accept-language": "nl"})
        assert gone.status_code == 404
        assert "Zoekopdracht niet meer beschikbaar" in gone.text
        assert 'href="/messages"' in gone.text and "message-list" not in gone.text
        assert (await browser.get(location.replace("/messages?", "/events?"))).status_code == 404
        assert await searches_made(engine) == 1


async def test_an_unknown_handle_is_the_same_page(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        for handle in ("nothing-like-it", "x" * 65):
            answer = await browser.get(f"/events?search={handle}")
            assert answer.status_code in (404, 422)
            assert handle not in answer.text
