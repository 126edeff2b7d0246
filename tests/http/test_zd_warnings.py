"""``POST /api/v1/events`` answers 202 with a warning when the event does not fit what was accepted
before under its ZD number (``integrator.zd_sequence``); the message detail shows it later."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx

from destinations.receiver import MllpReceiver
from integrator.engine import Engine


def copy_of(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    copied.update(changes)
    return copied


async def test_a_second_new_is_accepted_with_a_warning_naming_the_first(
    engine: Engine,
    api: httpx.AsyncClient,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
) -> None:
    first = await api.post("/api/v1/events", json=copy_of(referral_data))
    second = await api.post("/api/v1/events", json=copy_of(referral_data))
    assert first.status_code == second.status_code == 202, second.text
    assert first.json()["warnings"] == []
    body = second.json()
    [warning] = body["warnings"]
    assert warning.startswith("new_repeated: a new referral with this ZD number")
    assert f"in event {first.json()['event_id']}" in warning
    assert body["duplicate"] is False
    [message] = body["messages"]
    assert message["status"] == "queued"

    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 2  # both sent
    detail = await api.get(f"/api/v1/messages/{message['message_id']}")
    assert detail.status_code == 200, detail.text
    assert warning in detail.json()["warnings"]


async def test_a_cancel_of_nothing_is_accepted_with_a_warning(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    answer = await api.post(
        "/api/v1/events", json=copy_of(referral_data, zd_number="ZD500000001", action="cancel")
    )
    assert answer.status_code == 202, answer.text
    [warning] = answer.json()["warnings"]
    assert warning.startswith("cancel_without_new: ")
    assert "999990019" not in answer.text  # the answer names ids and rules, no patient
