"""``POST /api/v1/messages/{id}/try-now`` and ``/destinations/{id}/try-now``: the rule is
``integrator.try_now``'s (tested there); here what each refusal answers in HTTP, and that the
caller's identity and reason reach the audit trail, over the real application and engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.http.support import api_client, token_for
from tests.integrator.test_operators import events
from tests.integrator.test_try_now import engine_running, waiting

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver(ack_code="AE") as started:
        yield started


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    async with engine_running(tmp_path, receiver, "fifo") as started:
        yield started


async def test_a_waiting_retry_is_tried_now_under_the_callers_name(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    [message_id] = await waiting(engine, 1)
    receiver.ack_code = "AA"
    token = await token_for(engine, Grant(Role.RESEND, "CARD"), name="helpdesk")
    async with api_client(engine, token) as api:
        answer = await api.post(
            f"/api/v1/messages/{message_id}/try-now",
            headers={"x-integrator-reason": "GP belde: ontvanger weer in de lucht"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "destination": "noord",
            "messages": [message_id],
            "due_already": [],
        }
        assert await engine.wait_settled(timeout=20)
        again = await api.post(f"/api/v1/messages/{message_id}/try-now")
        assert again.status_code == 409
        assert again.json()["detail"] == (
            "status: the message's status is delivered; only a message waiting for its next "
            "attempt (retrying) can be tried now; resend it instead"
        )
        nothing = await api.post("/api/v1/destinations/noord/try-now")
        assert (nothing.status_code, nothing.json()["messages"]) == (200, [])
    [entry] = await engine.store.list_audit(AuditFilter(action="message.try_now"))
    assert entry.actor == "token:helpdesk"  # who asked, as authenticated
    assert entry.reason == "GP belde: ontvanger weer in de lucht"
    # Nothing was waiting: done all the same, so recorded, as who asked.
    [empty] = await engine.store.list_audit(AuditFilter(action="destination.try_now"))
    assert (empty.actor, empty.target) == ("token:helpdesk", "noord")
    assert empty.details["messages"] == [] and empty.details["nothing_waiting"] is True


@pytest.mark.parametrize(
    ("grant", "status"),
    [
        (Grant(Role.RESEND, "LAB"), 404),  # another cluster's support: as unknown
        (Grant(Role.VIEWER, "CARD"), 403),  # sees it, may not
    ],
)
async def test_who_may_not_is_refused_and_nothing_is_done(
    engine: Engine, referral_data: dict[str, Any], grant: Grant, status: int
) -> None:
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    [message_id] = await waiting(engine, 1)
    async with api_client(engine, await token_for(engine, grant)) as api:
        one = await api.post(f"/api/v1/messages/{message_id}/try-now")
        every = await api.post("/api/v1/destinations/noord/try-now")
    assert (one.status_code, every.status_code) == (status, status)
    if status == 404:
        assert one.json()["detail"] == "no message with that id"
        assert every.json()["detail"] == "no destination with that id"
    message = await engine.store.get_message(message_id)
    assert message is not None and message.status == "retrying"
    assert message.attempt_count == 1
    assert await engine.store.list_audit(AuditFilter(action="message.try_now")) == []


async def test_unknown_ids_are_404(engine: Engine) -> None:
    async with api_client(engine) as api:
        assert (await api.post(f"/api/v1/messages/{UNKNOWN}/try-now")).status_code == 404
        assert (await api.post("/api/v1/destinations/nergens/try-now")).status_code == 404
