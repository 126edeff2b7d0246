"""Calls made for every delivery attempt, before and after they were made cheaper, in one process.

    .venv/bin/python bench/bench_delivery_calls.py

Each pair runs in alternating rounds (``bench_hot_calls.paired_rounds``) and prints the median
ratio (before / after, above 1: the new one is cheaper) with its spread. Time per call, in
microseconds:

- MSH-16 of the message sent: every MSH field decoded and split (``_msh_fields``, still the
  path for a message this engine did not write) against the bytes split of ``MSH|…``;
- waiting for the answer frame: ``asyncio.timeout_at`` around the wait against a timer on the
  one future waited for (``_AckProtocol.next_frame(deadline)``), the frame arriving at once;
- whether a message is in a retired version: its MSH-21 read and looked up against a date
  comparison with the last sunset of a retired version (a message made after it);
- the same check with its two boundaries (the next midnight, the last sunset) kept in the
  engine's zone, as they were until the eleventh session, against kept in UTC, the zone of the
  clock and of the message's ``created_at``: comparing aware times of two zones asks both for
  their offsets;
- reading an ACK: its MSH decoded and MSH-18 looked up first, as every ACK was read until the
  eleventh session, against an ASCII ACK that starts ``MSH|^~\\&|`` read at once (both
  without the error summary's work for an ACK that has no error, also new then).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvloop
from bench_hot_calls import CALLS, _us, paired_rounds
from scenarios import _sample_payload

from destinations import ack
from destinations.client import _AckProtocol
from integrator.deprecation import RetiredVersions, wire_version


async def _wait_per_call(with_deadline: bool) -> float:
    loop = asyncio.get_running_loop()
    protocol = _AckProtocol(loop, 1 << 20)
    start = time.perf_counter()
    for _ in range(CALLS):
        loop.call_soon(protocol.data_received, b"\x0bMSH|^~\\&|A\rMSA|AA|1\r\x1c\r")
        if with_deadline:
            await protocol.next_frame(loop.time() + 30)
        else:
            async with asyncio.timeout_at(loop.time() + 30):
                await protocol.next_frame()
    return (time.perf_counter() - start) / CALLS * 1e6


def _msh16_decoded(payload: bytes) -> str | None:
    _problem, fields = ack._msh_fields(payload)
    return None if fields is None else ack._field(fields, 15).strip().upper()


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

    # Before: the boundaries of the sunset check in the engine's zone, as they were kept.
    zone = ZoneInfo("Europe/Amsterdam")
    zoned = RetiredVersions(lambda: made, zone)
    assert zoned.of(payload, made) is None and zoned._until is not None
    assert zoned._made_before is not None, "no retired version in the registry to compare"
    zoned._until = zoned._until.astimezone(zone)
    zoned._made_before = zoned._made_before.astimezone(zone)

    answer = b"MSH|^~\\&|RECV|HOSP|INTEGRATOR|ZD|20261204120000||ACK^I12^ACK|A1|P|2.4\rMSA|AA|C1\r"
    assert ack.parse_ack(answer) == ack._parse_decoding(answer)

    measured = paired_rounds(
        {
            "MSH-16 of the message sent": (
                functools.partial(_us, lambda: _msh16_decoded(payload)),
                functools.partial(_us, lambda: ack.application_ack_type(payload)),
            ),
            "the wait for an answer, with its deadline": (
                lambda: uvloop.run(_wait_per_call(False)),
                lambda: uvloop.run(_wait_per_call(True)),
            ),
            "in a retired version?": (
                functools.partial(_us, lambda: reading.of(payload, made)),
                functools.partial(_us, lambda: retired.of(payload, made)),
            ),
            "reading an ACK with the standard separators": (
                functools.partial(_us, lambda: ack._parse_decoding(answer)),
                functools.partial(_us, lambda: ack.parse_ack(answer)),
            ),
            "the sunset check's boundaries": (
                functools.partial(_us, lambda: zoned.of(payload, made)),
                functools.partial(_us, lambda: retired.of(payload, made)),
            ),
        }
    )
    print("| call | before, µs | after, µs | after cheaper by | spread |")
    print("|---|---:|---:|---:|---|")
    for name, row in measured.items():
        low, high = row["spread"]
        print(
            f"| {name} | {row['old_us']:.2f} | {row['new_us']:.2f} | {row['ratio']:.2f}x "
            f"| {low:.2f}-{high:.2f} |"
        )


if __name__ == "__main__":
    main()
