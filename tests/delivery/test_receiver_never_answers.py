"""The engine against ``integrator receiver --no-answer`` and ``--delay``: the rehearsal of an
ACK that never comes, or comes too late, as docs/receivers.md (a first connection, step 8)
tells the hospital and the operator it goes.

Each attempt fails after the destination's ``ack_timeout`` (``AckTimeout: no ACK within …``),
the engine closes that connection and sends the message again on a new one with the same
MSH-10, and the last attempt makes it a dead letter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.store import AttemptRecord, MessageRecord
from tests.destinations.helpers import msh10
from tests.integrator.support import destination, engine_on_destinations, settings_for

RETRY = {"initial": "50ms", "max_delay": "50ms", "max_attempts": 2, "max_age": "1h"}


async def _sent_until_dead(
    tmp_path: Path, referral_data: dict[str, Any], receiver: MllpReceiver
) -> tuple[MessageRecord, list[AttemptRecord]]:
    """The referral sent to ``receiver`` by an engine waiting 300 ms for each ACK, two attempts
    at most: the message, dead, and its attempts."""
    config = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], ack_timeout="300ms", retry=RETRY
    )
    async with engine_on_destinations(settings_for(tmp_path), config) as engine:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=20)
        [message] = result.messages
        stored = await engine.store.get_message(message.message_id)
        attempts = await engine.store.list_attempts(message.message_id)
    assert stored is not None and stored.status == "dead"
    return stored, attempts


async def test_a_receiver_that_never_answers_gets_the_same_msh10_again_then_a_dead_letter(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(answering=False) as receiver:
        stored, attempts = await _sent_until_dead(tmp_path, referral_data, receiver)
    assert [(a.outcome, a.ack_code, a.error) for a in attempts] == [
        ("failed", None, "AckTimeout: no ACK within 0.3s"),
        (
            "deadletter",
            None,
            "AckTimeout: no ACK within 0.3s; gave up after 2 attempts (max_attempts 2)",
        ),
    ]
    assert all(a.duration_ms >= 300 for a in attempts)
    # Both copies reached the receiver, each on a connection of its own, with one MSH-10.
    assert receiver.connection_count == 2
    assert [msh10(m) for m in receiver.received] == [stored.control_id] * 2
    assert receiver.received[0] == receiver.received[1]


async def test_an_answer_later_than_ack_timeout_is_never_taken(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(answer_delay=0.6) as receiver:
        stored, attempts = await _sent_until_dead(tmp_path, referral_data, receiver)
    assert [a.outcome for a in attempts] == ["failed", "deadletter"]
    assert all(a.error and a.error.startswith("AckTimeout") for a in attempts)
    assert receiver.connection_count == 2
    assert [msh10(m) for m in receiver.received] == [stored.control_id] * 2
