"""Create the async engine with the connection settings the store relies on."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from integrator.store.compiled_cache import COMPILED
from integrator.store.errors import StoreTlsError
from integrator.store.sqlite_leftovers import PoolConnections
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
    # Deleted and overwritten content is overwritten with zeros in the page, not only unlinked:
    # a pruned payload must not stay readable in a page's free space (or in a backup copied
    # from it). Debian's SQLite has this on by default, other builds (macOS, python.org's) not.
    "PRAGMA secure_delete=ON",
)


def create_engine(target: Target, *, connections: PoolConnections | None = None) -> AsyncEngine:
    """An engine whose SQL parameters never reach logs or exception text (patient data).

    ``connections`` (SQLite): registers every connection the pool opens, for the store's close
    to end those still open (``sqlite_leftovers``)."""
    connect_args: dict[str, Any] = {}
    if target.backend == "sqlite" and connections is not None:
        connect_args["factory"] = connections.factory
    if target.backend == "postgresql":
        connect_args.update(target.connect_args)
        connect_args["server_settings"] = target.server_settings
        if target.tls_required is not None:
            connect_args["async_creator_fn"] = _tls_connect(target.tls_required, target.tls_files)
    # SQLite: no rollback when a connection goes back to the pool. The store ends every
    # transaction itself (``begin()`` commits or rolls back; closing a connection rolls back
    # whatever it still has open), so the pool's own rollback after each commit was one more
    # aiosqlite thread hop on every write.
    # PostgreSQL: the pool pings a connection when it hands it out (SQLAlchemy's pre-ping, one
    # short round trip), and replaces it when the ping fails. Connections that sat idle in the
    # pool through a server restart or a network cut were otherwise found dead only by the
    # request that used them: after an outage, one failed request (503) per pooled connection
    # while /readyz already said ready. The rollback on return stays: it ends whatever a
    # connection given back mid-transaction (a cancelled call) still has open, and SQLAlchemy
    # skips it when the connection's own transaction already ended. The hot paths keep their
    # connections checked out, out of the pool's sight: ``pg_hot_writes`` checks those itself.
    pool: dict[str, Any] = (
        {"pool_reset_on_return": None} if target.backend == "sqlite" else {"pool_pre_ping": True}
    )
    engine = create_async_engine(
        target.url,
        hide_parameters=True,
        connect_args=connect_args,
        # compiled once per process, not once per engine (integrator.store.compiled_cache)
        execution_options={"compiled_cache": COMPILED},
        **pool,
    )
    if target.backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "connect", _prefer_lz4)
    return engine


#: Payloads (an event's JSON, an HL7 message: 2-3 KB each) are compressed by PostgreSQL when a
#: row passes ~2 KB. Its default, pglz, was the dearest part of accepting events: the server's
#: CPU per accepted event about 0.6 of it with lz4 (measured on a fresh database, alternating).
#: lz4 is there from PostgreSQL 14 on, when the server was built with it (the usual packages
#: are); elsewhere this selects no row and changes nothing. A session setting, not a column's:
#: no migration, and values already stored (pglz) read as before, as do lz4 ones on any server
#: that offers lz4. ``set_config(..., false)``: for the session, not only the transaction.
PREFER_LZ4 = (
    "SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings "
    "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)


def _prefer_lz4(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # On the driver's connection itself, outside any transaction, so a rollback cannot undo it.
    dbapi_connection.run_async(lambda conn: conn.execute(PREFER_LZ4))


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    set_sqlite_pragmas(dbapi_connection)


NEW_FILE_ONLY = frozenset({"page_size", "auto_vacuum"})
"""Pragmas of ``SQLITE_PRAGMAS`` that take effect only in a new, empty file, so are set only
there: in a file with tables, ``auto_vacuum=…`` still waits for SQLite's write lock (up to the
busy timeout, then fails), so every connection opened while another process wrote (a prune, a
rotation's retirement, an engine's burst) waited for that writer before its first read."""


def set_sqlite_pragmas(dbapi_connection: Any) -> None:
    """The settings every SQLite connection of the store gets, the pool's and the writer's."""
    cursor = dbapi_connection.cursor()
    try:
        empty: bool | None = None
        for pragma in SQLITE_PRAGMAS:
            if pragma.removeprefix("PRAGMA ").split("=")[0] in NEW_FILE_ONLY:
                if empty is None:
                    cursor.execute("PRAGMA page_count")
                    empty = cursor.fetchone()[0] == 0
                if not empty:
                    continue
            cursor.execute(pragma)
    finally:
        cursor.close()


def _tls_connect(mode: str, files: Sequence[str]) -> Callable[..., Awaitable[Any]]:
    """asyncpg's ``connect`` with its TLS failures as one line naming ``sslmode``.

    asyncpg says why in a plain ``ConnectionError`` (the server refused the upgrade, or
    answered it with an error), an ``ssl.SSLError`` (the certificate) or a
    ``ClientConfigurationError`` or an ``OSError`` naming a file (a certificate or key file
    that is not there or cannot be read). Their text names the server's address or a file,
    never the password or a query parameter. A refused or lost TCP connection
    (``ConnectionRefusedError`` and the other subclasses) stays what it is: the store is not
    there (yet), which the store's callers wait for.
    """
    import asyncpg

    async def connect(*args: Any, **kwargs: Any) -> Any:
        why: str | None = None
        try:
            return await asyncpg.connect(*args, **kwargs)
        except ssl.SSLError as error:  # e.g. "certificate verify failed: self-signed ..."
            why = getattr(error, "verify_message", None) or error.reason or type(error).__name__
            why = f"{type(error).__name__}: {why}"
        except asyncpg.ClientConfigurationError as error:
            why = str(error).splitlines()[0]
        except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
            # ssl's loaders give no file name: name those the URL gave (paths, not secrets).
            named = error.filename or ", ".join(files) or "a certificate file"
            why = f"{named}: {error.strerror or type(error).__name__}"
        except ConnectionError as error:
            if type(error) is not ConnectionError:
                raise
            why = str(error)
        raise StoreTlsError(
            f"TLS to the store failed (sslmode={mode} in INTEGRATOR_DATABASE_URL): {why}"
        )

    return connect
