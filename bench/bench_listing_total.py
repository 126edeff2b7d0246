"""What saying "N of M" costs a cut listing: ``messages list`` and ``deadletter list`` with
their count, against the same listing alone, on a store of 50,000 messages.

    python bench/bench_listing_total.py                        # 50,000 messages, SQLite
    python bench/bench_listing_total.py --backend postgresql   # the `test` database on 127.0.0.1
    python bench/bench_listing_total.py --messages 200000 --rounds 9

The store is made and filled as ``bench_search.py`` fills it (95 % delivered, 3 % dead, 20
destinations, a year of messages). Each search is the CLI's read with its default limit (100
messages, read as 101 to know it was cut): A the listing alone, B the listing and then its
count (``Store.count_messages``; for dead letters ``count_open_dead_letters``, one grouped
query), as the commands now do when the listing is cut. A and B alternate (A B, then B A...),
in one process on one warm store; the table gives the median of the per-round ratios B/A with
their spread, and the load average, as bench/results/perf.md asks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_search import DESTINATIONS, START, fill_postgres, fill_sqlite, rows  # noqa: E402

from deadletter import count_open_dead_letters, list_dead_letters  # noqa: E402
from integrator.store import MessageFilter, Store  # noqa: E402

LIMIT = 100
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # the store in memory, if it may

Read = Callable[[Store], Awaitable[Any]]


def message_searches() -> list[tuple[str, MessageFilter]]:
    half = START + timedelta(days=182)
    return [
        ("messages: no terms", MessageFilter()),
        ("messages: destination", MessageFilter(destination_id=DESTINATIONS[3])),
        ("messages: status dead", MessageFilter(status="dead")),
        ("messages: event type diagnostic_request", MessageFilter(event_type="diagnostic_request")),
        ("messages: a month", MessageFilter(since=half, until=half + timedelta(days=30))),
        (
            "messages: destination + status delivered",
            MessageFilter(destination_id=DESTINATIONS[3], status="delivered"),
        ),
    ]


def pairs() -> list[tuple[str, Read, Read]]:
    """(name, A: the listing alone, B: the listing and its count)."""
    found: list[tuple[str, Read, Read]] = []
    for name, flt in message_searches():

        async def alone(store: Store, flt: MessageFilter = flt) -> Any:
            return await store.list_messages(flt, limit=LIMIT + 1, payloads=False)

        async def counted(store: Store, flt: MessageFilter = flt) -> Any:
            await store.list_messages(flt, limit=LIMIT + 1, payloads=False)
            return await store.count_messages(flt)

        found.append((name, alone, counted))
    for name, destination in (
        ("dead letters: all", None),
        ("dead letters: one destination", DESTINATIONS[3]),
    ):

        async def letters(store: Store, destination: str | None = destination) -> Any:
            return await list_dead_letters(store, destination_id=destination, limit=LIMIT + 1)

        async def letters_counted(store: Store, destination: str | None = destination) -> Any:
            await list_dead_letters(store, destination_id=destination, limit=LIMIT + 1)
            return await count_open_dead_letters(store)

        found.append((name, letters, letters_counted))
    return found


async def timed(read: Read, store: Store) -> float:
    started = time.perf_counter()
    await read(store)
    return time.perf_counter() - started


async def measure(store: Store, rounds: int) -> list[tuple[str, float, float, float, float]]:
    results = []
    for name, alone, counted in pairs():
        await alone(store)  # warm
        await counted(store)
        ratios: list[float] = []
        a_times: list[float] = []
        b_times: list[float] = []
        for n in range(rounds):
            order = (alone, counted) if n % 2 == 0 else (counted, alone)
            first, second = await timed(order[0], store), await timed(order[1], store)
            a, b = (first, second) if order[0] is alone else (second, first)
            a_times.append(a)
            b_times.append(b)
            ratios.append(b / a)
        results.append(
            (
                name,
                statistics.median(a_times) * 1000,
                statistics.median(ratios),
                min(ratios),
                max(ratios),
            )
        )
    return results


async def run(
    backend: str, count: int, rounds: int
) -> list[tuple[str, float, float, float, float]]:
    events, messages = rows(count)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        if backend == "sqlite":
            path = Path(tmp) / "total.db"
            store = await Store.open(f"sqlite:///{path}")
            await store.close()
            fill_sqlite(path, events, messages)
            store = await Store.open(f"sqlite:///{path}")
            schema = None
        else:
            from tests.services import require_postgres

            url = require_postgres()
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            store = await Store.open(url, schema=schema)
            await fill_postgres(url, schema, events, messages)
        try:
            return await measure(store, rounds)
        finally:
            if schema is not None:
                async with store._engine.begin() as conn:
                    await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()
    results = asyncio.run(run(args.backend, args.messages, args.rounds))
    after = os.getloadavg()
    print(f"{args.backend}, {args.messages:,} messages, {args.rounds} rounds, limit {LIMIT}")
    print(f"load average {load[0]:.1f} before, {after[0]:.1f} after")
    print("| search | A: listing alone (ms, median) | B/A: with its count (median) | spread |")
    print("|---|---:|---:|---|")
    for name, a_ms, ratio, low, high in results:
        print(f"| {name} | {a_ms:.1f} | {ratio:.2f} | {low:.2f}–{high:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
