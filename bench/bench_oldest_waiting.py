"""The dashboard's oldest waiting message on PostgreSQL: the statement with the destination as
a closed range (before) and as an equality (now), alternately in one run, with their plans:

    .venv/bin/python bench/bench_oldest_waiting.py                                # 100,000 / 200
    .venv/bin/python bench/bench_oldest_waiting.py --messages 500000 --destinations 20

The store as ``bench_listing_last_attempts.py`` makes it (every message delivered, the newest
of every tenth destination retrying), then ``VACUUM ANALYZE``. Prints ``EXPLAIN (ANALYZE,
BUFFERS)``'s index scans and execution time for a destination with one retrying (``d000``) and
one with none waiting (``d001``), then the median time of the statement for every destination,
``--rounds`` times each way, and checks both ways answer the same for every destination.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_listing_last_attempts import ids_of, seed  # noqa: E402
from sqlalchemy import Select, select, union_all  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from integrator.store import Store  # noqa: E402
from integrator.store.records import PENDING_STATUSES  # noqa: E402
from integrator.store.tables import messages  # noqa: E402

First = Callable[[str, str, str], Select[tuple[int, datetime]]]


def as_range(destination_id: str, status: str, dialect: str) -> Select[tuple[int, datetime]]:
    """The branch as it was: the destination a closed range too, ordered by the whole index."""
    return (
        select(messages.c.seq, messages.c.created_at)
        .where(
            messages.c.destination_id.between(destination_id, destination_id),
            messages.c.status.between(status, status),
        )
        .order_by(messages.c.destination_id, messages.c.status, messages.c.seq)
        .limit(1)
    )


def as_equality(destination_id: str, status: str, dialect: str) -> Select[tuple[int, datetime]]:
    """The branch as it was made then (a statement a destination; since, one statement answers
    for every tile, ``integrator.store.oldest_waiting``, its look-ups written the same way)."""
    return (
        select(messages.c.seq, messages.c.created_at)
        .where(
            messages.c.destination_id == destination_id, messages.c.status.between(status, status)
        )
        .order_by(messages.c.status, messages.c.seq)
        .limit(1)
    )


PG = postgresql.dialect()  # type: ignore[no-untyped-call]

WAYS: dict[str, First] = {"range": as_range, "equality": as_equality}


def statement(destination_id: str, first: First) -> Any:
    firsts = union_all(
        *(select(first(destination_id, s.value, "postgresql").subquery()) for s in PENDING_STATUSES)
    ).subquery()
    return select(firsts.c.created_at).order_by(firsts.c.seq).limit(1)


async def main(args: argparse.Namespace) -> None:
    from tests.store.conftest import postgres_site

    async with postgres_site() as site:
        store = await Store.open(site.url, schema=site.schema)
        try:
            ids = ids_of(args.destinations)
            await seed(store, ids, args.messages)
            async with store._engine.connect() as conn:
                done = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await done.exec_driver_sql("VACUUM ANALYZE messages")
            for destination_id in ("d000", "d001"):
                for way, first in WAYS.items():
                    query = statement(destination_id, first)
                    sql = str(query.compile(dialect=PG, compile_kwargs={"literal_binds": True}))
                    async with store._engine.connect() as conn:
                        for _ in range(3):  # the last, warm
                            plan = (
                                await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                            ).all()
                    print(f"--- {destination_id}, destination as {way}")
                    for (line,) in plan:
                        if ("Index" in line and "Scan" in line) or "Execution" in line:
                            print(line.strip())
            times: dict[str, list[float]] = {way: [] for way in WAYS}
            async with store._engine.connect() as conn:
                for round_ in range(args.rounds):
                    order = list(WAYS) if round_ % 2 == 0 else list(reversed(WAYS))
                    for way in order:
                        for destination_id in ids:
                            start = time.perf_counter()
                            await conn.execute(statement(destination_id, WAYS[way]))
                            times[way].append(time.perf_counter() - start)
                for destination_id in ids:
                    said = {
                        way: (await conn.execute(statement(destination_id, first))).scalar()
                        for way, first in WAYS.items()
                    }
                    assert said["range"] == said["equality"], destination_id
            median = {way: statistics.median(t) * 1000 for way, t in times.items()}
            print(
                f"{args.messages} messages, {args.destinations} destinations; median of "
                f"{args.rounds} x {len(ids)} statements (ms): "
                + ", ".join(f"{way} {ms:.3f}" for way, ms in median.items())
                + f"; range / equality {median['range'] / median['equality']:.2f}x"
            )
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
