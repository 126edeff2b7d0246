"""What one refresh of an open dashboard costs (``GET /dashboard/figures``) on a store with a
long history, before and after two changes, alternately in one run:

    .venv/bin/python bench/bench_dashboard_refresh.py                 # 50,000 messages
    .venv/bin/python bench/bench_dashboard_refresh.py --messages 100000

Every open dashboard asks for its figures every 5 s. The refresh counted the unrouted events
(every event read) though it never shows them, and read each tile's oldest waiting message as
the first of ``pending_messages(limit=1)``, which walks the destination's ``(destination_id,
seq)`` index past every delivered message. "Before" is today's refresh plus that count, with
the old read put back for the oldest waiting message; "after" is today's refresh. The store
holds one destination's ``--messages`` messages, all delivered two days ago but the newest 100
(50 queued, 50 retrying), and as many events; SQLite, the console app called in-process as a
viewer for all clusters, median of 9 each. The oldest waiting message alone is timed the same
way, both reads.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from destinations.config import dump_destination  # noqa: E402
from integrator.access import Grant, Role  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.store import Store  # noqa: E402
from integrator.store.tables import messages  # noqa: E402
from tests.console.test_saved_searches import signed_in  # noqa: E402
from tests.integrator.support import destination, settings_for  # noqa: E402
from tests.store.factories import make_event, make_message  # noqa: E402

WAITING = 100  # the newest messages: half queued, half retrying
BATCH = 1000
ROUNDS = 9


async def seed(url: str, count: int) -> None:
    store = await Store.open(url)
    try:
        for start in range(0, count, BATCH):
            await store.accept_events(
                [
                    (make_event(zd_number=f"ZD{n:09d}"), [make_message(destination_id="noord")])
                    for n in range(start, min(start + BATCH, count))
                ]
            )
        done, retrying = count - WAITING, count - WAITING // 2
        past = datetime.now(UTC) - timedelta(days=2)  # history: delivered before the last hour
        async with store._engine.begin() as conn:  # a bench's shortcut to a history, no flow
            seq = messages.c.seq
            await conn.execute(
                update(messages).where(seq <= done).values(status="delivered", created_at=past)
            )
            await conn.execute(update(messages).where(seq > retrying).values(status="retrying"))
    finally:
        await store.close()


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder), search_key="a-bench-search-key")
        settings.destinations_dir.mkdir()
        config = destination("noord", 9, providers=["ziekenhuis-noord"], enabled=False)
        (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
        await seed(settings.database_url, count)
        engine = Engine(settings)
        await engine.start()
        store = engine.store
        oldest_waiting = store.oldest_waiting

        async def first_pending_at(destination_id: str) -> datetime | None:
            first = await store.pending_messages(destination_id, limit=1)
            return first[0].created_at if first else None

        async def oldest_waiting_at(destination_id: str) -> datetime | None:
            return (await oldest_waiting([destination_id])).get(destination_id)

        async def first_pending_each(destination_ids: Sequence[str]) -> dict[str, datetime]:
            firsts = {d: await first_pending_at(d) for d in destination_ids}
            return {d: at for d, at in firsts.items() if at is not None}

        try:
            assert await oldest_waiting_at("noord") == await first_pending_at("noord")
            async with signed_in(engine, "ada@example.org", Grant(Role.VIEWER)) as ada:

                async def after() -> None:
                    assert (await ada.get("/dashboard/figures")).status_code == 200

                async def before() -> None:
                    # The refresh as it was: the unrouted events counted too (never shown),
                    # and the oldest waiting message read as the first pending one.
                    store.oldest_waiting = first_pending_each  # type: ignore[method-assign]
                    try:
                        await store.count_unrouted_events()
                        await after()
                    finally:
                        store.oldest_waiting = oldest_waiting  # type: ignore[method-assign]

                await after()
                olds: list[float] = []
                news: list[float] = []
                for _ in range(ROUNDS):  # alternately, so both meet the same machine
                    olds.append(await timed(before))
                    news.append(await timed(after))
                listed: list[float] = []
                found: list[float] = []
                for _ in range(ROUNDS):
                    listed.append(await timed(lambda: first_pending_at("noord")))
                    found.append(await timed(lambda: oldest_waiting_at("noord")))
            old, new = statistics.median(olds) * 1000, statistics.median(news) * 1000
            a, b = statistics.median(listed) * 1000, statistics.median(found) * 1000
            print(f"{count} messages ({WAITING} waiting), {count} events; median of {ROUNDS}")
            print(f"refresh before: {old:.1f} ms   after: {new:.1f} ms   ratio {old / new:.1f}x")
            print(f"oldest waiting before: {a:.2f} ms   after: {b:.2f} ms   ratio {a / b:.1f}x")
        finally:
            await engine.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().messages))
