"""Three calls made for every delivery attempt, before and after the tenth session, in one process.

    .venv/bin/python bench/bench_delivery_calls.py

Each pair runs in alternating rounds and prints the median ratio (before / after, above 1: the
new one is cheaper) with its spread. CPU time per call, in microseconds:

- MSH-16 of the message sent: every MSH field decoded and split (``_msh_fields``, still the
  path for a message this engine did not write) against the bytes split of ``MSH|…``;
- waiting for the answer frame: ``asyncio.timeout_at`` around the wait against a timer on the
  one future waited for (``_AckProtocol.next_frame(deadline)``), the frame arriving at once;
- whether a message is in a retired version: its MSH-21 read and looked up against a date
  comparison with the last sunset of a retired version (a message made after it).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvloop
from scenarios import _sample_payload

from destinations import ack
from destinations.client import _AckProtocol
from integrator.deprecation import RetiredVersions, wire_version

CALLS = 20_000
ROUNDS = 7


def _per_call(call: Callable[[], object]) -> float:
    start = time.process_time()
    for _ in range(CALLS):
        call()
    return (time.process_time() - start) / CALLS * 1e6


async def _wait_per_call(with_deadline: bool) -> float:
    loop = asyncio.get_running_loop()
    protocol = _AckProtocol(loop, 1 << 20)
    start = time.process_time()
    for _ in range(CALLS):
        loop.call_soon(protocol.data_received, b"\x0bMSH|^~\\&|A\rMSA|AA|1\r\x1c\r")
        if with_deadline:
            await protocol.next_frame(loop.time() + 30)
        else:
            async with asyncio.timeout_at(loop.time() + 30):
                await protocol.next_frame()
    return (time.process_time() - start) / CALLS * 1e6


def _msh16_decoded(payload: bytes) -> str | None:
    _problem, fields = ack._msh_fields(payload)
    return None if fields is None else ack._field(fields, 15).strip().upper()


def _pair(name: str, before: Callable[[], float], after: Callable[[], float]) -> None:
    ratios, olds, news = [], [], []
    for index in range(ROUNDS):
        first, second = (before, after) if index % 2 == 0 else (after, before)
        a, b = first(), second()
        old, new = (a, b) if index % 2 == 0 else (b, a)
        olds.append(old)
        news.append(new)
        ratios.append(old / new)
    print(
        f"| {name} | {statistics.median(olds):.2f} | {statistics.median(news):.2f} "
        f"| {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} |"
    )


def main() -> None:
    payload = _sample_payload()
    assert ack.application_ack_type(payload) == _msh16_decoded(payload)
    made = datetime.now(UTC)
    retired = RetiredVersions(lambda: made, ZoneInfo("Europe/Amsterdam"))

    # Before: the same object, made to read every message's MSH-21 as it did.
    reading = RetiredVersions(lambda: made, ZoneInfo("Europe/Amsterdam"))
    assert reading.of(payload, made) is None
    reading._made_before = datetime.max.replace(tzinfo=UTC)
    assert reading.of(payload, made) is None and wire_version(payload) is not None

    print("| call | before, µs | after, µs | after cheaper by | spread |")
    print("|---|---:|---:|---:|---|")
    _pair(
        "MSH-16 of the message sent",
        lambda: _per_call(lambda: _msh16_decoded(payload)),
        lambda: _per_call(lambda: ack.application_ack_type(payload)),
    )
    _pair(
        "the wait for an answer, with its deadline",
        lambda: uvloop.run(_wait_per_call(False)),
        lambda: uvloop.run(_wait_per_call(True)),
    )
    _pair(
        "in a retired version?",
        lambda: _per_call(lambda: reading.of(payload, made)),
        lambda: _per_call(lambda: retired.of(payload, made)),
    )


if __name__ == "__main__":
    main()
