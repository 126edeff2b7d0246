"""Create the async engine with the connection settings the store relies on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from integrator.store.url import Target

SQLITE_BUSY_TIMEOUT_MS = 15_000
"""How long a SQLite writer waits for another one before giving up (StoreUnavailable)."""

SQLITE_PRAGMAS = (
    # busy_timeout first: switching a fresh file to WAL takes a lock, and without the timeout a
    # second process opening the same new database at that moment fails at once with SQLITE_BUSY.
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    # Takes effect only in a new, empty file (before WAL is switched on): an event or a message
    # row is 2-3 KB, so a 4 KiB page held one row and wasted the rest; 8 KiB pages hold three.
    # Accepting events writes about a third fewer pages. An older store keeps its page size.
    "PRAGMA page_size=8192",
    # Takes effect only in a new, empty file: pruning can then give pages back with
    # ``PRAGMA incremental_vacuum``. An older store keeps its mode until ``VACUUM``
    # (``integrator prune --vacuum``).
    "PRAGMA auto_vacuum=INCREMENTAL",
    # WAL lets readers run while one writer commits; NORMAL loses no committed data on a process
    # crash (only, at worst, the last transactions on power loss); foreign keys are off by default.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # A checkpoint (WAL pages copied back into the database, with an fsync) every 5,000 pages
    # (40 MB at 8 KiB) instead of SQLite's 1,000: the pages every commit rewrites (the ends of
    # the indexes, the newest rows) are copied back once per checkpoint, not five times. The WAL
    # file stays at that size between checkpoints.
    "PRAGMA wal_autocheckpoint=5000",
    "PRAGMA foreign_keys=ON",
)


def create_engine(target: Target) -> AsyncEngine:
    """An engine whose SQL parameters never reach logs or exception text (patient data)."""
    connect_args: dict[str, Any] = {}
    if target.backend == "postgresql":
        settings = {"application_name": "integrator"}
        if target.schema is not None:
            settings["search_path"] = target.schema
        connect_args["server_settings"] = settings
    # SQLite: no rollback when a connection goes back to the pool. The store ends every
    # transaction itself (``begin()`` commits or rolls back; closing a connection rolls back
    # whatever it still has open), so the pool's own rollback after each commit was one more
    # aiosqlite thread hop on every write. PostgreSQL keeps it: there that rollback is also
    # what finds a connection the server has closed before the pool hands it out again.
    reset: dict[str, Any] = {"pool_reset_on_return": None} if target.backend == "sqlite" else {}
    engine = create_async_engine(
        target.url, hide_parameters=True, connect_args=connect_args, **reset
    )
    if target.backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    set_sqlite_pragmas(dbapi_connection)


def set_sqlite_pragmas(dbapi_connection: Any) -> None:
    """The settings every SQLite connection of the store gets, the pool's and the writer's."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
