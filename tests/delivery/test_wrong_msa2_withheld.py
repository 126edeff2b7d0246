"""What a receiver puts in MSA-2 stays out of the log, the error and the listings.

A receiver that answers with the wrong field in MSA-2 (``MSA|AA|BSN999990019-JanvdBerg``) made
the error ``AckControlIdMismatch: MSA-2 'BSN999990019-JanvdBerg' does not match …``: in the
engine's info log, in ``last_error`` of ``messages list``, ``deadletter list`` and
``GET /api/v1/messages``, none of which records a view of patient data. The error now says
MSA-2's length; the ACK as received stays with the attempt, for the audited detail.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.mllp import frame
from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.ack_reason import short_reason
from integrator.engine import Engine
from tests.cli_in_process import run_cli
from tests.http.support import api_client, token_for
from tests.integrator.support import engine_giving_up_at_once

MSA_2 = "BSN999990019-JanvdBerg"
PATIENT = ("999990019", "JanvdBerg")


class WrongFieldReceiver(MllpReceiver):
    """Accepts every message, with the patient's id where MSA-2 should name the message."""

    def _answer(self, message: bytes) -> tuple[bytes, bytes]:
        self.received.append(message)
        ack = f"MSH|^~\\&|HIS|ZN|INT||20261127120000+0100||ACK|R1|P|2.5.1\rMSA|AA|{MSA_2}\r"
        return frame(ack.encode()), b""


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with (
        WrongFieldReceiver() as receiver,
        engine_giving_up_at_once(tmp_path, receiver) as started,
    ):
        yield started


async def test_a_wrong_msa2_is_said_by_its_length_and_kept_only_in_the_ack(
    engine: Engine, referral_data: dict[str, Any], tmp_path: Path
) -> None:
    with capture_logs() as logs:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
    [message] = result.messages
    stored = await engine.store.get_message(message.message_id)
    assert stored is not None and stored.status == "dead"
    said = (
        f"AckControlIdMismatch: MSA-2 (length {len(MSA_2)}) does not match the MSH-10 sent "
        f"'{stored.control_id}'; gave up after 1 attempts (max_attempts 1)"
    )

    [failed] = [e for e in logs if e["event"] == "message dead-lettered"]
    assert failed["reason"] == said
    assert not any(value in repr(logs) for value in PATIENT), logs
    assert stored.last_error == said
    [attempt] = await engine.store.list_attempts(message.message_id)
    assert attempt.ack_code == "AA" and attempt.ack_bytes is not None
    assert MSA_2.encode() in attempt.ack_bytes  # the ACK as received, for the audited detail

    viewer = await token_for(engine, Grant(Role.VIEWER), name="viewer")
    async with api_client(engine, viewer) as api:
        listed = await api.get("/api/v1/messages")
        dead = await api.get("/api/v1/deadletters")
    assert listed.status_code == 200 and dead.status_code == 200
    assert [row["last_error"] for row in listed.json()] == [said]
    for answer in (listed, dead):
        assert not any(value in answer.text for value in PATIENT), answer.text
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    async with api_client(engine, support) as api:
        detail = await api.get(f"/api/v1/messages/{message.message_id}")
    assert detail.status_code == 200
    assert MSA_2 in detail.json()["attempt_history"][0]["ack"]

    env = {  # the engine's store, read as the CLI on its machine reads it
        "INTEGRATOR_DATABASE_URL": engine.settings.database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(engine.settings.destinations_dir),
    }
    for listing in (["messages", "list", "--json"], ["deadletter", "list", "--json"]):
        # A thread: the command runs its own event loop, and this test is inside one.
        shown = await asyncio.to_thread(run_cli, *listing, env=env)
        assert shown.returncode == 0, shown.stderr
        assert not any(value in shown.stdout for value in PATIENT), shown.stdout
        assert said in shown.stdout, shown.stdout
    # The audited detail as text: the error sends support to "the ACK as received", which
    # ``messages show`` printed only with --json (destinations/README.md says it prints it).
    shown = await asyncio.to_thread(run_cli, "messages", "show", message.message_id, env=env)
    assert shown.returncode == 0, shown.stderr
    ack_lines = shown.stdout.split("ACK of attempt 1, as received:\n", 1)[1].splitlines()
    assert ack_lines[:2] == [
        "MSH|^~\\&|HIS|ZN|INT||20261127120000+0100||ACK|R1|P|2.5.1",
        f"MSA|AA|{MSA_2}",
    ]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            f"AckControlIdMismatch: MSA-2 '{MSA_2}' does not match the MSH-10 sent 'C1'",
            f"AckControlIdMismatch: MSA-2 (length {len(MSA_2)}) does not match the MSH-10 "
            "sent 'C1'",
        ),
        (
            "AckControlIdMismatch: MSA-2 '' does not match the MSH-10 sent 'C1'; gave up after "
            "5 attempts (max_attempts 5)",
            "AckControlIdMismatch: MSA-2 (length 0) does not match the MSH-10 sent 'C1'; gave "
            "up after 5 attempts (max_attempts 5)",
        ),
        (  # cut at 40 characters by the engine that wrote it
            f"AckControlIdMismatch: MSA-2 '{(MSA_2 * 2)[:40]}...' does not match the MSH-10 "
            "sent 'C1'",
            "AckControlIdMismatch: MSA-2 (length 41+) does not match the MSH-10 sent 'C1'",
        ),
        (
            "AckControlIdMismatch: MSA-2 \"Jansen's BSN\" does not match the MSH-10 sent 'C1'",
            "AckControlIdMismatch: MSA-2 (length 12) does not match the MSH-10 sent 'C1'",
        ),
    ],
)
def test_a_wrong_msa2_an_earlier_engine_quoted_is_listed_by_its_length(
    stored: str, shown: str
) -> None:
    """Errors stored before this change quote MSA-2; listings show them as errors read now."""
    assert short_reason(stored) == shown
