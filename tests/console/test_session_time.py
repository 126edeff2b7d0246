"""What a page asks before warning that its session ends, one request per rule: how long is left
(``GET /session/left``, which keeps nothing alive) and "stay signed in" (``POST
/session/keep``, a POST of the page's own that moves the idle clock but never the 12 hours).
On the engine's clock, moved by the test; the browser's side is ``test_session_warning``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from integrator.access.tokens import hash_secret
from integrator.engine import Engine
from tests.console.started import started_engine
from tests.console.test_kept_search_requests import clock_of
from tests.console.test_session import START, accepted, client, csrf, sign_in

ORIGIN = {"origin": "http://console.test"}
# As the page asks: by itself, in the browser's language.
BACKGROUND = {"x-integrator-background": "1", "accept-language": "en"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        yield started


async def last_seen(engine: Engine, browser: httpx.AsyncClient) -> object:
    session = await engine.store.get_session(hash_secret(browser.cookies["integrator-session"]))
    assert session is not None
    return session.last_seen_at


async def test_asking_what_is_left_keeps_nothing_alive(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        seen = await last_seen(engine, browser)
        clock_of(engine).advance(timedelta(minutes=28))
        left = await browser.get("/session/left", headers=BACKGROUND)
        assert left.status_code == 200
        assert left.json() == {"ends_in": 120.0, "can_be_kept": True}
        assert left.headers["cache-control"] == "no-store"
        assert await last_seen(engine, browser) == seen
        clock_of(engine).advance(timedelta(minutes=2))
        ended = await browser.get(
            "/session/left", headers={**BACKGROUND, "referer": "http://console.test/messages"}
        )
        assert ended.status_code == 401
        # The notice a refreshing page gets, returning to the page that asked.
        assert "Your session has ended" in ended.text
        assert 'href="/login?next=%2Fmessages"' in ended.text


async def test_no_session_is_told_it_has_ended(engine: Engine) -> None:
    async with client(engine) as browser:
        answer = await browser.get("/session/left", headers=BACKGROUND)
        assert answer.status_code == 401 and "Your session has ended" in answer.text
        browser.cookies.set("integrator-session", "not-a-session")
        answer = await browser.get("/session/left", headers=BACKGROUND)
        assert answer.status_code == 401 and "Your session has ended" in answer.text


async def test_the_notice_returns_only_to_a_page_of_the_console(engine: Engine) -> None:
    async with client(engine) as browser:
        for referer, back in (
            ("https://evil.test/messages", 'href="/login"'),
            (
                "http://console.test/messages?destination=noord",
                "next=%2Fmessages%3Fdestination%3Dnoord",
            ),
            ("http://console.test/messages?bsn=999990019", 'href="/login?next=%2Fmessages"'),
        ):
            answer = await browser.get("/session/left", headers={"referer": referer})
            assert answer.status_code == 401
            assert back in answer.text, referer
            assert "999990019" not in answer.text


async def test_staying_signed_in_starts_the_idle_clock_again(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        token = csrf((await browser.get("/messages")).text)
        clock_of(engine).advance(timedelta(minutes=28, seconds=30))
        kept = await browser.post("/session/keep", headers={**ORIGIN, "x-csrf-token": token})
        assert kept.status_code == 200
        assert kept.json() == {"ends_in": 1800.0, "can_be_kept": True}
        assert await last_seen(engine, browser) == engine.clock.now()
        clock_of(engine).advance(timedelta(minutes=29))
        assert (await browser.get("/session/left", headers=BACKGROUND)).json()["ends_in"] == 60.0


async def test_staying_signed_in_is_refused_to_another_page(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        token = csrf((await browser.get("/messages")).text)
        clock_of(engine).advance(timedelta(minutes=10))
        for headers in (
            ORIGIN,  # no CSRF token
            {"origin": "https://evil.test", "x-csrf-token": token},
            {**ORIGIN, "x-csrf-token": "0" * 64},
        ):
            answer = await browser.post("/session/keep", headers=headers)
            assert answer.status_code == 403, headers
            assert "ends_in" not in answer.text


async def test_a_session_ended_already_is_sent_to_sign_in_not_kept(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        token = csrf((await browser.get("/messages")).text)
        clock_of(engine).advance(timedelta(minutes=30))
        answer = await browser.post("/session/keep", headers={**ORIGIN, "x-csrf-token": token})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")
        assert (await browser.get("/session/left", headers=BACKGROUND)).status_code == 401


async def test_the_twelve_hours_are_not_moved_by_staying(engine: Engine) -> None:
    totp = await accepted(engine)
    async with client(engine) as browser:
        await sign_in(browser, engine, totp)
        for _ in range(23):  # 11.5 hours of a person at work
            clock_of(engine).advance(timedelta(minutes=30) - timedelta(seconds=1))
            token = csrf((await browser.get("/messages")).text)
        clock_of(engine).advance(timedelta(minutes=28, seconds=30))
        # 11:58:07 after signing in. Staying moves the idle end past the lifetime's, which
        # comes first (in 113 s) and does not move; the page is told it cannot be kept.
        kept = await browser.post("/session/keep", headers={**ORIGIN, "x-csrf-token": token})
        assert kept.json() == {"ends_in": 113.0, "can_be_kept": False}
        assert (await browser.get("/session/left", headers=BACKGROUND)).json() == kept.json()
