"""The console's batches that run in their request (a search's messages, ticked dead letters)
and a person's access changed while they run, or since.

A batch is checked when its confirmation is posted, then resends chunk by chunk or discards
one by one. A person deactivated, or whose role or cluster is taken away, in the middle stops
it at the next chunk, as a job of the API stops (``message_service.still_permitted``), and the
result says what was done and why it stopped. Its result page is kept for hours: its rows
(message ids, ZD numbers, destinations) are shown again only to who still holds the action's
permission in every cluster it was written for, as ``GET /api/v1/jobs/{id}`` reads a job.

Request by request, no browser; the access is changed from a hook between two chunks, as the
job tests do (``tests/http/test_job_starter_stops.py``).
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from destinations.worker import OutboundMessage
from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.console.test_saved_searches import post, signed_in
from tests.http.support import MAKER
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

ZD = "ZD300000001"
STOPPED = "stopped after 1 of 2: you may no longer"
WITHHELD_RESEND = "What was resent is not shown"
WITHHELD_DISCARD = "What was discarded is not shown"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``noord`` in cluster CARD, where the batches act, and ``zuid`` in PULM, a second cluster
    a person may hold beside it. Nothing answers at either port: the resends stay queued."""
    configs = [
        ("noord.yaml", destination("noord", 2575, providers=["ziekenhuis-noord"])),
        ("zuid.yaml", destination("zuid", 2576, providers=["ziekenhuis-zuid"], cluster="PULM")),
    ]
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog(configs, today=date(2026, 11, 27)),
    )
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def _messages(engine: Engine, status: str) -> list[str]:
    """Two messages to ``noord`` (cluster CARD) of the referral ``ZD``, in ``status``."""
    made = []
    for _ in range(2):
        message = make_message(destination_id="noord")
        assert await engine.store.accept_event(make_event(zd_number=ZD), [message])
        await engine.store.set_status(message.id, status)
        made.append(message.id)
    return made


def _form(page: httpx.Response) -> dict[str, list[str]]:
    """The hidden fields of a confirmation's form (its one-time token, the ids...)."""
    assert page.status_code == 200, page.text
    found: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(page.text):
        if name != "csrf":
            found.setdefault(name, []).append(html.unescape(value))
    assert found.get("once"), page.text
    return found


def _between_chunks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[Any]]
) -> None:
    """Resends one chunk at a time, and ``change`` the access after the first chunk's commit
    (as it is published, before the next chunk is asked about)."""
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 1)
    publish = engine.publish
    changed: list[bool] = []

    async def changed_then_published(messages: list[OutboundMessage], **kw: Any) -> bool:
        if not changed:
            changed.append(True)
            await change()
        return await publish(messages, **kw)

    monkeypatch.setattr(engine, "publish", changed_then_published)


async def _resent(engine: Engine, ids: list[str]) -> list[int]:
    return sorted([len((await engine.store.list_resends(m))[1]) for m in ids])


async def _result(engine: Engine, email: str, done: httpx.Response) -> Any:
    """The result the confirmation that ``done`` redirected to keeps, read from the store."""
    assert done.status_code == 303, done.text
    confirmation_id = done.headers["location"].rsplit("/", 1)[1].split("?")[0]
    person = await engine.store.get_person(email=email)
    assert person is not None
    row = await engine.store.get_confirmation(
        confirmation_id, person_id=person.id, now=engine.clock.now()
    )
    assert row is not None
    return row.result


async def test_a_search_s_resend_stops_at_the_next_chunk_once_the_cluster_is_taken_away(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _messages(engine, "delivered")
    email = "sam.stops@example.org"
    grants = (Grant(Role.RESEND, "CARD"), Grant(Role.RESEND, "PULM"))
    async with signed_in(engine, email, *grants) as sam:
        form = _form(await post(sam, "/messages/resend/confirm", {"zd_number": ZD}))
        assert sorted(form["ids"]) == sorted(ids)

        async def card_taken() -> None:
            await engine.access.deactivate_role(
                MAKER, email, Role.RESEND, "CARD", reason="moved to another team"
            )

        _between_chunks(engine, monkeypatch, card_taken)
        done = await post(sam, "/messages/resend", {**form, "reason": "GP called"})
        result = await _result(engine, email, done)
        assert [r["outcome"] for r in result["rows"]] == ["resent"]
        assert result["stopped"]["code"] == "job.stopped.resend"
        assert await _resent(engine, ids) == [0, 1]  # the second not resent under their name

        # Still resending in PULM, they read the page: why it stopped, not what it named.
        page = await sam.get(done.headers["location"])
        assert page.status_code == 200, page.text
        shown = html.unescape(page.text)
        assert STOPPED + " resend these messages" in shown
        assert WITHHELD_RESEND in shown
        for message_id in ids:
            assert message_id[:8] not in shown
        assert 'href="/messages?' not in page.text  # nor the search it came from


async def test_ticked_dead_letters_stop_being_resent_once_the_person_is_deactivated(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _messages(engine, "dead")
    email = "dana.deactivated@example.org"
    async with signed_in(engine, email, Grant(Role.RESEND, "CARD")) as dana:
        form = _form(await post(dana, "/deadletters/confirm", {"action": "resend", "ids": ids}))

        async def deactivated() -> None:
            await engine.access.deactivate_person(MAKER, email, reason="left the practice")

        _between_chunks(engine, monkeypatch, deactivated)
        done = await post(dana, "/deadletters/resend", {**form, "reason": "GP called"})
        result = await _result(engine, email, done)
    assert [r["outcome"] for r in result["rows"]] == ["resent"]
    assert result["stopped"]["code"] == "job.stopped.resend"
    assert result["stopped"]["values"] == {"done": 1, "total": 2}
    assert await _resent(engine, ids) == [0, 1]


async def test_ticked_dead_letters_stop_being_discarded_once_the_role_is_taken_away(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _messages(engine, "dead")
    email = "eva.discards@example.org"
    async with signed_in(engine, email, Grant(Role.RESEND, "CARD"), Grant(Role.VIEWER)) as eva:
        form = _form(await post(eva, "/deadletters/confirm", {"action": "discard", "ids": ids}))
        module = importlib.import_module("deadletter.letters")
        monkeypatch.setattr(module, "ASK_EVERY", 1)  # asked before each after the first
        discard = module.discard

        taken: list[bool] = []

        async def role_taken_after_the_first(*args: Any, **kw: Any) -> Any:
            done = await discard(*args, **kw)
            if not taken:
                taken.append(True)
                await engine.access.deactivate_role(
                    MAKER, email, Role.RESEND, "CARD", reason="no longer on support"
                )
            return done

        monkeypatch.setattr(module, "discard", role_taken_after_the_first)
        done = await post(eva, "/deadletters/discard", {**form, "reason": "faxed instead"})
        result = await _result(engine, email, done)
        assert [r["outcome"] for r in result["rows"]] == ["discarded"]
        assert result["stopped"]["code"] == "job.stopped.discard"
        stored = [await engine.store.get_message(m) for m in ids]
        assert sorted(m.status for m in stored if m is not None) == ["cancelled", "dead"]

        # A viewer still, they read the page: why it stopped, not what it named.
        page = await eva.get(done.headers["location"])
        assert page.status_code == 200, page.text
        shown = html.unescape(page.text)
        assert STOPPED + " discard these dead letters" in shown
        assert WITHHELD_DISCARD in shown
        for message_id in ids:
            assert message_id[:8] not in shown


async def test_a_result_page_shows_its_rows_only_while_its_reader_still_may(
    engine: Engine,
) -> None:
    ids = await _messages(engine, "delivered")
    email = "bram.reads@example.org"
    async with signed_in(engine, email, Grant(Role.RESEND), lang="nl") as bram:
        form = _form(await post(bram, "/messages/resend/confirm", {"zd_number": ZD}))
        done = await post(bram, "/messages/resend", {**form, "reason": "GP called"})
        assert done.status_code == 303, done.text
        before = await bram.get(done.headers["location"])
        assert before.status_code == 200, before.text
        for message_id in ids:
            assert f'href="/messages/{message_id}"' in before.text
        assert "batch-withheld" not in before.text
        assert "batch-stopped" not in before.text  # it ran to its end

        # Their grant narrowed to CARD: the result was written for every cluster's sight.
        await engine.access.set_grants(
            MAKER, email, [Grant(Role.RESEND, "CARD")], reason="one cluster only"
        )
        after = await bram.get(done.headers["location"])
        assert after.status_code == 200, after.text
        assert "Wat herzonden is, wordt niet getoond" in html.unescape(after.text)
        for message_id in ids:
            assert message_id[:8] not in after.text
        assert ZD not in after.text
    assert await _resent(engine, ids) == [1, 1]
