"""The access-log review (``integrator audit summary``): one grouped statement in the store,
against reading the period's entries and counting them in Python, on one trail in one run.

    .venv/bin/python bench/bench_audit_summary.py                    # 100,000 entries, SQLite
    .venv/bin/python bench/bench_audit_summary.py --entries 30000
    .venv/bin/python bench/bench_audit_summary.py --postgres postgresql+asyncpg://root@127.0.0.1/test

Before the summary, a privacy officer's review was ``audit list --action patient_data.view
--limit 100000 --json`` and counting per person by hand (or by script). The trail: forty people
over a month, views, exports and sign-ins in turn, five thousand patients. Both ways are timed
alternately (median of 5 each) and the ratio is printed; on PostgreSQL the table is analysed
first, as autovacuum would have it for a trail written over a month.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from integrator.store import AuditFilter, Store  # noqa: E402
from integrator.store.tables import audit_log  # noqa: E402

VIEW, EXPORT = "patient_data.view", "messages.export"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
GENESIS = "0" * 64  # the chain is not what is measured


async def fill(store: Store, entries: int) -> None:
    rows = [
        {
            "at": T0 + timedelta(seconds=25 * n),
            "actor": f"person:user{n % 40}@example.nl",
            "action": (VIEW, EXPORT, "login.success")[n % 3],
            "target": f"m-{n}",
            "reason": None,
            "details": f'{{"bsn_hash":"{n % 5000:064x}","view":"message"}}',
            "prev_hash": GENESIS,
            "hash": GENESIS,
        }
        for n in range(entries)
    ]
    async with store._engine.begin() as conn:
        for at in range(0, len(rows), 10_000):
            await conn.execute(insert(audit_log), rows[at : at + 10_000])
    if store.backend == "postgresql":
        async with store._engine.connect() as conn:
            await conn.execute(text(f'ANALYZE "{store.schema}".audit_log'))
            await conn.commit()


async def read_and_count(store: Store, until: datetime) -> int:
    """Every entry of the two actions read whole, then counted per actor in Python."""
    per_actor: dict[str, set[str]] = defaultdict(set)
    for action in (VIEW, EXPORT):
        flt = AuditFilter(action=action, since=T0, until=until)
        for entry in await store.list_audit(flt, limit=1_000_000):
            per_actor[entry.actor].add(str(entry.details.get("bsn_hash")))
    return len(per_actor)


async def grouped(store: Store, until: datetime) -> int:
    actors, _ = await store.count_audit_by_actor([VIEW, EXPORT], since=T0, until=until)
    return len(actors)


async def main(entries: int, postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        schema = f"bench_{uuid.uuid4().hex[:8]}" if postgres else None  # made by the store
        store = await Store.open(postgres or f"sqlite:///{folder}/store.db", schema=schema)
        try:
            await fill(store, entries)
            until = T0 + timedelta(days=30)
            read: list[float] = []
            counted: list[float] = []
            for _ in range(5):
                start = time.perf_counter()
                a = await read_and_count(store, until)
                read.append(time.perf_counter() - start)
                start = time.perf_counter()
                b = await grouped(store, until)
                counted.append(time.perf_counter() - start)
                assert a == b, (a, b)
            r, c = statistics.median(read), statistics.median(counted)
            print(f"{store.backend}, {entries:,} entries, {b} actors")
            print(
                f"read and count: {r * 1000:.0f} ms   grouped: {c * 1000:.0f} ms   "
                f"grouped faster by {r / c:.1f}x"
            )
        finally:
            if schema is not None:
                async with store._engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a schema of its own is made")
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.postgres))
