"""Ordering (fifo, rotate), parallel connections, rate limit, pause, enhanced mode: end to end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from destinations.ack import read_msh
from destinations.config import DestinationFileError
from destinations.receiver import MllpReceiver
from integrator.errors import InvalidEvent
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import (
    assert_acks_matched,
    events,
    fast_destination,
    messages,
    start_engine,
    submit,
)

SLOW_RETRY = {"initial": "300ms", "max_delay": "300ms", "max_attempts": 5, "max_age": "1h"}


async def _order(
    tmp_path: Path, referral_data: dict[str, Any], ordering: str
) -> tuple[list[str], list[str]]:
    async with MisbehavingReceiver(["AE"]) as receiver:
        # The order seen is the test: an ACK later than the tests' usual 200 ms on a loaded
        # machine made the engine send that message again, and it was seen twice.
        engine = await start_engine(
            tmp_path, receiver.port, ordering=ordering, retry=SLOW_RETRY, ack_timeout="5s"
        )
        try:
            ids = await submit(engine, referral_data, 3)
            assert await engine.wait_settled(timeout=10)
            found = await messages(engine, ids)
            assert [m.status for m in found] == ["delivered"] * 3
            await assert_acks_matched(engine, ids)
            return [m.control_id for m in found], receiver.received_ids()
        finally:
            await engine.stop()


async def test_fifo_failing_message_holds_the_ones_behind_it(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    (a, b, c), seen = await _order(tmp_path, referral_data, "fifo")
    assert seen == [a, a, b, c]


async def test_rotate_failing_message_goes_to_the_back(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    (a, b, c), seen = await _order(tmp_path, referral_data, "rotate")
    assert seen == [a, b, c, a]


async def test_rotate_keeps_retrying_until_dead(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["AE", "ok", "AE", "AE"]) as receiver:
        retry = {"initial": "20ms", "max_delay": "20ms", "max_attempts": 3, "max_age": "1h"}
        engine = await start_engine(tmp_path, receiver.port, ordering="rotate", retry=retry)
        try:
            # Both queued at once: submitted one by one, a slow machine could retry the first
            # (20 ms) before the second was queued, and the script's answers would shift.
            results = await engine.intake.submit_many(events(referral_data, 2), source="cli")
            accepted = [r for r in results if not isinstance(r, InvalidEvent)]
            assert len(accepted) == 2
            first, second = [m.message_id for r in accepted for m in r.messages]
            assert await engine.wait_settled(timeout=10)
            m1, m2 = await messages(engine, [first, second])
            assert (m1.status, m1.attempt_count) == ("dead", 3)
            assert "max_attempts 3" in (m1.last_error or "")
            assert (m2.status, m2.attempt_count) == ("delivered", 1)
            attempts = await engine.store.list_attempts(first)
            assert [a.number for a in attempts] == [1, 2, 3]
        finally:
            await engine.stop()


async def test_parallel_connections_share_the_queue(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(default="delay:0.1") as receiver:
        engine = await start_engine(
            tmp_path, receiver.port, connections=3, ordering="rotate", ack_timeout="2s"
        )
        try:
            ids = await submit(engine, referral_data, 6)
            assert await engine.wait_settled(timeout=10)
            assert [m.status for m in await messages(engine, ids)] == ["delivered"] * 6
            assert {r.connection for r in receiver.log} == {0, 1, 2}
            assert sorted(receiver.received_ids()) == sorted(
                m.control_id for m in await messages(engine, ids)
            )
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


def test_parallel_connections_with_fifo_are_refused() -> None:
    with pytest.raises(DestinationFileError, match="ordering: must be rotate"):
        fast_destination(2575, connections=2)


async def test_rate_limit_spaces_the_sends(tmp_path: Path, referral_data: dict[str, Any]) -> None:
    async with MllpReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, rate_limit=20.0)
        try:
            started = time.monotonic()
            ids = await submit(engine, referral_data, 5)
            assert await engine.wait_settled(timeout=10, poll=0.01)
            elapsed = time.monotonic() - started
            assert [m.status for m in await messages(engine, ids)] == ["delivered"] * 5
            assert elapsed >= 4 / 20 * 0.9  # five sends at 20/s need four gaps of 50 ms
        finally:
            await engine.stop()


async def test_disabled_destination_keeps_messages_queued_until_enabled(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, enabled=False)
        try:
            ids = await submit(engine, referral_data, 2)
            assert not await engine.wait_settled(timeout=0.3)
            assert [m.status for m in await messages(engine, ids)] == ["queued", "queued"]
            assert receiver.received == []
        finally:
            await engine.stop()
        engine = await start_engine(tmp_path, receiver.port, enabled=True)
        try:
            assert await engine.wait_settled(timeout=10)
            sent = await messages(engine, ids)
            assert [m.status for m in sent] == ["delivered"] * 2
            # Each once, unless an ACK came later than the 200 ms this destination waits (a
            # loaded machine): then again, under the same MSH-10, as a retry is.
            assert {read_msh(m).control_id for m in receiver.received} == {
                m.control_id for m in sent
            }
        finally:
            await engine.stop()


async def test_enhanced_mode_end_to_end(tmp_path: Path, referral_data: dict[str, Any]) -> None:
    async with MllpReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_mode="enhanced")
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=10)
            [message] = await messages(engine, [message_id])
            msh = message.payload.split(b"\r", 1)[0].split(b"|")
            assert (msh[14], msh[15]) == (b"AL", b"NE")  # the engine's defaults
            assert message.status == "delivered"
            [attempt] = await engine.store.list_attempts(message_id)
            assert attempt.ack_code == "CA"  # MSH-16 NE: the commit ACK is final
        finally:
            await engine.stop()


@pytest.mark.parametrize(
    ("accept", "application", "answers"),
    [("AL", "AL", "CA/AA"), ("ER", "SU", "AA")],
)
async def test_configured_ack_types_go_on_the_wire_and_are_waited_for(
    tmp_path: Path, referral_data: dict[str, Any], accept: str, application: str, answers: str
) -> None:
    # The application ACK comes a while after the commit ACK: delivered only if it is awaited.
    async with MllpReceiver(application_delay=0.1) as receiver:
        engine = await start_engine(
            tmp_path,
            receiver.port,
            ack_mode="enhanced",
            accept_ack_type=accept,
            application_ack_type=application,
            # Far above the delay: with the suite's 200 ms, a loaded machine made the
            # application ACK late, and the retry sent the message twice; 2 s ran out too, at a
            # load average of 12.
            ack_timeout="10s",
        )
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=20)
            [message] = await messages(engine, [message_id])
            [received] = receiver.received
            msh = received.split(b"\r", 1)[0].split(b"|")
            assert (msh[14], msh[15]) == (accept.encode(), application.encode())
            assert message.status == "delivered"
            [attempt] = await engine.store.list_attempts(message_id)
            assert (attempt.outcome, attempt.ack_code) == ("delivered", answers)
            assert receiver.connection_count == 1  # no answer came out of turn
        finally:
            await engine.stop()
