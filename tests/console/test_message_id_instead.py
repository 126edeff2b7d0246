"""A message's address given an event's or rejected input's id (copied from their pages, which
show ids as messages' are shown) said only "no message", as if nothing had that id: the page
says what the id is, with the way to it, as ``integrator messages show`` says it
(``message_reads.named_instead``), to who may look at it. Request by request, no browser."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message, typed_start

RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def test_an_event_s_or_rejected_input_s_id_is_said_with_the_way_to_it(
    engine: Engine,
) -> None:
    event = make_event()
    await engine.store.accept_event(event, [])  # no message: an unrouted event
    rejected = await engine.store.reject_event(json.dumps({"x": 1}).encode(), "http", RULES)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        as_event = await sam.get(f"/messages/{typed_start(event.id)}")
        as_rejected = await sam.get(f"/messages/{typed_start(rejected)}")
    async with signed_in(engine, "vic@example.org", Grant(Role.VIEWER), lang="nl") as vic:
        no_patient_data = await vic.get(f"/messages/{typed_start(event.id)}")
    async with signed_in(engine, "cas@example.org", Grant(Role.VIEWER, "CARD")) as cas:
        one_cluster = await cas.get(f"/messages/{typed_start(event.id)}")

    assert as_event.status_code == 404
    said = html.unescape(as_event.text)
    assert "This is an event's id, not a message's." in said
    assert f'href="/events/{event.id}"' in said
    assert f'href="/messages?event_id={event.id}"' in said
    assert as_rejected.status_code == 404
    assert "This is the id of rejected input, not of a message." in html.unescape(as_rejected.text)
    assert f'href="/rejected/{rejected}"' in as_rejected.text
    # Without patient data the event's page is closed to them: its messages, not the event.
    assert "Dit is het id van een gebeurtenis" in html.unescape(no_patient_data.text)
    assert f'href="/events/{event.id}"' not in no_patient_data.text
    assert f'href="/messages?event_id={event.id}"' in no_patient_data.text
    # Who does not read every cluster is not told what an id it could not look at names.
    assert one_cluster.status_code == 404
    assert "event's id" not in html.unescape(one_cluster.text)
    assert event.id not in one_cluster.text


async def test_an_msh_10_is_said_with_its_message_and_the_search_by_it(engine: Engine) -> None:
    """The MSH-10 a hospital reads out is hex digits too; pasted into a message's address it
    is said to be one, with the message sent with it and every message that has it."""
    message = make_message(control_id="1A2506E014A7293F52D")
    await engine.store.accept_event(make_event(), [message])
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        as_msh_10 = await sam.get("/messages/1a2506e014a7293f52d")
        searched = await sam.get("/messages?control_id=1A2506E014A7293F52D")
    async with signed_in(engine, "cas@example.org", Grant(Role.VIEWER, "CARD")) as cas:
        one_cluster = await cas.get("/messages/1A2506E014A7293F52D")

    assert as_msh_10.status_code == 404
    assert "This is an MSH-10, not a message's id." in html.unescape(as_msh_10.text)
    assert f'href="/messages/{message.id}"' in as_msh_10.text
    assert 'href="/messages?control_id=1A2506E014A7293F52D"' in as_msh_10.text
    assert searched.status_code == 200 and message.id[:8] in searched.text
    assert one_cluster.status_code == 404
    assert "MSH-10" not in one_cluster.text and message.id not in one_cluster.text
