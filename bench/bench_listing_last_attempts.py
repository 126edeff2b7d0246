"""What each destination's last attempt adds to the destinations listing, alternately in one run:

    .venv/bin/python bench/bench_listing_last_attempts.py                 # SQLite
    .venv/bin/python bench/bench_listing_last_attempts.py --postgres      # PostgreSQL

``DestinationAdmin.listing`` is what ``integrator destinations list``, ``GET /api/v1/destinations``
and the console's destinations page call. Three ways, on one store, round by round in turn:

- *without*: the listing as it was before it said the last attempt (the read stubbed out);
- *one read*: today's listing, every listed destination's last attempt in one statement
  (``Store.last_attempts``), with its messages still retrying behind it (their number, the
  oldest and that one's last attempt);
- *per destination*: the same attempts read one destination at a time, the newest answered
  message and then its attempts (``tests.store.helpers.answered_attempts``), as the
  destination's page read it: two statements a destination (and without the retrying
  messages).

Then each read alone, without the rest of the listing.

The store holds ``--destinations`` destinations (200), each with a file, and ``--messages``
messages (100,000) spread over them, each delivered with one attempt but the newest message of
every tenth destination, which is retrying after a refused connection. Median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from alternating import timed_alternately  # noqa: E402
from sqlalchemy import insert, literal, select, update  # noqa: E402

from destinations.config import dump_destination  # noqa: E402
from integrator import operators  # noqa: E402
from integrator.clock import SystemClock  # noqa: E402
from integrator.last_attempt import (  # noqa: E402
    LastAttempt,
    last_attempts,
    said,
)
from integrator.operators import DestinationAdmin  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.store import AttemptRecord, Store  # noqa: E402
from integrator.store.tables import attempts, messages  # noqa: E402
from tests.integrator.support import destination, settings_for  # noqa: E402
from tests.store.factories import make_event, make_message  # noqa: E402
from tests.store.helpers import answered_attempts  # noqa: E402

BATCH = 1000
REFUSED = "ConnectFailed: connect to 127.0.0.1:9 failed: ConnectionRefusedError: refused"


def ids_of(count: int) -> list[str]:
    return [f"d{n:03}" for n in range(count)]


async def seed(store: Store, ids: Sequence[str], count: int) -> None:
    """``count`` messages over ``ids``, delivered with one attempt each (a bench's shortcut
    to a history: written in SQL, not through delivery), then a refused retry for the newest
    of every tenth destination, recorded as delivery records it."""
    for start in range(0, count, BATCH):
        await store.accept_events(
            [
                (
                    make_event(zd_number=f"ZD{n:09d}"),
                    [make_message(destination_id=ids[n % len(ids)])],
                )
                for n in range(start, min(start + BATCH, count))
            ]
        )
    past = datetime.now(UTC) - timedelta(days=2)
    async with store._engine.begin() as conn:
        await conn.execute(update(messages).values(status="delivered", created_at=past))
        await conn.execute(
            insert(attempts).from_select(
                ["message_id", "number", "started_at", "duration_ms", "outcome", "ack_code"],
                select(
                    messages.c.id,
                    literal(1),
                    messages.c.created_at,
                    literal(3.0),
                    messages.c.status,
                    literal("AA"),
                ),
            )
        )
    for destination_id in ids[::10]:
        message = make_message(destination_id=destination_id)
        await store.accept_event(make_event(), [message])
        attempt = AttemptRecord(message.id, 1, datetime.now(UTC), 2.0, "failed", error=REFUSED)
        await store.record_attempt(attempt, status="retrying", last_error=REFUSED)


async def main(
    settings: Settings, count: int, messages_count: int, rounds: int, schema: str | None = None
) -> None:
    ids = ids_of(count)
    settings.destinations_dir.mkdir()
    for n, destination_id in enumerate(ids):
        config = destination(destination_id, 9, providers=[f"p{n}"], enabled=False)
        (settings.destinations_dir / f"{destination_id}.yaml").write_text(dump_destination(config))
    store = await Store.open(settings.database_url, schema=schema)
    try:
        started = time.perf_counter()
        await seed(store, ids, messages_count)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        clock = SystemClock()
        admin = DestinationAdmin(
            store=store, settings=settings, today=lambda: clock.now().date(), now=clock.now
        )
        one_read = last_attempts

        async def none(store: Store, ids: Sequence[str]) -> dict[str, LastAttempt]:
            return {}

        async def per_destination(store: Store, ids: Sequence[str]) -> dict[str, LastAttempt]:
            found = {d: await answered_attempts(store, d) for d in ids}
            return {d: said(tried[-1]) for d, tried in found.items() if tried}

        ways: dict[str, Callable[..., Awaitable[dict[str, LastAttempt]]]] = {
            "without": none,
            "one read": one_read,
            "per destination": per_destination,
        }
        listed: dict[str, list[dict[str, Any]]] = {}

        async def listing(way: str) -> None:
            # The listing's own name for the read, put back after each call.
            setattr(operators, "last_attempts", ways[way])  # noqa: B010
            try:
                rows, _ = await admin.listing(lambda c: True, reads_messages=lambda c: True)
            finally:
                setattr(operators, "last_attempts", one_read)  # noqa: B010
            listed[way] = rows

        for way in ways:  # warm, and the two reads must agree
            await listing(way)
        shown = {r["id"]: r["last_attempt"] for r in listed["one read"]}
        assert shown == {r["id"]: r["last_attempt"] for r in listed["per destination"]}
        assert sum(1 for a in shown.values() if a["outcome"] == "failed") == len(ids[::10])
        median = await timed_alternately({way: listing for way in ways}, rounds)
        print(
            f"{count} destinations, {messages_count} messages, {store._engine.dialect.name}; "
            f"median of {rounds} listings (ms)"
        )
        for way, ms in median.items():
            print(f"  {way:16} {ms:8.1f}")
        alone: dict[str, list[float]] = {"one read": [], "per destination": []}
        for _ in range(rounds):  # the reads alone, without the rest of the listing
            for way in alone:
                start = time.perf_counter()
                await ways[way](store, ids)
                alone[way].append(time.perf_counter() - start)
        for way, t in alone.items():
            print(f"  the read alone, {way:16} {statistics.median(t) * 1000:8.1f}")
        base = median["without"]
        print(f"  one read / without:        {median['one read'] / base:.2f}x")
        print(f"  per destination / without: {median['per destination'] / base:.2f}x")
        print(
            f"  per destination / one read: {median['per destination'] / median['one read']:.1f}x"
        )
    finally:
        await store.close()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if not args.postgres:
            settings = settings_for(Path(folder), search_key="a-bench-search-key")
            asyncio.run(main(settings, args.destinations, args.messages, args.rounds))
            return
        asyncio.run(on_postgres(Path(folder), args))


async def on_postgres(folder: Path, args: argparse.Namespace) -> None:
    """In a schema of its own in the ``test`` database, dropped afterwards."""
    from tests.store.conftest import postgres_site

    async with postgres_site() as site:
        settings = settings_for(folder, search_key="a-bench-search-key", database_url=site.url)
        await main(settings, args.destinations, args.messages, args.rounds, site.schema)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--postgres", action="store_true")
    run(parser.parse_args())
