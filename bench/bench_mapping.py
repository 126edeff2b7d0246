"""Mapping throughput of every message version, and our HL7 writer versus hl7apy.

    python bench/bench_mapping.py            # ~45 s
    python bench/bench_mapping.py --quick    # a few seconds
    python bench/bench_mapping.py --ab 5e3dbd5 [--b REV] [--rounds 7]   # A/B, CPU per message

Measures one core (this process, one thread) through `mappings.map_event`: every version with
a mapper, referral versions with the sample referral and order versions with the sample
diagnostic request, each without and with a 5 MiB PDF attachment (escaping scans the base64,
the Latin-1 versions encode it). For `ref-v2` and `orm-v3` the same messages are also built
segment by segment, field by field with hl7apy's API and `to_er7()`.

The hl7apy builder is handed our finished field strings, so its time is the cost of hl7apy's
element tree alone (no data gathering or escaping): a lower bound for building with hl7apy.
Its output is checked to be our message, after undoing hl7apy's re-escaping of `\\.br\\`.
Prints a markdown table and writes it to bench/results/mapping.md.

`--ab REV` compares the mapping of revision REV (A, checked out into a temporary git worktree)
with the working tree (B, or `--b REV_B`) as ratios measured in one run: each round runs one
process per side, alternately (A B, then B A), each mapping the same distinct events
(`common.make_events` referrals, copies of the sample request) through every version and timing
CPU per message with `time.process_time` (the best of three passes). A ratio above 1 means B is
cheaper (the loop is `bench/ab.py`'s). Absolute figures drift by 2x on a shared machine; the
ratios much less.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if not os.environ.get("PYTHONPATH"):  # with PYTHONPATH set (`--ab`), map with that tree
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(HERE))

import ab  # noqa: E402
from common import make_events  # noqa: E402
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


def _requests(n: int) -> list[Any]:
    base = sample("diagnostic_request")
    return [parse_event({**base, "zd_number": f"ZD{300000000 + i:09d}"}) for i in range(n)]


def _cpu_per_item(action: Callable[[Any], object], items: list[Any], passes: int = 3) -> float:
    """Microseconds of CPU per item, the best of `passes` passes over `items`."""
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        for item in items:
            action(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def worker(count: int, pdf_runs: int) -> dict[str, Any]:
    """One side of `--ab`: CPU µs per message of every version, and ms for a 5 MiB PDF."""
    referrals = [parse_event(raw) for raw in make_events(count, ["p"])]
    requests = _requests(count)
    result: dict[str, Any] = {}
    for name, version in REGISTRY.items():
        if version.mapper is not None:
            events = referrals if version.event_type == "referral" else requests
            action = functools.partial(map_event, name, ctx=CTX)
            result[f"{name}_us"] = _cpu_per_item(action, events)
    big = [parse_event(with_big_attachment(sample("referral")))] * pdf_runs
    result["ref-v2_pdf_ms"] = _cpu_per_item(lambda e: map_event("ref-v2", e, CTX), big) / 1000
    import mappings

    result["source"] = str(Path(mappings.__file__).resolve().parent.parent)
    return result


def _run_side(source: Path, count: int, pdf_runs: int) -> dict[str, Any]:
    args = [str(Path(__file__).resolve()), "--worker", str(count), str(pdf_runs)]
    return ab.run_json(args, source, name="mapping bench")


def run_ab(rev: str, rev_b: str | None, rounds: int, count: int, pdf_runs: int) -> None:
    """A/B of the mapping: REV against the working tree (or REV_B), interleaved processes."""
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with ab.sides(rev, rev_b, prefix="bench-mapping-") as (old, new):
        run = functools.partial(_run_side, count=count, pdf_runs=pdf_runs)
        for n in range(rounds):
            got = ab.alternate(n, old, new, run)
            pairs.append(got)
            print(
                f"round {n + 1}: ref-v2 {got[0]['ref-v2_us']:.0f} -> {got[1]['ref-v2_us']:.0f} us",
                flush=True,
            )
    print(ab.heading(rev, rev_b, rounds, f"{count} events"))
    print("| measure | A (median) | B (median) | B/A (median ratio) | spread | A/B |")
    print("|---|---:|---:|---:|---|---:|")
    for key in pairs[0][0]:
        if key == "source":
            continue
        a = [pair[0][key] for pair in pairs]
        b = [pair[1][key] for pair in pairs]
        ratios = ab.ratios(a, b, b_over_a=True)
        unit = "ms" if key.endswith("_ms") else "µs"
        print(
            f"| {key.rsplit('_', 1)[0]}, {unit} per message | {statistics.median(a):,.1f} "
            f"| {statistics.median(b):,.1f} | {ratios.median:.3f} "
            f"| {ratios.spread(3)} | {1 / ratios.median:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a few seconds)")
    parser.add_argument("--ab", metavar="REV", help="A/B: REV against the working tree")
    parser.add_argument("--b", metavar="REV_B", help="with --ab: REV_B instead of the tree")
    parser.add_argument("--rounds", type=int, default=6, help="with --ab: rounds (default 6)")
    parser.add_argument("--events", type=int, default=2000, help="with --ab: events per pass")
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.ab:
        run_ab(args.ab, args.b, args.rounds, args.events, 3 if args.quick else 10)
        return
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
