"""Rejected input narrowed in the console, and counted on the dashboard, request by request
against a real engine (no browser), as an operator uses them when an upstream system starts to
send broken input: the listing's GET form takes a period and a source and says how many match
in all; a term the service refuses is said beside its field without what was typed; the
dashboard counts the last 24 hours for who may list rejected input (``messages.read`` for all
clusters) and leaves the figure out for anyone else.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.clock import ManualClock
from integrator.console.pages import rejected as rejected_page
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from tests.conftest import load_sample
from tests.console.test_saved_searches import signed_in
from tests.integrator.support import destination, settings_for

BSN = "123456782"
BODY = json.dumps({"event_id": "x", "patient": {"bsn": BSN}}).encode()
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine holding three pieces of rejected input: one over http three days ago, and
    one over amqp and one over cli an hour ago (periods like ``24h`` count back from now)."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    clock = ManualClock(datetime.now(UTC) - timedelta(days=3))
    started = Engine(settings, clock=clock)
    await started.start()
    await started.store.reject_event(BODY, "http", RULES)
    clock.set(datetime.now(UTC) - timedelta(hours=1))
    await started.store.reject_event(BODY, "amqp", RULES)
    clock.advance(timedelta(seconds=1))  # a time of its own: listed first, and not by its id
    await started.store.reject_event(BODY, "cli", RULES)
    clock.set(datetime.now(UTC))
    yield started
    await started.stop()


def _sources(answer: httpx.Response) -> list[str]:
    """The source column of the listing's rows, newest first."""
    table = re.search(r'<table id="rejected-list"[^>]*>(.*?)</table>', answer.text, re.S)
    if table is None:
        return []
    return re.findall(r"<td[^>]*>(http|cli|amqp|demo)</td>", table.group(1))


def _text(answer: httpx.Response, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', answer.text, re.S)
    assert found, answer.text
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


async def test_the_filter_form_narrows_the_listing_and_says_how_many_match(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        everything = await sam.get("/rejected")
        assert everything.status_code == 200
        # Sam may read patient data for all clusters: the form can hold a BSN, so it posts.
        assert 'id="rejected-filter" method="post" action="/rejected/search"' in everything.text
        assert _sources(everything) == ["cli", "amqp", "http"]
        assert _text(everything, "rejected-count") == "Matching: 3"

        lately = await sam.get("/rejected", params={"since": "24h"})
        assert _sources(lately) == ["cli", "amqp"]
        assert _text(lately, "rejected-count") == "Matching: 2"
        assert 'value="24h"' in lately.text  # the form keeps what it searched for

        amqp = await sam.get("/rejected", params={"source": "amqp", "since": "", "until": ""})
        assert _sources(amqp) == ["amqp"]
        assert '<option value="amqp" selected>' in amqp.text
        before = await sam.get("/rejected", params={"until": "2d"})
        assert _sources(before) == ["http"]
        none = await sam.get("/rejected", params={"source": "demo"})
        assert _sources(none) == [] and 'id="rejected-empty"' in none.text
        for answer in (everything, lately, amqp, before):
            assert BSN not in answer.text  # a listing shows no byte of a body


async def test_a_cut_listing_says_how_many_it_left_out(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rejected_page, "SHOWN", 1)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        cut = await sam.get("/rejected")
    assert _sources(cut) == ["cli"]
    assert _text(cut, "rejected-more").startswith("Only the newest 1 of 3 are shown.")


async def test_a_term_the_service_refuses_is_said_beside_its_field(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        source = await sam.get("/rejected", params={"source": "pigeon-12345678"})
        since = await sam.get("/rejected", params={"since": "12345678"})
        # A BSN in any term is refused as one (``search.misplaced_bsn``), and not kept.
        pasted = await sam.get("/rejected", params={"since": "123456782"})
    async with signed_in(engine, "saar@example.org", Grant(Role.RESEND), lang="nl") as saar:
        dutch = await saar.get("/rejected", params={"source": "pigeon"})
    assert source.status_code == since.status_code == dutch.status_code == 422
    said = _text(source, "r-source-error")
    assert said == "not a source of input; one of http, cli, amqp, demo"
    assert 'aria-describedby="r-source-error"' in source.text
    assert "12345678" not in source.text and "pigeon" not in source.text
    # The field keeps what was typed, to be corrected (as the audit trail's form does); the
    # refusal never repeats it.
    assert _text(since, "r-since-error").startswith("not an ISO date or date-time")
    assert "12345678" not in _text(since, "r-since-error")
    assert pasted.status_code == 422
    assert _text(pasted, "r-since-error") == "this looks like a BSN: search by BSN instead"
    assert "123456782" not in pasted.text
    assert _text(dutch, "r-source-error") == "geen bron van invoer; kies uit http, cli, amqp, demo"
    assert "pigeon" not in dutch.text


async def test_the_dashboard_counts_the_last_24_hours_for_an_all_cluster_reader(
    engine: Engine,
) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        start = await vera.get("/")
        polled = await vera.get("/dashboard/figures")
    assert start.status_code == polled.status_code == 200
    assert _text(start, "rejected-lately") == "Rejected input, last 24 h: 2"
    assert 'href="/rejected?since=24h"' in start.text
    # Refreshed with the tiles' figures, swapped by its id.
    assert re.search(r'id="rejected-lately"[^>]*hx-swap-oob="true"', polled.text)
    assert _text(polled, "rejected-lately") == "Rejected input, last 24 h: 2"
    async with signed_in(engine, "vera.nl@example.org", Grant(Role.VIEWER), lang="nl") as nl:
        dutch = await nl.get("/")
    assert _text(dutch, "rejected-lately") == "Geweigerde invoer, laatste 24 uur: 2"


async def test_the_dashboard_leaves_the_count_out_for_a_one_cluster_reader(
    engine: Engine,
) -> None:
    async with signed_in(engine, "vic@example.org", Grant(Role.VIEWER, "CARD")) as vic:
        start = await vic.get("/")
        polled = await vic.get("/dashboard/figures")
    assert start.status_code == polled.status_code == 200
    assert 'id="tile-lab-west"' in start.text  # the dashboard itself is there
    for answer in (start, polled):
        assert "rejected-lately" not in answer.text and "/rejected" not in answer.text


# Lower-case patient names sent as keys: of the schemas' own snake_case shape, never shown.
NAME_LIKE_KEYS = ("jansen", "de_vries", "van_dijk")


async def test_the_pages_name_no_key_that_could_be_a_patients_name(engine: Engine) -> None:
    event = load_sample("referral")
    event["jansen"] = "Jan"  # at the top, nested, inside a list
    event["patient"]["name"]["de_vries"] = "Jan"
    event["questions"][0]["van_dijk"] = "Jan"
    event["bsn"] = event["patient"].pop("bsn")  # the schema's key at the wrong place
    event["patient"]["name"]["famliy"] = "Jansen"  # misspelt
    with pytest.raises(InvalidEvent) as refused:
        await engine.intake.submit(json.dumps(event), source="http")
    rejected_id = refused.value.rejected_id
    assert rejected_id is not None
    pages = {}
    for lang in ("en", "nl"):
        async with signed_in(
            engine, f"vera.{lang}@example.org", Grant(Role.VIEWER), lang=lang
        ) as vera:
            pages[lang] = (await vera.get("/rejected"), await vera.get(f"/rejected/{rejected_id}"))
    for listing, one in pages.values():
        assert listing.status_code == one.status_code == 200
        assert "<li><code>questions[0].…</code> " in listing.text  # its rule said after it
        assert "<li><code>bsn</code> " in listing.text
        assert "<code>patient.name.…</code>" in one.text
        for key in (*NAME_LIKE_KEYS, "famliy"):
            assert key not in listing.text and key not in one.text
    assert "is not a field here; the schema has it at patient.bsn" in pages["en"][1].text
    assert "is not a known field; did you mean family?" in pages["en"][1].text
    assert "is hier geen veld; het schema heeft het bij patient.bsn" in pages["nl"][1].text
    assert "is geen bekend veld; bedoel je family?" in pages["nl"][1].text
