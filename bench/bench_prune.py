"""The daily prune on a big embedded store: how long it holds SQLite's one write lock.

Every write transaction of a prune batch holds the store's write turn and SQLite's lock, so
intake and the attempt recorder wait for it: what a prune costs the feeds is the time of its
write transactions, batch by batch, more than its whole length (its reads run beside them).

    .venv/bin/python bench/bench_at_scale.py --db /path/big.db      # fills the store once
    .venv/bin/python bench/bench_prune.py --db /path/big.db --against REV --rounds 3

Each run copies the store (``--copy-to``, memory by default), opens it with ``Store.open``
(which migrates a copy behind its side's schema, and refuses one ahead of it: fill the store
with the older side) and prunes it with the engine's own ``prune`` as of the oldest message's
day + 93: 90 days of payloads, 30 of dead letters, so the made-up year's oldest three days
(about 8,000 messages on a store of a million). It times each call of the store's write
methods the walk makes, and the whole run. A and B alternate, each in its own process.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ab import heading, lower_is_better_table, rounds_of, run_json

HERE = Path(__file__).resolve().parent
WRITES = ("prune_messages", "prune_events", "prune_audit")


def child(db: Path) -> dict[str, Any]:
    """One prune of ``db`` (a copy the caller made), timed; the JSON to print."""
    from integrator.eventloop import run
    from integrator.lifecycle.prune import prune
    from integrator.lifecycle.retention import Retention
    from integrator.store import Store

    with sqlite3.connect(db) as conn:
        (oldest,) = conn.execute("SELECT min(created_at) FROM messages").fetchone()
    start = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    times: dict[str, list[float]] = defaultdict(list)
    for name in WRITES:
        original = getattr(Store, name)

        async def timed(self: Store, *args: Any, _o: Any = original, _n: str = name) -> Any:
            t0 = time.perf_counter()
            try:
                return await _o(self, *args)
            finally:
                times[_n].append(time.perf_counter() - t0)

        setattr(Store, name, timed)

    async def main() -> dict[str, Any]:
        async with await Store.open(f"sqlite:///{db}") as store:
            t0 = time.perf_counter()
            report = await prune(
                store,
                Retention(payload_days=90, dead_letter_days=30, rejected_days=30),
                now=start + timedelta(days=93),
                actor="bench",
                audit_empty=False,
            )
            whole = time.perf_counter() - t0
        writes = sorted(t for name in WRITES for t in times[name])
        return {
            "source": str(Path.cwd()),
            "counts": report.counts,
            "whole_s": whole,
            "writes": len(writes),
            "writes_s": sum(writes),
            "write_p50_ms": statistics.median(writes) * 1000 if writes else 0.0,
            "write_max_ms": max(writes, default=0.0) * 1000,
        }

    return run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a store bench_at_scale.py filled")
    parser.add_argument("--against", default=None, help="a revision to compare with (A)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copy-to", type=Path, default=Path("/dev/shm"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return

    def once(source: Path) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(dir=args.copy_to) as tmp:
            copy = Path(tmp) / "prune.db"
            shutil.copyfile(args.db, copy)
            script = str(HERE / "bench_prune.py")
            return run_json(
                [script, "--db", str(args.db), "--child", str(copy)], source, name="prune"
            )

    if args.against is None:
        print(json.dumps(once(HERE.parent)))
        return
    rows = rounds_of(args.against, args.rounds, once, prefix="bench-prune-")
    print(heading(args.against, None, args.rounds, "each on a fresh copy of the store"))
    measures = (
        ("whole_s", "the whole prune, s"),
        ("writes_s", "its write transactions together, s"),
        ("write_p50_ms", "one write transaction, median, ms"),
        ("write_max_ms", "the longest write transaction, ms"),
    )
    print("\n".join(lower_is_better_table(rows, measures)))
    print(f"\npruned (B, last round): {rows[-1][1]['counts']}")


if __name__ == "__main__":
    main()
