"""The checkpoint a prune ends with holds the engine's writes up briefly, never for long.

``PRAGMA wal_checkpoint(TRUNCATE)`` takes SQLite's write lock, then waits (its connection's busy
timeout) for every reader still on an older snapshot: a backup, an export, ``audit verify``.
Meanwhile every write waits. With the store's busy timeout (15 s) for that wait, a nightly prune
beside a nightly backup held the engine's intake up for 15 s, and a write that began as the
checkpoint did timed out with it (a 503 ``the store is unavailable``, seen with an engine
taking events). The checkpoint now waits briefly; a reader that still holds the log is left to
the engine's own checkpoints, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path

from integrator.store import Store
from integrator.store.engine import SQLITE_BUSY_TIMEOUT_MS
from integrator.store.old_pages import CHECKPOINT_WAIT_MS
from tests.store.factories import make_event, make_message


def test_a_reader_on_an_old_snapshot_holds_the_engines_writes_up_briefly(tmp_path: Path) -> None:
    database = tmp_path / "integrator.db"
    url = f"sqlite:///{database}"
    writes: dict[str, float] = {}

    def engine_write() -> None:  # another process's write, as patient as the engine's
        with contextlib.closing(sqlite3.connect(database, timeout=0)) as conn:
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            started = time.monotonic()
            conn.execute("UPDATE messages SET attempt_count = attempt_count + 1")
            conn.commit()
            writes["waited"] = time.monotonic() - started

    async def run() -> tuple[float, int]:
        store = await Store.open(url)
        try:
            await store.accept_event(make_event(), [make_message()])
            with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as reader:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM events").fetchone()  # its snapshot
                await store.accept_event(make_event(), [make_message()])  # newer than it
                writer = threading.Thread(target=engine_write)
                started = time.monotonic()
                reclaim = asyncio.ensure_future(store.reclaim_space())
                await asyncio.sleep(0.2)  # the checkpoint holds the write lock by now
                writer.start()
                await reclaim
                took = time.monotonic() - started
                await asyncio.to_thread(writer.join, 30)
                reader.execute("COMMIT")
            async with store._engine.connect() as conn:  # its own setting back on the pool's
                timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            return took, int(timeout)
        finally:
            await store.close()

    took, timeout = asyncio.run(run())
    assert took < CHECKPOINT_WAIT_MS / 1000 + 3, took
    assert writes["waited"] < CHECKPOINT_WAIT_MS / 1000 + 3, writes
    assert timeout == SQLITE_BUSY_TIMEOUT_MS
