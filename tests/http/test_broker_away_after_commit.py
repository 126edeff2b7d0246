"""Resends and routing commit, then publish: a broker away after the commit is no failure.

Answering those with a 500 invites a second request, and a second resend is a second copy at
the hospital. So the answer is the operation's own success, with a note that the messages are
stored and go out when delivery is back (``integrator.transport.committed``). The embedded
transport is never unavailable: its ``publish`` is patched, as in ``test_intake_answers.py``.
RabbitMQ's transport publishes such messages after its reconnect:
tests/transport/test_intake_broker_away.py.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http.errors import _answer_for
from integrator.store import MessageFilter
from integrator.store.records import ROUTE_ACTION
from integrator.transport import TransportUnavailable
from integrator.transport.committed import RESEND_AWAY, ROUTE_AWAY
from tests.http.conftest import BSN, submit
from tests.http.support import finished, serve_zuid_too
from tests.integrator.support import destination, settings_for

BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 deprecated, sunset 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)


def broker_away(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unavailable(messages: Sequence[OutboundMessage]) -> None:
        raise TransportUnavailable("no connection to the message broker")

    monkeypatch.setattr(engine._transport, "publish", unavailable)


def away_lines(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"].startswith("messages stored but not published")]


async def test_a_resend_stored_while_the_broker_is_away_is_answered_as_done_with_a_note(
    engine: Engine,
    api: httpx.AsyncClient,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = await submit(engine, referral_data)
    broker_away(engine, monkeypatch)
    with capture_logs() as logs:
        answer = await api.post(f"/api/v1/messages/{original}/resend", json={"reason": "GP"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["resent"] is True and body["note"] == RESEND_AWAY
    assert "no need to resend it again" in body["note"]
    _, resends = await engine.store.list_resends(original)
    assert [r.message_id for r in resends] == [body["message_id"]]  # recorded once
    stored = await engine.store.get_message(body["message_id"])
    assert stored is not None and stored.status == "queued"  # waiting for the broker
    [line] = away_lines(logs)
    assert line["log_level"] == "warning"
    assert (line["what"], line["resent"], line["messages"], line["error_type"]) == (
        "resend",
        1,
        1,
        "TransportUnavailable",
    )
    assert BSN not in str(logs) and original not in str(line)
    assert not any(e["event"] == "http request failed" for e in logs)
    assert len(receiver.received) == 1  # the original only


async def test_a_batch_resend_job_with_the_broker_away_is_done_with_the_note_per_message(
    engine: Engine,
    api: httpx.AsyncClient,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = await submit(engine, referral_data)
    broker_away(engine, monkeypatch)
    with capture_logs() as logs:
        job = await finished(
            api,
            await api.post("/api/v1/resend", json={"message_ids": [original], "reason": "GP"}),
        )
    [result] = job["results"]
    assert result["outcome"] == "resent" and result["note"] == RESEND_AWAY
    _, resends = await engine.store.list_resends(original)
    assert [r.message_id for r in resends] == [result["message_id"]]
    assert len(away_lines(logs)) == 1


async def test_routing_an_event_while_the_broker_is_away_is_done_with_a_note(
    engine: Engine,
    api: httpx.AsyncClient,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = copy.deepcopy(referral_data)
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = "ziekenhuis-zuid"  # served by no destination yet: unrouted
    accepted = await engine.intake.submit(json.dumps(data), source="http")
    assert accepted.messages == ()
    await serve_zuid_too(engine, receiver.port)
    broker_away(engine, monkeypatch)
    with capture_logs() as logs:
        job = await finished(
            api,
            await api.post(
                "/api/v1/events/route", json={"event_ids": [accepted.event_id], "reason": "zuid"}
            ),
        )
    [routed] = job["results"]
    assert routed["routed"] is True and ROUTE_AWAY in routed["note"]
    assert "no need to route the event again" in routed["note"]
    [message] = routed["messages"]
    stored = await engine.store.list_messages(MessageFilter(event_id=accepted.event_id))
    assert [(m.id, m.status) for m in stored] == [(message["message_id"], "queued")]
    audit = await engine.store.list_audit(target=accepted.event_id)
    assert [a.action for a in audit] == [ROUTE_ACTION]  # routed once
    [line] = away_lines(logs)
    assert (line["what"], line["events"], line["messages"]) == ("route", 1, 1)
    assert BSN not in str(logs)


def test_the_transport_unavailable_before_a_commit_is_a_503_to_try_again() -> None:
    """Only raised before anything is stored (after it, the operations answer with a note):
    trying again later is then right, so it is no bare 500."""
    answer = _answer_for(TransportUnavailable("no connection to the message broker"))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert json.loads(bytes(answer.body))["detail"] == (
        "delivery is unavailable (the message broker is away or refuses messages); try again later"
    )


async def test_a_release_of_held_messages_while_the_broker_is_away_still_applies_the_change(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moving a destination off a retired version releases its held messages (committed), then
    publishes them: the broker away must not fail the change; one log line says so."""
    clock = ManualClock(BEFORE_SUNSET)  # configured while ref-v1 is only deprecated
    async with MllpReceiver() as receiver:
        old = destination(
            "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
        )
        engine = Engine(
            settings_for(tmp_path),
            clock=clock,
            catalog=build_catalog([("noord.yaml", old)], today=BEFORE_SUNSET.date()),
        )
        await engine.start()
        try:
            clock.set(AFTER_SUNSET)
            data = copy.deepcopy(referral_data)
            data["event_id"] = str(uuid.uuid4())
            [held] = (await engine.intake.submit(json.dumps(data), source="cli")).messages
            assert held.status == "held"
            broker_away(engine, monkeypatch)
            moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
            with capture_logs() as logs:
                await engine.apply_catalog(
                    build_catalog([("noord.yaml", moved)], today=AFTER_SUNSET.date())
                )
            stored = await engine.store.get_message(held.message_id)
            assert stored is not None and stored.status == "queued" and stored.version == "ref-v2"
            [line] = away_lines(logs)
            assert (line["what"], line["messages"]) == ("release", 1)
            assert BSN not in str(logs)
        finally:
            await engine.stop()
