"""What a receiver writes in its ACK is shown only to who may read patient data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.mllp import frame
from destinations.receiver import MllpReceiver, build_ack
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.presenters import short_reason
from integrator.search import to_csv
from tests.http.support import api_client, token_for
from tests.integrator.support import engine_giving_up_at_once

# A receiver that explains its refusal in its own words, naming the patient.
RECEIVER_TEXT = "Patient Jansen 999990019 onbekend in HIS"
SHORT = "ACK AE (receiver's text withheld); gave up after 1 attempts (max_attempts 1)"


class TalkativeReceiver(MllpReceiver):
    def _answer(self, message: bytes) -> tuple[bytes, bytes]:
        self.received.append(message)
        return frame(build_ack(message, "AE", text=RECEIVER_TEXT)), b""


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with (
        TalkativeReceiver() as receiver,
        engine_giving_up_at_once(tmp_path, receiver) as started,
    ):
        yield started


@pytest.fixture
async def dead_id(engine: Engine, referral_data: dict[str, Any]) -> str:
    result = await engine.intake.submit(json.dumps(referral_data), source="cli")
    assert await engine.wait_settled(timeout=10)
    [message] = result.messages
    stored = await engine.store.get_message(message.message_id)
    assert stored is not None and stored.status == "dead"
    assert RECEIVER_TEXT in (stored.last_error or "")  # stored in full
    return message.message_id


async def test_listings_and_dead_letters_show_the_code_without_the_receivers_words(
    engine: Engine, dead_id: str
) -> None:
    viewer = await token_for(engine, Grant(Role.VIEWER), name="viewer")
    async with api_client(engine, viewer) as api:
        listed = await api.get("/api/v1/messages")
        dead = await api.get("/api/v1/deadletters")
        detail = await api.get(f"/api/v1/messages/{dead_id}")
    assert listed.status_code == 200 and dead.status_code == 200
    [row] = listed.json()
    assert row["last_error"] == SHORT
    [letter] = dead.json()
    assert letter["reason"] == SHORT and letter["last_ack_code"] == "AE"
    for answer in (listed, dead, detail):
        assert "Jansen" not in answer.text and "999990019" not in answer.text
    assert detail.status_code == 403  # the detail needs patient_data.read


async def test_the_detail_shows_the_ack_in_full_to_who_may_read_patient_data(
    engine: Engine, dead_id: str
) -> None:
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    async with api_client(engine, support) as api:
        detail = await api.get(f"/api/v1/messages/{dead_id}")
        searched = await api.post("/api/v1/messages/search", json={"bsn": "999990019"})
    assert detail.status_code == 200
    body = detail.json()
    assert RECEIVER_TEXT in body["last_error"]
    [attempt] = body["attempt_history"]
    assert attempt["ack_code"] == "AE" and RECEIVER_TEXT in attempt["ack"]
    assert attempt["ack_withheld"] is False and RECEIVER_TEXT in attempt["error"]
    [row] = searched.json()  # a listing, even for support
    assert row["last_error"] == SHORT


async def test_csv_reports_hold_the_code_only(engine: Engine, dead_id: str) -> None:
    message = await engine.store.get_message(dead_id)
    assert message is not None
    report = to_csv([message])
    assert SHORT in report and "Jansen" not in report


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (None, None),
        ("ACK AE", "ACK AE"),
        ("ACK AR: Jansen: ERR 207", "ACK AR (receiver's text withheld)"),
        (
            "ACK AE: a; b; gave up after 3 attempts (max_age 3600s reached)",
            "ACK AE (receiver's text withheld); gave up after 3 attempts (max_age 3600s reached)",
        ),
        ("ConnectFailed: connection refused", "ConnectFailed: connection refused"),
    ],
)
def test_short_reason(error: str | None, shown: str | None) -> None:
    assert short_reason(error) == shown
