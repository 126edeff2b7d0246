"""An engine on SQLite stopped while a store write it gives up on is still running leaves
SQLite's write lock to no one once its process's event loop has ended.

Seen once in a full parallel run: a test stopped an engine, started another on the same store
in the same process, and that start waited the busy timeout (15 s) for SQLite's lock and failed.
The stop gives up on a store step after ``STORE_STEP_ON_STOP_S``; the step's statement goes on
on aiosqlite's worker thread, which, once the loop has ended, dies answering it, its connection
left open in the write transaction it had begun (``store.sqlite_leftovers``). Here the daily
prune's first write is made to wait for the lock (a second connection holds it) until the
engine's loop has ended; the store must then be free for the next one.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine as SyncEngine

from integrator import eventloop
from integrator.engine import Engine
from integrator.lifecycle.daily import DailyPrune
from integrator.store import Store
from tests.integrator.support import settings_for

LEASE_WRITE = "UPDATE leases"
"""The daily prune's first write (``Store.claim_lease``)."""


@pytest.fixture
def no_collector() -> Iterator[None]:
    """The garbage collector off: a connection left open is closed when it is collected, and
    the lock must be let go by the store's close, not by a collection that may never come."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _until_ended(threads_before: set[threading.Thread], within: float = 30.0) -> None:
    """Wait until the threads started since ``threads_before`` have ended (or ``within``)."""
    deadline = time.monotonic() + within
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.02)


def _write_lock_free(database: Path) -> bool:
    conn = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


# aiosqlite's worker thread, its statement ended after the loop, fails to answer it (as the
# module says); its connection is closed all the same.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_stop_that_gave_up_on_a_write_leaves_no_lock_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_collector: None
) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    database = tmp_path / "store.db"

    async def made() -> None:
        await (await Store.open(settings.database_url)).close()

    eventloop.run(made(), "asyncio")  # made before: the engine's daily prune looks at start
    threads_before = set(threading.enumerate())

    gate: dict[str, asyncio.Event] = {}
    real_tick = DailyPrune.tick

    async def tick_when_told(self: DailyPrune) -> Any:
        await gate["tick"].wait()
        return await real_tick(self)

    monkeypatch.setattr(DailyPrune, "tick", tick_when_told)
    blocker = sqlite3.connect(database, isolation_level=None, check_same_thread=False)

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if LEASE_WRITE in statement:
            gate["writing"].set()

    async def stopped_while_writing() -> None:
        gate.update(tick=asyncio.Event(), writing=asyncio.Event())
        engine = Engine(settings)
        await engine.start()
        blocker.execute("BEGIN IMMEDIATE")  # the lease's write waits for SQLite's lock
        gate["tick"].set()
        await asyncio.wait_for(gate["writing"].wait(), timeout=30)
        await engine.stop()  # gives up on the prune's write (and on what waits behind it)

    event.listen(SyncEngine, "before_cursor_execute", seen)
    try:
        eventloop.run(stopped_while_writing(), "asyncio")
    finally:
        event.remove(SyncEngine, "before_cursor_execute", seen)
        blocker.execute("ROLLBACK")  # the write given up on may take the lock now
        blocker.close()
    # Its statement ends (taking the lock first, if nothing ends it) and its thread with it,
    # before the store is opened again: opened first, it could take the lock before the
    # leftover did, and the leftover would hold it only after the test.
    _until_ended(threads_before)

    async def opened_again() -> None:
        # As the next start opens it: it takes the write lock (``Store._check_writable``).
        await (await Store.open(settings.database_url)).close()

    eventloop.run(opened_again(), "asyncio")
    assert _write_lock_free(database)
