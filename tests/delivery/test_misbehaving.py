"""End to end (engine + real sockets) against a receiver that misbehaves in every known way.

Each test asserts the message's final status, its attempt history, and that no ACK was ever
taken as the answer to another message than the one it names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import assert_acks_matched, messages, start_engine, submit


async def _attempts(engine: Any, message_id: str) -> list[tuple[str, str | None, str]]:
    return [
        (a.outcome, a.ack_code, (a.error or "").split(":", 1)[0])
        for a in await engine.store.list_attempts(message_id)
    ]


@pytest.mark.parametrize(
    ("script", "first_attempt"),
    [
        (["refuse"], ("failed", None, "ConnectionLost")),
        (["close_mid_frame"], ("failed", None, "ConnectionLost")),
        (["delay:0.5"], ("failed", None, "AckTimeout")),
        (["drop"], ("failed", None, "AckTimeout")),
        (["AE"], ("retry", "AE", "ACK AE")),
        (["wrong_id"], ("failed", "AA", "AckControlIdMismatch")),
        (["garbage"], ("failed", None, "MalformedAck")),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
async def test_a_failed_attempt_is_retried_with_the_same_control_id(
    tmp_path: Path,
    referral_data: dict[str, Any],
    script: list[str],
    first_attempt: tuple[str, str | None, str],
) -> None:
    async with MisbehavingReceiver(script) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            ids = await submit(engine, referral_data, 2)
            assert await engine.wait_settled(timeout=10)
            first, second = await messages(engine, ids)
            assert first.status == second.status == "delivered"
            assert await _attempts(engine, first.id) == [first_attempt, ("delivered", "AA", "")]
            assert await _attempts(engine, second.id) == [("delivered", "AA", "")]
            # The retry carried the same MSH-10; the receiver saw nothing else.
            seen = receiver.received_ids()
            assert set(seen) <= {first.control_id, second.control_id}
            assert seen.count(second.control_id) == 1
            if first_attempt[0] == "failed":  # the retry went over a fresh connection
                tries = [r.connection for r in receiver.log if r.control_id == first.control_id]
                assert len(set(tries)) == len(tries)
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("unframed", r"\d+ bytes came outside an MLLP frame \(no 0x0B start block before them\)"),
        ("unended", r"an MLLP frame of \d+ bytes began but never ended \(no 0x1C 0x0D end block\)"),
    ],
)
async def test_an_answer_framed_wrongly_is_named_not_called_silence(
    tmp_path: Path, referral_data: dict[str, Any], behaviour: str, said: str
) -> None:
    """A receiver that answers without MLLP's frame (a common setup mistake) was recorded as
    "no ACK within 1s" on every attempt, and its dead letter blamed a receiver that had
    answered within a millisecond."""
    async with MisbehavingReceiver([behaviour]) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            [message_id] = await submit(engine, referral_data, 1)
            assert await engine.wait_settled(timeout=10)
            first, second = await engine.store.list_attempts(message_id)
            assert first.outcome == "failed" and first.error is not None
            assert re.fullmatch(r"AckTimeout: no ACK within \S+s: " + said, first.error)
            assert second.outcome == "delivered"
        finally:
            await engine.stop()


async def test_reject_is_a_dead_letter_and_the_others_go_on(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["AR"]) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            ids = await submit(engine, referral_data, 2)
            assert await engine.wait_settled(timeout=10)
            first, second = await messages(engine, ids)
            assert (first.status, second.status) == ("dead", "delivered")
            assert await _attempts(engine, first.id) == [("deadletter", "AR", "ACK AR")]
            assert first.last_error is not None and first.last_error.startswith("ACK AR")
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


async def test_on_error_deadletter_makes_ae_final(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["AE"]) as receiver:
        retry = {"initial": "20ms", "max_delay": "50ms", "on_error": "deadletter"}
        engine = await start_engine(tmp_path, receiver.port, retry=retry)
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=10)
            [message] = await messages(engine, [message_id])
            assert message.status == "dead"
            assert await _attempts(engine, message_id) == [("deadletter", "AE", "ACK AE")]
        finally:
            await engine.stop()


async def test_two_acks_for_one_message_never_answer_the_next(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["double", "double"]) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            ids = await submit(engine, referral_data, 3)
            assert await engine.wait_settled(timeout=10)
            assert [m.status for m in await messages(engine, ids)] == ["delivered"] * 3
            for message_id in ids:
                assert await _attempts(engine, message_id) == [("delivered", "AA", "")]
            await assert_acks_matched(engine, ids)
            # The surplus ACK made the connection stale: each message after it got a new one.
            assert [r.connection for r in receiver.log] == [0, 1, 2]
        finally:
            await engine.stop()


async def test_receiver_reading_byte_by_byte_gets_everything(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(byte_by_byte=True) as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="5s")
        try:
            ids = await submit(engine, referral_data, 2)
            assert await engine.wait_settled(timeout=20)
            found = await messages(engine, ids)
            assert [m.status for m in found] == ["delivered", "delivered"]
            assert receiver.received_ids() == [m.control_id for m in found]
            assert receiver.connections == 1
        finally:
            await engine.stop()


async def test_exhausted_retries_dead_letter_with_the_last_reason(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(default="drop") as receiver:
        retry = {"initial": "10ms", "max_delay": "20ms", "max_attempts": 3}
        engine = await start_engine(tmp_path, receiver.port, retry=retry, ack_timeout="100ms")
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=10)
            [message] = await messages(engine, [message_id])
            assert message.status == "dead" and message.attempt_count == 3
            assert message.last_error is not None
            assert message.last_error.startswith("AckTimeout")
            assert "gave up after 3 attempts (max_attempts 3)" in message.last_error
            assert receiver.received_ids() == [message.control_id] * 3
        finally:
            await engine.stop()
