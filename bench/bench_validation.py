"""CPU per `parse_event` (JSON bytes -> typed event) of a revision against the working tree.

    .venv/bin/python bench/bench_validation.py 5e3dbd5                 # 7 rounds
    .venv/bin/python bench/bench_validation.py 5e3dbd5 --rounds 11 --parses 3000
    .venv/bin/python bench/bench_validation.py HEAD~1 --b HEAD

As ``bench/compare.py``: REV is checked out into a temporary git worktree and run with its
source first on ``PYTHONPATH``; A and B alternate (A B, then B A, ...), each in its own process,
and the table gives the median of the per-round ratios with their spread. A process parses the
working tree's sample referral and diagnostic request (``config/samples``) as bytes, as intake
does, and reports the median CPU microseconds (``time.process_time``) of several batches.
A ratio above 1 means B takes less CPU per parse.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    env = {**os.environ, "PYTHONPATH": str(source)}
    args = ["--child", "--parses", str(parses), "--batches", str(batches)]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"failed on {source}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["source"]).resolve() != source.resolve():
        raise SystemExit(f"ran {result['source']}, not {source}")
    return result


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
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        old = Path(tmp) / "rev"
        new = Path(tmp) / "rev_b" if options.b else ROOT
        for where, rev in [(old, options.rev), (new, options.b)]:
            if rev:
                add = ["worktree", "add", "--detach", "-q", str(where), rev]
                subprocess.run(["git", "-C", str(ROOT), *add], check=True)
        try:
            for n in range(options.rounds):
                order = [("A", old), ("B", new)]
                if n % 2:
                    order.reverse()  # A B, then B A: drift hits both sides alike
                got = {
                    side: run_one(where, options.parses, options.batches) for side, where in order
                }
                pairs.append((got["A"], got["B"]))
                line = ", ".join(
                    f"{name} {got['A'][f'{name}_us']:.1f} -> {got['B'][f'{name}_us']:.1f} µs"
                    for name in SAMPLES
                )
                print(f"round {n + 1}: {line}", flush=True)
        finally:
            for where in {old, new} - {ROOT}:
                remove = ["worktree", "remove", "--force", str(where)]
                subprocess.run(["git", "-C", str(ROOT), *remove], check=False)

    print(f"\nA = {options.rev}, B = {options.b or 'working tree'}; {options.rounds} rounds, "
          f"interleaved; load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| sample | A µs per parse (median) | B µs per parse (median) | B/A CPU (median ratio) "
          "| spread |")  # fmt: skip
    print("|---|---:|---:|---:|---|")
    for name in SAMPLES:
        a = [p[0][f"{name}_us"] for p in pairs]
        b = [p[1][f"{name}_us"] for p in pairs]
        ratios = [y / x for x, y in zip(a, b, strict=True)]
        print(
            f"| {name} | {statistics.median(a):.1f} | {statistics.median(b):.1f} "
            f"| {statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
