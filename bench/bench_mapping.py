"""Mapping throughput of every message version, and our HL7 writer versus hl7apy.

    python bench/bench_mapping.py            # ~45 s
    python bench/bench_mapping.py --quick    # a few seconds

Measures one core (this process, one thread) through `mappings.map_event`: every version with
a mapper, referral versions with the sample referral and order versions with the sample
diagnostic request, each without and with a 5 MiB PDF attachment (escaping scans the base64,
the Latin-1 versions encode it). For `ref-v2` and `orm-v3` the same messages are also built
segment by segment, field by field with hl7apy's API and `to_er7()`.

The hl7apy builder is handed our finished field strings, so its time is the cost of hl7apy's
element tree alone (no data gathering or escaping): a lower bound for building with hl7apy.
Its output is checked to be our message, after undoing hl7apy's re-escaping of `\\.br\\`.
Prints a markdown table and writes it to bench/results/mapping.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hl7apy.consts import VALIDATION_LEVEL  # noqa: E402
from hl7apy.core import Message  # noqa: E402

from mappings import REGISTRY, MappingContext, map_event  # noqa: E402
from schemas import parse_event  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "mapping.md"
SAMPLES = ROOT / "config" / "samples"
CTX = MappingContext(
    control_id="BENCH000000000000001",
    now=datetime.datetime(
        2026, 11, 20, 9, 16, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    ),
    receiving_application="HIS",
    receiving_facility="ZNOORD",
)


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def with_big_attachment(data: dict[str, Any]) -> dict[str, Any]:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4096 * 5  # 5 MiB + 9 bytes
    attachment = {
        "filename": "big.pdf",
        "content_type": "application/pdf",
        "data": base64.b64encode(pdf).decode(),
    }
    return {**data, "attachments": [*data.get("attachments", []), attachment]}


# Which hl7apy group each segment goes into: (structure, {segment: group to open}).
REF_GROUPS = {"PRD": "REF_I12_PROVIDER_CONTACT", "IN1": "REF_I12_INSURANCE"}


def _fill(segment: Any, fields: list[str]) -> None:
    name = segment.name.lower()
    for number, value in enumerate(fields, 1):
        for repetition in value.split("~") if value else ():
            segment.add_field(f"{name}_{number}").value = repetition


def hl7apy_build(text: str) -> str:
    """Build `text`'s message with hl7apy: message, groups, segments, fields, then ER7."""
    lines = text[:-1].split("\r")
    structure = lines[0].split("|")[8].split("^")[2]
    message = Message(structure, version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    for number, value in enumerate(lines[0].split("|")[2:], 3):
        if value:
            setattr(message.msh, f"msh_{number}", value)
    place = _ref_placer(message) if structure == "REF_I12" else _orm_placer(message)
    for line in lines[1:]:
        fields = line.split("|")
        _fill(place(fields[0]).add_segment(fields[0]), fields[1:])
    er7: str = message.to_er7()
    return er7


def _ref_placer(message: Any) -> Callable[[str], Any]:
    state: dict[str, Any] = {}

    def place(name: str) -> Any:
        if name in REF_GROUPS:
            return message.add_group(REF_GROUPS[name])
        if name == "OBR":
            state["obr"] = message.add_group("REF_I12_OBSERVATION")
            return state["obr"]
        if name == "OBX":
            state["obx"] = state["obr"].add_group("REF_I12_RESULTS_NOTES")
            return state["obx"]
        if name == "NTE" and "obx" in state:
            return state["obx"]
        if name == "PV1":
            state.pop("obx", None)
            return message.add_group("REF_I12_PATIENT_VISIT")
        return message

    return place


def _orm_placer(message: Any) -> Callable[[str], Any]:
    state: dict[str, Any] = {}

    def place(name: str) -> Any:
        if name == "PID":
            state["patient"] = message.add_group("ORM_O01_PATIENT")
            return state["patient"]
        if name == "PV1":
            state["visit"] = state["patient"].add_group("ORM_O01_PATIENT_VISIT")
            return state["visit"]
        if name == "PV2":
            return state["visit"]
        if name == "IN1":
            return state["patient"].add_group("ORM_O01_INSURANCE")
        if name == "ORC":
            state["order"] = message.add_group("ORM_O01_ORDER")
            state.pop("obx", None)
            return state["order"]
        if name == "OBR":
            state["detail"] = state["order"].add_group("ORM_O01_ORDER_DETAIL")
            return state["detail"].add_group("ORM_O01_OBRRQDRQ1RXOODSODT_SUPPGRP")
        if name == "OBX":
            state["obx"] = state["detail"].add_group("ORM_O01_OBSERVATION")
            return state["obx"]
        if name == "NTE":
            return state.get("obx") or state.get("detail") or message
        return message

    return place


def rate(
    action: Callable[[], object], *, seconds: float | None = None, runs: int = 0
) -> tuple[int, float]:
    """(messages, elapsed seconds): for `seconds` of wall time, or exactly `runs` times."""
    count = 0
    start = time.perf_counter()
    if seconds is None:
        for _ in range(runs):
            action()
        return runs, time.perf_counter() - start
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            action()
        count += 100
    return count, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a few seconds)")
    args = parser.parse_args()
    ours_seconds = 0.3 if args.quick else 5.0
    hl7apy_runs = 3 if args.quick else 20

    events = {
        "referral": (
            parse_event(sample("referral")),
            parse_event(with_big_attachment(sample("referral"))),
        ),
        "diagnostic_request": (
            parse_event(sample("diagnostic_request")),
            parse_event(with_big_attachment(sample("diagnostic_request"))),
        ),
    }
    big_runs = 5 if args.quick else 40
    rows: list[tuple[str, str, int, float, str]] = []
    for name, version in REGISTRY.items():
        if version.mapper is None:
            continue
        event, big = events[version.event_type]
        sample_name = "sample referral" if version.event_type == "referral" else "sample request"
        text = map_event(name, event, CTX).text
        label = f"{name}, {sample_name} ({text.count(chr(13))} segments)"
        count, elapsed = rate(functools.partial(map_event, name, event, CTX), seconds=ours_seconds)
        rows.append((label, "mappings (ours)", count, elapsed, ""))
        if name in ("ref-v2", "orm-v3"):
            same = hl7apy_build(text).replace("\\E\\.br\\E\\", "\\.br\\") == text[:-1]
            count, elapsed = rate(functools.partial(hl7apy_build, text), runs=hl7apy_runs)
            note = "same message" if same else "DIFFERENT message"
            rows.append((label, "hl7apy + to_er7()", count, elapsed, note))
        count, elapsed = rate(functools.partial(map_event, name, big, CTX), runs=big_runs)
        size = len(map_event(name, big, CTX).data) / 2**20
        rows.append(
            (f"{name}, {sample_name} + 5 MiB PDF", "mappings (ours)", count, elapsed,
             f"{size:.1f} MiB message"),
        )  # fmt: skip

    table = [
        "| case | builder | messages | seconds | messages/s | µs/message | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    table += [
        f"| {case} | {builder} | {count} | {elapsed:.2f} | {count / elapsed:,.0f} | "
        f"{elapsed / count * 1e6:,.0f} | {note} |"
        for case, builder, count, elapsed, note in rows
    ]
    header = [
        "# Mapping throughput",
        "",
        f"`python bench/bench_mapping.py{' --quick' if args.quick else ''}` — one core, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"measured {datetime.date.today().isoformat()}.",
        "",
    ]
    output = "\n".join([*header, *table]) + "\n"
    print(output)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(output, encoding="utf-8")


if __name__ == "__main__":
    main()
