"""What ``POST /api/v1/events`` answers once an event is committed: a duplicate's answer is the
stored event's, and a publish the transport could not make does not turn the 202 into a 500."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.engine import Engine
from integrator.store import MessageFilter
from integrator.transport import TransportUnavailable
from integrator.transport.committed import DELIVERY_AWAY
from tests.http.conftest import BSN


async def test_a_duplicate_with_another_zd_number_is_answered_with_the_stored_one(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    first = await api.post("/api/v1/events", json=referral_data)
    assert first.status_code == 202, first.text
    changed = copy.deepcopy(referral_data)
    changed["zd_number"] = "ZD100000099"
    again = await api.post("/api/v1/events", json=changed)
    assert again.status_code == 202, again.text
    body = again.json()
    assert body["duplicate"] is True
    assert body["event_id"] == referral_data["event_id"]
    assert body["zd_number"] == referral_data["zd_number"] != "ZD100000099"
    # The stored event's messages (their status may have moved on since: delivered).
    assert [m["message_id"] for m in body["messages"]] == [
        m["message_id"] for m in first.json()["messages"]
    ]
    [note] = [w for w in body["warnings"] if "differs" in w]
    assert "zd_number" in note and "not taken" in note
    stored = await engine.store.get_event(referral_data["event_id"])
    assert stored is not None and stored.zd_number == referral_data["zd_number"]


async def test_an_event_whose_publish_finds_the_transport_unavailable_is_accepted(
    engine: Engine,
    api: httpx.AsyncClient,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Committed, then the broker is away: 202 with a warning, not a 500 (the event is safe;
    RabbitMQ's transport publishes it once the link is back: tests/transport/
    test_intake_broker_away.py). The embedded transport is never unavailable: patched here."""

    async def unavailable(messages: Sequence[OutboundMessage]) -> None:
        raise TransportUnavailable("no connection to the message broker")

    monkeypatch.setattr(engine._transport, "publish", unavailable)
    with capture_logs() as logs:
        answer = await api.post("/api/v1/events", json=referral_data)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["duplicate"] is False and DELIVERY_AWAY in body["warnings"]
    [message] = body["messages"]
    assert message["status"] == "queued"
    stored = await engine.store.list_messages(MessageFilter(event_id=referral_data["event_id"]))
    assert [(m.id, m.status) for m in stored] == [(message["message_id"], "queued")]
    [line] = [e for e in logs if e["event"].startswith("messages stored but not published")]
    assert line["log_level"] == "warning"
    assert (line["events"], line["messages"], line["error_type"]) == (1, 1, "TransportUnavailable")
    assert BSN not in str(logs)
    assert not any(e["event"] == "http request failed" for e in logs)

    # Sent again (as an upstream system that was answered 500 would): a duplicate, no warning
    # about delivery (nothing was published for it now).
    again = await api.post("/api/v1/events", json=referral_data)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert DELIVERY_AWAY not in again.json()["warnings"]
    assert receiver.received == []


async def test_a_batch_counts_each_event_once_by_its_outcome(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """The accepted of a batch are counted together, after the loop over its outcomes: each
    once, beside its duplicates and rejections (``integrator_events``)."""

    def count(outcome: str) -> float:
        return float(engine.metrics.events.labels(outcome)._value.get())

    before = {o: count(o) for o in ("accepted", "duplicate", "rejected")}
    events = []
    for n in range(3):
        data = copy.deepcopy(referral_data)
        data["event_id"] = f"00000000-0000-4000-8000-00000000000{n}"
        data["zd_number"] = f"ZD10000010{n}"
        events.append(data)
    bad = {**copy.deepcopy(referral_data), "zd_number": "not a ZD number"}
    results = await engine.intake.submit_many([*events, events[0], bad], source="cli")
    assert len(results) == 5
    after = {o: count(o) - before[o] for o in before}
    assert after == {"accepted": 3, "duplicate": 1, "rejected": 1}


async def test_a_changed_copy_says_so_in_fields_a_program_reads(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """A cancel sent under its referral's ``event_id`` answered ``duplicate: true`` as an
    identical retry does, its warning prose without a rule: a client that reused an event_id
    per ZD number lost its cancels without noticing. ``changed`` and ``rejected_id`` tell the
    two apart, and the warning starts with its rule as the ZD warnings do."""
    assert (await api.post("/api/v1/events", json=referral_data)).status_code == 202
    retry = (await api.post("/api/v1/events", json=referral_data)).json()
    assert retry["duplicate"] is True
    assert retry["changed"] is False and retry["rejected_id"] is None
    cancel = await api.post("/api/v1/events", json={**referral_data, "action": "cancel"})
    assert cancel.status_code == 202, cancel.text
    body = cancel.json()
    assert body["duplicate"] is True and body["changed"] is True
    [note] = [w for w in body["warnings"] if "differs" in w]
    assert note.startswith("changed_duplicate: ") and "action" in note
    assert body["rejected_id"] is not None and body["rejected_id"] in note
    kept = await engine.store.get_rejected(body["rejected_id"])
    assert kept is not None
    assert [r["rule"] for r in kept.reason] == ["changed_duplicate"]


async def test_the_first_answer_s_messages_carry_the_zd_warning_as_a_repeat_s_do(
    api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """The first 202 had ``new_repeated`` only at its top level, the same event's repeat on its
    message too (as stored): one message, two stories."""
    assert (await api.post("/api/v1/events", json=referral_data)).status_code == 202
    second = {**referral_data, "event_id": "0b6a4d2e-6f1c-4c35-9d8e-2a7b5c000043"}
    first = (await api.post("/api/v1/events", json=second)).json()
    [found] = [w for w in first["warnings"] if w.startswith("new_repeated: ")]
    [message] = first["messages"]
    assert found in message["warnings"]
    again = (await api.post("/api/v1/events", json=second)).json()
    [repeated] = again["messages"]
    assert repeated["warnings"] == message["warnings"]


async def test_an_unrouted_event_s_answer_quotes_no_provider_id_and_names_no_command(
    api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """Upstream has written a name and birth date into ``provider.id`` (a BSN there is refused:
    ``provider_id_holds_bsn``): the answer echoed it back verbatim, with advice only an
    operator could follow (``integrator events route``)."""
    typed = "Jan Jansen 1961-04-12"
    unrouted = {**referral_data, "provider": {"id": typed, "name": "Elders"}}
    answer = await api.post("/api/v1/events", json=unrouted)
    assert answer.status_code == 202, answer.text
    assert "Jansen" not in answer.text and "1961" not in answer.text
    [note] = answer.json()["warnings"]
    assert "provider.id" in note and "do not send it again" in note
    assert "integrator" not in note


async def test_a_created_at_far_ahead_is_accepted_with_a_warning_kept_on_its_messages(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """A sender's clock years ahead put 2031 in RF1-7 without a word. Not a refusal (the
    contract does not forbid it); a day ahead is a sender's zone, and passes unremarked."""
    ahead = {**referral_data, "created_at": "2031-01-01T09:00:00+01:00"}
    answer = await api.post("/api/v1/events", json=ahead)
    assert answer.status_code == 202, answer.text
    [note] = [w for w in answer.json()["warnings"] if w.startswith("created_at_in_future: ")]
    assert "2031" not in note
    [message] = answer.json()["messages"]
    assert note in message["warnings"]
    [stored] = await engine.store.get_messages([message["message_id"]])
    assert note in stored.warnings
    tomorrow = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    close = {**referral_data, "event_id": str(uuid.uuid4()), "created_at": tomorrow}
    near = (await api.post("/api/v1/events", json=close)).json()
    assert not [w for w in near["warnings"] if "created_at" in w], near
