"""The CLI's CSV exports, A against B: peak memory (max RSS) and time for 10,000 and 100,000
rows, each side a ``python -m integrator`` process under ``/usr/bin/time``.

    .venv/bin/python bench/bench_csv_export.py --db /path/big.db --against main --rounds 2

The store is ``bench_at_scale.py``'s (filled here when ``--db`` does not exist: 100,000
messages and as many audit entries, about two minutes). A and B run alternately (``ab``) on
the same store (the exports change no schema), and each export checks that both sides wrote
the same bytes: a ratio of two different files would mean nothing. What is reported is the
median of the per-round ratios A/B (above 1: B needs less), with their spread.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import ab  # noqa: E402

EXPORTS = ("messages list --csv", "events list --csv", "audit list --csv")
SIZES = (10_000, 100_000)


def export(tree: Path, env: dict[str, str], args: str, db: Path) -> tuple[float, int, str]:
    """Seconds, peak RSS in KiB and the output's SHA-256 of one export run from ``tree``, on a
    fresh copy of the store at ``db``: each export adds its audit entry to the trail, and an
    audit export of the next run would hold it."""
    import bench_at_scale

    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        copy = Path(tmp) / "store.db"
        bench_at_scale._copy(db, copy)
        env = {**env, "INTEGRATOR_DATABASE_URL": f"sqlite:///{copy}"}
        peak, out = Path(tmp) / "peak", Path(tmp) / "out"
        command = ["/usr/bin/time", "-f", "%M", "-o", str(peak)]
        command += [sys.executable, "-m", "integrator", *args.split()]
        with out.open("wb") as file:
            started = time.perf_counter()
            run = subprocess.run(
                command,
                env={**os.environ, **env, "PYTHONPATH": str(tree)},
                cwd=tree,
                stdout=file,
                stderr=subprocess.PIPE,
                check=False,
            )
            took = time.perf_counter() - started
        if run.returncode != 0:
            raise SystemExit(f"{tree}: {args}: exit {run.returncode}: {run.stderr.decode()}")
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        return took, int(peak.read_text().split()[-1]), digest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="store file: filled if absent")
    parser.add_argument("--against", default="main", help="the revision to compare with (A)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="only the exports whose command has this")
    args = parser.parse_args()
    import bench_at_scale

    if not args.db.exists():
        bench_at_scale.fill(args.db, 100_000, 100_000)
    dests = args.db.parent / f"{args.db.stem}-destinations"
    bench_at_scale.write_destinations(dests)
    env = bench_at_scale._environment(args.db, dests)
    asks = [f"{what} --limit {size}" for what in EXPORTS for size in SIZES if args.only in what]
    runs: dict[str, list[tuple[tuple[float, int, str], tuple[float, int, str]]]] = {}
    with ab.sides(args.against, None, prefix="csv-export-") as (old, new):
        for n in range(args.rounds):
            for ask in asks:

                def side(tree: Path, ask: str = ask) -> tuple[float, int, str]:
                    return export(tree, env, ask, args.db)

                a, b = ab.alternate(n, old, new, side)
                if a[2] != b[2]:
                    raise SystemExit(f"{ask}: A and B wrote different files")
                runs.setdefault(ask, []).append((a, b))
            print(f"round {n + 1} done", flush=True)
    print(ab.heading(args.against, None, args.rounds, "same bytes on both sides"))
    print(
        "| export | A peak RSS MiB | B peak RSS MiB | B less memory by | A s | B s | B faster by |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for ask, pairs in runs.items():
        rss = ab.ratios([a[1] for a, _ in pairs], [b[1] for _, b in pairs], b_over_a=False)
        took = ab.ratios([a[0] for a, _ in pairs], [b[0] for _, b in pairs], b_over_a=False)
        print(
            f"| `{ask}` | {statistics.median(a[1] for a, _ in pairs) / 1024:.0f} | "
            f"{statistics.median(b[1] for _, b in pairs) / 1024:.0f} | "
            f"{rss.median:.2f}x ({rss.spread()}) | "
            f"{statistics.median(a[0] for a, _ in pairs):.1f} | "
            f"{statistics.median(b[0] for _, b in pairs):.1f} | "
            f"{took.median:.2f}x ({took.spread()}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
