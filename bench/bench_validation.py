"""CPU per `parse_event` (JSON bytes -> typed event) of a revision against the working tree.

    .venv/bin/python bench/bench_validation.py 5e3dbd5                 # 7 rounds
    .venv/bin/python bench/bench_validation.py 5e3dbd5 --rounds 11 --parses 3000
    .venv/bin/python bench/bench_validation.py HEAD~1 --b HEAD

As ``bench/compare.py`` (the loop is ``bench/ab.py``'s): REV is checked out into a temporary git
worktree and run with its source first on ``PYTHONPATH``; A and B alternate (A B, then B A,
...), each in its own process, and the table gives the median of the per-round ratios with their
spread. A process parses the working tree's sample referral and diagnostic request
(``config/samples``) as bytes, as intake does, and reports the median CPU microseconds
(``time.process_time``) of several batches. A ratio above 1 means B takes less CPU per parse.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import ab

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLES = ("referral", "diagnostic_request")


def child(parses: int, batches: int) -> None:
    """Runs in the measured revision's process: one JSON line of µs per parse, per sample."""
    import schemas
    from schemas import parse_event

    result: dict[str, Any] = {"source": str(Path(schemas.__file__).resolve().parent.parent)}
    for name in SAMPLES:
        raw = (ROOT / "config" / "samples" / f"{name}.json").read_bytes()
        for _ in range(max(parses // 5, 100)):  # warm up: caches, the allocator
            parse_event(raw)
        per_batch = []
        for _ in range(batches):
            start = time.process_time()
            for _ in range(parses):
                parse_event(raw)
            per_batch.append((time.process_time() - start) / parses * 1e6)
        result[f"{name}_us"] = statistics.median(per_batch)
    print(json.dumps(result))


def run_one(source: Path, parses: int, batches: int) -> dict[str, Any]:
    args = ["--child", "--parses", str(parses), "--batches", str(batches)]
    return ab.run_json([str(Path(__file__).resolve()), *args], source, name="the parse bench")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument("--b", metavar="REV_B", help="B instead of the working tree")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--parses", type=int, default=2000, help="parses per batch")
    parser.add_argument("--batches", type=int, default=5, help="batches per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.parses, options.batches)
        return 0
    if not options.rev:
        parser.error("REV is required")

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with ab.sides(options.rev, options.b, prefix="bench-validation-") as (old, new):
        run = functools.partial(run_one, parses=options.parses, batches=options.batches)
        for n in range(options.rounds):
            got = ab.alternate(n, old, new, run)
            pairs.append(got)
            line = ", ".join(
                f"{name} {got[0][f'{name}_us']:.1f} -> {got[1][f'{name}_us']:.1f} µs"
                for name in SAMPLES
            )
            print(f"round {n + 1}: {line}", flush=True)

    print(ab.heading(options.rev, options.b, options.rounds))
    print("| sample | A µs per parse (median) | B µs per parse (median) | B/A CPU (median ratio) "
          "| spread |")  # fmt: skip
    print("|---|---:|---:|---:|---|")
    for name in SAMPLES:
        a = [p[0][f"{name}_us"] for p in pairs]
        b = [p[1][f"{name}_us"] for p in pairs]
        ratios = ab.ratios(a, b, b_over_a=True)
        print(
            f"| {name} | {statistics.median(a):.1f} | {statistics.median(b):.1f} "
            f"| {ratios.median:.2f} | {ratios.spread()} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
