"""The SQLite connections of the store's pool, so that closing the store ends what it left.

A store step that a stop gives up on (``engine._on_stop``) is cancelled on the event loop, but
its statement goes on on aiosqlite's worker thread, and that thread closes the connection after
it (the close SQLAlchemy queued when it gave the connection up) only while the event loop still
runs. Once the loop has ended (a command's end, ``eventloop.LEFTOVERS_S``; a test's
``asyncio.run``), the thread fails to hand the statement's answer to it and ends there, the
connection still open in the write transaction it had begun: SQLite's write lock then stayed
with it until the garbage collector came by, and the next engine started in the same process (a
test's, a command's after a stop) waited the busy timeout for its own leftover and failed
(SQLITE_BUSY).

So the store's close ends them itself (``PoolConnections.end``): a statement still running in
a transaction (only such a one holds, or waits for, the write lock) is interrupted (SQLite
rolls back the transaction it wrote in: the work was given up on already, and a given-up step
leaves nothing the next start cannot mend), and a thread of our own closes each such
connection once its worker thread is done, whether or not the loop still runs. A statement
waiting for another process's lock is not interrupted by SQLite; it ends at the busy timeout
at the latest, holding no lock meanwhile, and its connection is closed then.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

LEFTOVERS_ON_CLOSE_S = 1.0
"""How long the store's close waits for the connections it ends to close (a statement
interrupted ends at once); past that it goes on and says so, and they close when their
statement ends. Within the stop's store step (``engine.STORE_STEP_ON_STOP_S``)."""

POLL_S = 0.02


class PoolConnections:
    """The pool's SQLite connections still open, each with the worker thread that opened it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, tuple[sqlite3.Connection, threading.Thread]] = {}
        self.factory = self._factory()
        """The ``sqlite3.connect`` factory (``connect_args``) that registers each connection;
        aiosqlite opens it on the connection's worker thread."""

    def _factory(self) -> type[sqlite3.Connection]:
        registry = self

        class Tracked(sqlite3.Connection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                registry._opened(self)

            def close(self) -> None:
                super().close()
                registry._closed(self)

        return Tracked

    def _opened(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._open[id(conn)] = (conn, threading.current_thread())

    def _closed(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._open.pop(id(conn), None)

    def end(self) -> Ending:
        """Interrupt the statements still running in a transaction on the pool's connections
        and have each such connection closed once its worker thread is done; what waits for
        that (``Ending``).

        Called as the store closes, when nothing of its own may run on them any more: only
        work given up on is still there."""
        with self._lock:
            left = list(self._open.values())
        closers = []
        for conn, worker in left:
            # Only one in a transaction holds, or waits for, the write lock. An idle one is
            # closed by the pool's close as always: the interrupt would stay pending until its
            # next statement and cut short the checkpoint its close makes (the WAL and
            # shared-memory files were left beside the database), and waiting for a closer of
            # its own made every close of the store 12 ms longer (every command, every test).
            if not conn.in_transaction:
                continue
            conn.interrupt()  # thread-safe
            closer = threading.Thread(
                target=_close_after, args=(conn, worker), name="store-leftover-close", daemon=True
            )
            closer.start()
            closers.append(closer)
        return Ending(closers)


class Ending:
    """The connections being ended by ``PoolConnections.end``."""

    def __init__(self, closers: list[threading.Thread]) -> None:
        self._closers = closers

    async def wait(self, within: float = LEFTOVERS_ON_CLOSE_S) -> int:
        """Wait up to ``within`` seconds for them to close; how many were still open then.

        Polled, not awaited through the loop: the closers must not need the loop, which may
        be gone before they are done."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            running = sum(closer.is_alive() for closer in self._closers)
            if not running or loop.time() >= deadline:
                return running
            await asyncio.sleep(POLL_S)


def _close_after(conn: sqlite3.Connection, worker: threading.Thread) -> None:
    """Close ``conn`` once its worker thread has ended: normally after it closed the connection
    itself (this close is then nothing); with the loop gone, when it died answering it. Not
    before: closed while a statement of it runs, the connection would linger, locks and all,
    until that statement is finalized."""
    worker.join()
    conn.close()
