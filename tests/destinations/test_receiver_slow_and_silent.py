"""The test receiver answering late (``answer_delay``) or never (``answering=False``).

An operator rehearsing a first connection could not make the receiver show the failure met
most in the field, an ACK that comes too late or not at all: they wrote a silent listener of
their own. Checked here with raw sockets (what arrives when) and with the engine's own client
and delivery worker (what the engine then does: the attempt fails after ``ack_timeout``, the
connection is closed, the next attempt goes on a new one with the same MSH-10, and the last
makes a dead letter).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations.ack import parse_ack
from destinations.client import MllpClient
from destinations.receiver import MllpReceiver
from destinations.retry import RetryPolicy
from destinations.worker import AckPolicy, AttemptResult, DeliveryWorker

from .helpers import FS_CR, VT, make_message, read_frame
from .test_skipped_frames import outbound

DELAY = 0.6


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


def test_a_delay_that_is_no_number_of_seconds_is_refused() -> None:
    for delay in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="answer_delay must be a finite number of seconds"):
            MllpReceiver(answer_delay=delay)


async def test_a_delayed_answer_comes_no_sooner_than_the_delay() -> None:
    async with MllpReceiver(answer_delay=DELAY) as receiver:
        reader, writer = await _connect(receiver.port)
        message = make_message("D1")
        sent = time.monotonic()
        writer.write(VT + message + FS_CR)
        await writer.drain()
        ack = await asyncio.wait_for(read_frame(reader), 5)
        waited = time.monotonic() - sent
        await _close(writer)
    assert waited >= DELAY, waited
    assert (parse_ack(ack).code, parse_ack(ack).control_id) == ("AA", "D1")
    assert receiver.received == [message]


async def test_the_message_is_taken_at_once_and_only_its_answer_waits() -> None:
    shown: list[bytes] = []
    async with MllpReceiver(answer_delay=DELAY, on_message=shown.append) as receiver:
        reader, writer = await _connect(receiver.port)
        writer.write(VT + make_message("D2") + FS_CR)
        await writer.drain()
        for _ in range(100):  # printed and counted long before its answer is due
            if shown:
                break
            await asyncio.sleep(0.01)
        assert len(shown) == 1 and receiver.message_count == 1
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(read_frame(reader), DELAY / 3)
        await _close(writer)


async def test_delayed_answers_keep_their_order_and_hold_up_no_other_connection() -> None:
    async with MllpReceiver(answer_delay=DELAY) as receiver:
        first_reader, first = await _connect(receiver.port)
        other_reader, other = await _connect(receiver.port)
        started = time.monotonic()
        # Three at once on one connection: each answered DELAY after it came, in order, not
        # DELAY after the one before it (3 * DELAY); the other connection's answer is not
        # queued behind them.
        first.write(b"".join(VT + make_message(f"P{i}") + FS_CR for i in range(3)))
        other.write(VT + make_message("Q0") + FS_CR)
        acks = [await asyncio.wait_for(read_frame(first_reader), 5) for _ in range(3)]
        other_ack = await asyncio.wait_for(read_frame(other_reader), 5)
        took = time.monotonic() - started
        await _close(first)
        await _close(other)
    assert [parse_ack(a).control_id for a in acks] == ["P0", "P1", "P2"]
    assert parse_ack(other_ack).control_id == "Q0"
    # Answered one after another, the third would come no sooner than 3 * DELAY.
    assert DELAY <= took < 3 * DELAY, took


async def test_a_silent_receiver_takes_the_message_and_keeps_the_connection_open(
    tmp_path: Path,
) -> None:
    shown: list[bytes] = []
    async with MllpReceiver(
        answering=False, save_dir=tmp_path / "inbox", on_message=shown.append
    ) as receiver:
        reader, writer = await _connect(receiver.port)
        message = make_message("N1")
        writer.write(VT + message + FS_CR)
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.5)  # not a byte back
        assert receiver.received == [message] and shown == [message]
        assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["000001-N1.hl7"]
        assert receiver.open_connections == 1  # open until the sender closes it
        await _close(writer)
        for _ in range(100):
            if receiver.open_connections == 0:
                break
            await asyncio.sleep(0.01)
        assert receiver.open_connections == 0


def _worker(port: int, ack_timeout: float) -> tuple[DeliveryWorker, MllpClient]:
    client = MllpClient("127.0.0.1", port, connect_timeout=1, ack_timeout=ack_timeout)
    worker = DeliveryWorker(
        "d",
        sender=client,
        sink=_NoSink(),
        retry=RetryPolicy(initial=0.01, max_delay=0.01, max_attempts=2),
        ack_policy=AckPolicy(),
        clock=lambda: datetime.now(UTC),
        rng=random.Random(1),
    )
    return worker, client


class _NoSink:
    async def record(self, result: AttemptResult) -> None:
        """Nothing to keep: the tests read what ``attempt`` returns."""


async def test_the_engine_times_out_on_a_silent_receiver_retries_the_same_msh10_then_gives_up() -> (
    None
):
    async with MllpReceiver(answering=False) as receiver:
        worker, client = _worker(receiver.port, ack_timeout=0.3)
        message = outbound("T1")
        first = await worker.attempt(message, 1)
        assert not client.connected  # the engine closed the connection it got no answer on
        second = await worker.attempt(message, 2)
        await client.close()
    assert (first.outcome, first.status, first.ack_code) == ("failed", "retrying", None)
    assert first.error == "AckTimeout: no ACK within 0.3s"
    assert first.duration_ms >= 300
    assert (second.outcome, second.status) == ("deadletter", "dead")
    assert second.error is not None and second.error.startswith("AckTimeout: no ACK within 0.3s")
    assert "gave up after 2 attempts" in second.error
    # Each attempt on a connection of its own, carrying the same bytes and so the same MSH-10.
    assert receiver.connection_count == 2
    assert receiver.received == [message.payload, message.payload]


async def test_an_answer_later_than_ack_timeout_fails_the_attempt_and_one_within_it_delivers() -> (
    None
):
    async with MllpReceiver(answer_delay=0.5) as receiver:
        late, late_client = _worker(receiver.port, ack_timeout=0.2)
        timed_out = await late.attempt(outbound("L1"), 1)
        await late_client.close()
        patient, patient_client = _worker(receiver.port, ack_timeout=2)
        delivered = await patient.attempt(outbound("L2"), 1)
        await patient_client.close()
    assert (timed_out.outcome, timed_out.error) == ("failed", "AckTimeout: no ACK within 0.2s")
    assert (delivered.outcome, delivered.ack_code) == ("delivered", "AA")
    assert delivered.duration_ms >= 500
