"""The open dead letters among a long resolved history: read every family, or ask SQL.

    .venv/bin/python bench/bench_dead_letter_history.py                 # 16,000 resolved, SQLite
    .venv/bin/python bench/bench_dead_letter_history.py --resolved 4000 --postgres

A dead letter stays ``dead`` when a later resend of it is delivered: it is resolved, and the
dead letters page, the dashboard's figures (polled every 5 s per open dashboard), the metric
and ``deadletter resend --all`` leave it out. Until revision 0024 they found the open ones by
loading the resend family of every dead message ever kept, so their cost grew with the history
(16,000 resolved: 2-3 s a page, over a second a poll). Since, each resend carries its family's
root and the store answers with one ``NOT EXISTS`` per dead row.

Both ways run alternately on one store in one run (median of 5 each): "families" is the former
code, kept here as it was (the dead messages' ids, ``Store.resend_family``, the resolution per
letter in Python; the listing read 500 dead messages at a time until it had its 100), and
"SQL" is ``count_open_dead_letters`` and ``list_dead_letters`` as they are now. The store holds
``--resolved`` dead letters each settled by a delivered resend, and 20 open ones, the oldest.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deadletter import count_open_dead_letters, list_dead_letters  # noqa: E402
from deadletter.family import Families  # noqa: E402
from integrator.store import MessageFilter, NewResend, Store  # noqa: E402
from tests.services import require_postgres  # noqa: E402
from tests.store.factories import make_event, make_message  # noqa: E402

BATCH = 500
OPEN = 20


async def _fill(store: Store, resolved: int) -> None:
    """``OPEN`` open dead letters, then ``resolved`` dead ones each resent and delivered."""
    for start in range(0, OPEN + resolved, BATCH):
        size = min(BATCH, OPEN + resolved - start)
        made = [make_message(destination_id="noord") for _ in range(size)]
        await store.accept_events([(make_event(), [m]) for m in made])
        await _set_status(store, [m.id for m in made], "dead")
        records = [await store.get_message(m.id) for m in made]
        settle = [r for r in records if r is not None][max(0, OPEN - start) :]
        resends = [
            NewResend(r, make_message(destination_id="noord", resend_of=r.id), "remap", "b", "x")
            for r in settle
        ]
        await store.add_resends(resends)
        await _set_status(store, [r.message.id for r in resends], "delivered")


async def _set_status(store: Store, ids: list[str], status: str) -> None:
    engine: Any = store._engine  # a bench's shortcut: one UPDATE per batch
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE messages SET status = :s WHERE id IN ("
                + ",".join(f"'{i}'" for i in ids)
                + ")"
            ),
            {"s": status},
        )


async def count_by_families(store: Store) -> dict[str, int]:
    """The former ``count_open_dead_letters``: every dead message's family, read."""
    dead = [
        (m.id, m.destination_id)
        for m in await store.list_messages(MessageFilter(status="dead"), limit=10**7)
    ]
    families = await Families.load(store, [message_id for message_id, _ in dead])
    counts: dict[str, int] = {}
    for message_id, destination_id in dead:
        if families.resolution(message_id).state != "resolved":
            counts[destination_id] = counts.get(destination_id, 0) + 1
    return counts


async def list_by_families(store: Store, limit: int = 100) -> list[str]:
    """The former ``list_dead_letters``' search: 500 dead messages a step, families read."""
    found: list[str] = []
    offset = 0
    while len(found) < limit:
        batch = await store.list_messages(MessageFilter(status="dead"), limit=BATCH, offset=offset)
        families = await Families.load(store, [m.id for m in batch])
        found += [m.id for m in batch if families.resolution(m.id).state != "resolved"]
        if len(batch) < BATCH:
            break
        offset += BATCH
    return found[:limit]


async def list_by_sql(store: Store) -> list[str]:
    return [letter.message.id for letter in await list_dead_letters(store)]


async def _timed(call: Callable[[], Awaitable[Any]], times: list[float]) -> Any:
    start = time.perf_counter()
    answer = await call()
    times.append(time.perf_counter() - start)
    return answer


async def main(resolved: int, postgres: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        schema = None
        url = f"sqlite:///{folder}/store.db"
        if postgres:
            url, schema = require_postgres(), f"bench_{uuid.uuid4().hex[:12]}"
        store = await Store.open(url, schema=schema)
        try:
            await _fill(store, resolved)
            timings: dict[str, list[float]] = {k: [] for k in ("cf", "cs", "lf", "ls")}
            for _ in range(5):
                by_families = await _timed(lambda: count_by_families(store), timings["cf"])
                by_sql = await _timed(lambda: count_open_dead_letters(store), timings["cs"])
                assert by_families == by_sql == {"noord": OPEN}, (by_families, by_sql)
                listed_f = await _timed(lambda: list_by_families(store), timings["lf"])
                listed_s = await _timed(lambda: list_by_sql(store), timings["ls"])
                assert sorted(listed_f) == sorted(listed_s) and len(listed_s) == OPEN
            print(f"{store.backend}: {resolved} resolved dead letters, {OPEN} open")
            for what, a, b in (("count", "cf", "cs"), ("list", "lf", "ls")):
                before, after = statistics.median(timings[a]), statistics.median(timings[b])
                print(
                    f"{what}: families {before * 1000:8.1f} ms   SQL {after * 1000:7.1f} ms   "
                    f"SQL faster by {before / after:.1f}x"
                )
        finally:
            if schema is not None:
                engine: Any = store._engine
                async with engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--resolved", type=int, default=16_000)
    parser.add_argument("--postgres", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.resolved, arguments.postgres))
