"""Translate database exceptions into the store's own, without their text.

Driver errors are unsafe to show: SQLAlchemy quotes SQL parameters and PostgreSQL adds details
such as "Failing row contains (…)" — message content and patient data. So the store raises a fresh
exception that names the operation, the error class, SQLSTATE and constraint only, and raises it
*outside* the ``except`` block so the original is neither chained nor kept as ``__context__``
(where traceback logging would print it anyway).

A few failures the operator must act on or know the cause of (a database that does not exist,
a user PostgreSQL refuses, nothing listening, a server that closed the connection, is starting
up or has no connection left, a read-only database, a user without a privilege the store needs,
a SQLite directory the engine may not write, a full disk) also get
one plain sentence from ONE table, :func:`cause`: what is wrong, where, and which setting to look
at. The engine's start, the CLI and the HTTP API's log line all say the same, since all of them
show the store error's text. The sentence names the database, the host and port, the user or
the SQLite file (the operator's own settings, never the password), and never a driver's text.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from integrator.store.errors import Conflict, StoreError, StoreUnavailable

# SQLSTATE classes and codes that mean "the store cannot do it now; try again later": connection
# (08), resources such as a full disk (53), shutdown (57P), rolled-back transactions (40), a
# database that is gone (3D: dropped, or never made) and a store without its tables (42P01: a
# database made again, empty). Also the store refusing every write whatever it holds: a
# read-only transaction (25006: a standby or a demoted primary after a failover, a managed
# database made read-only as its disk fills, ``default_transaction_read_only``), a user without
# the privilege (42501), a statement cancelled or a lock not had in time (57014, 55P03), a
# database that takes no connections now (55000: ``ALLOW_CONNECTIONS false``, as a DBA sets it
# for maintenance or a managed service while it moves one), a user no longer let in (28: a
# password rotated under the engine, a role made NOLOGIN), and the server's own I/O (58).
# Several need the operator, but they are the store being away or unusable, not a wrong
# request: the API answers 503, the delivery loops wait, and readiness says "writes failing"
# (``write_health``). Anything else (a value a column refuses, a bug's bad SQL) stays "other":
# a 500, and the store is not called down for it.
_TRANSIENT_SQLSTATE_PREFIXES = (
    "08",
    "53",
    "57P",
    "57014",
    "40",
    "3D",
    "42P01",
    "25006",
    "42501",
    "55P03",
    "55000",
    "28",
    "58",
)
# SQLite's: locked, I/O, full, a file or directory the engine may not write (read-only), and a
# damaged file: the store is unavailable (intake answers 503, the recorder holds its attempts,
# readiness says why), never a value it refused, which the recorder would not keep.
_SQLITE_TRANSIENT = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
)
# The server, or something between it and the engine, closed the connection: a restart (its
# shutdown ends every session with 57P01, as ``pg_terminate_backend`` does), a crash of another
# server process (57P02), an idle-session timeout (57P05), a proxy, a firewall or a failover that
# cut it (the socket closed: asyncpg's 08003, or no SQLSTATE at all, said as 08006, see
# ``diagnose``), a commit whose outcome the driver could not learn (08007).
CONNECTION_CLOSED = ("08000", "08003", "08006", "08007", "57P01", "57P02", "57P05")
LOST = "08006"
"""The code of a connection closed under the driver without one (connection_failure)."""
SETTING = "INTEGRATOR_DATABASE_URL"
POOL_MOST = 15
"""The most connections one engine process's pool opens to PostgreSQL: SQLAlchemy's default
queue pool (5 kept, 10 more at peaks), which the hot paths' kept connections come out of."""
P = ParamSpec("P")
R = TypeVar("R")

_SQLITE_NAMED_COLUMNS = re.compile(r"^(UNIQUE|PRIMARY KEY) constraint failed: ([\w., ]+)$")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What can safely be said about a database error."""

    kind: str  # "unique", "foreign_key", "transient" or "other"
    code: str | None  # SQLSTATE or SQLite error name
    constraint: str | None  # constraint name (PostgreSQL) or "table.column" (SQLite)
    error_class: str

    def describe(self) -> str:
        parts = [self.error_class]
        if self.code:
            parts.append(self.code)
        if self.constraint:
            parts.append(f"constraint {self.constraint}")
        return ", ".join(parts)


def diagnose(error: BaseException) -> Diagnosis:
    """Classify a SQLAlchemy or driver error from its codes, never from message text with values."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    driver = getattr(orig, "driver_exception", None) or orig
    sqlstate: str | None = getattr(orig, "sqlstate", None) or getattr(driver, "sqlstate", None)
    sqlite_name: str | None = getattr(orig, "sqlite_errorname", None)
    error_class = type(driver).__name__
    if sqlstate is not None:
        constraint = getattr(driver, "constraint_name", None)
        if sqlstate == "23505":
            return Diagnosis("unique", sqlstate, constraint, error_class)
        if sqlstate == "23503":
            return Diagnosis("foreign_key", sqlstate, constraint, error_class)
        if sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
            return Diagnosis("transient", sqlstate, constraint, error_class)
        return Diagnosis("other", sqlstate, constraint, error_class)
    if sqlite_name is not None:
        if sqlite_name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
            # SQLite's text here holds table and column names only, never values.
            match = _SQLITE_NAMED_COLUMNS.match(str(orig))
            return Diagnosis("unique", sqlite_name, match.group(2) if match else None, error_class)
        if sqlite_name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return Diagnosis("foreign_key", sqlite_name, None, error_class)
        if sqlite_name.startswith(_SQLITE_TRANSIENT):
            return Diagnosis("transient", sqlite_name, None, error_class)
        return Diagnosis("other", sqlite_name, None, error_class)
    # asyncpg raises the socket's own errors, without a SQLSTATE: said as libpq would.
    if isinstance(driver, ConnectionRefusedError):
        return Diagnosis("transient", "08001", None, error_class)
    invalidated = isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
    if isinstance(driver, ConnectionError) or (
        invalidated and "asyncpg" in type(driver).__module__  # PostgreSQL's, or its adapter's
    ):
        # Closed under the driver: at connect (a proxy whose server is gone, a server that
        # stops: "unexpected connection_lost() call"), reset, or found closed by asyncpg.
        return Diagnosis("transient", LOST, None, error_class)
    transient = isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | OSError)
    return Diagnosis("transient" if transient or invalidated else "other", None, None, error_class)


def waiting_helps(code: str | None) -> bool:
    """False for the store's unavailability that waits for the operator, not for time: a
    database that is gone or has no store tables, a SQLite file or directory it may not write.
    A start that would try again a few times (SQLite busy, a server starting) stops at once."""
    if code is None:
        return True
    return not code.startswith(
        (
            "3D",
            "42P01",
            "25006",
            "42501",
            "28",
            "SQLITE_CANTOPEN",
            "SQLITE_READONLY",
            "SQLITE_CORRUPT",
            "SQLITE_NOTADB",
        )
    )


def cause(code: str | None, url: URL | None = None) -> str | None:
    """The plain sentence for a failure the operator must act on, or None for any other.

    THE table from code to sentence: every front door shows it through the store error's text.
    ``url``: the store's (``Target.url``), to name the database, host, user or file; without
    it the sentence names none. Never the password: only the URL's parts that are not secret.
    """
    if code is None:
        return None
    if code == "3D000":
        return f"the database {_database(url)}does not exist{_on(url)} ({SETTING})"
    if code in ("28P01", "28000"):
        user = f" {url.username!r}" if url is not None and url.username else ""
        return f"the user{user} was refused by PostgreSQL{_on(url)} ({SETTING})"
    at = f" at {_host(url)}" if url is not None and url.host else ""
    if code == "08001":
        return f"nothing listens{at} ({SETTING})"
    if code in CONNECTION_CLOSED:
        return (
            f"the database server{at} closed the connection (it restarted, or an administrator, "
            f"a proxy or a failover ended it); the engine connects again at the next try "
            f"({SETTING})"
        )
    if code == "57P03":
        return (
            f"the database server{at} is starting up, shutting down or recovering and takes "
            f"no connections yet ({SETTING})"
        )
    if code == "53100":
        return "the disk of the PostgreSQL server is full"
    if code == "53300":
        # The server's max_connections, or a CONNECTION LIMIT of the database or the user (not
        # binding on a superuser): PostgreSQL says all three with 53300. The pool is
        # SQLAlchemy's default (5, and 10 more at peaks); no setting of the engine changes it.
        user = f" {url.username!r}" if url is not None and url.username else ""
        return (
            f"the database server{at} takes no more connections: its max_connections, or the "
            f"CONNECTION LIMIT of the database {_database(url)}or of the user{user}, is used up "
            f"by this engine's pool (up to {POOL_MOST} connections per engine process) and "
            "other clients; raise that limit, or run fewer engines or clients"
        )
    if code == "55000":
        return (
            f"the database {_database(url)}".rstrip()
            + f"{_on(url)} takes no connections now (ALLOW_CONNECTIONS false: maintenance?)"
        )
    if code == "42P01":
        return f"the database{_on(url)} has no store tables: it was made again, empty ({SETTING})"
    if code == "25006":
        where = f"the database {_database(url)}".rstrip() + _on(url)
        return (
            f"{where} is read-only (a standby, a demoted primary, or "
            f"default_transaction_read_only on): the engine must write to the primary ({SETTING})"
        )
    if code == "42501":
        user = f" {url.username!r}" if url is not None and url.username else ""
        return (
            f"the user{user} lacks a privilege the store needs{_on(url)}: it must be able to "
            f"read and write the store's tables ({SETTING})"
        )
    if code.startswith("SQLITE_FULL") or (code.startswith("SQLITE_IOERR") and _no_room(url)):
        # An I/O error on a full disk too: the shared-memory file that could not grow
        # (SQLITE_IOERR_SHMSIZE) at the open of a store on a full disk read "no answer".
        return f"the disk is full{_sqlite_where(url, 'of')}{FREE_SOME}"
    if code.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")):
        return _sqlite_unwritable(url)
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        path = _sqlite_path(url)
        return (
            f"the SQLite store{'' if path is None else f' {path}'} is damaged: stop the "
            "engine, set the damaged files aside and restore the last backup (docs/operators.md, "
            "Backups); a -wal or -shm file left beside a restored copy damages it so"
        )
    return None


def _database(url: URL | None) -> str:
    return f"{url.database!r} " if url is not None and url.database else ""


def _host(url: URL) -> str:
    return f"{url.host}:{url.port or 5432}"


def _on(url: URL | None) -> str:
    return f" on {_host(url)}" if url is not None and url.host else ""


def _sqlite_path(url: URL | None) -> Path | None:
    if url is None or not url.get_backend_name().startswith("sqlite") or not url.database:
        return None
    return Path(url.database).expanduser().absolute()


NO_ROOM = 64 * 1024
"""Bytes free on the store's disk below which an I/O error is said as a full disk: SQLite's
pages and its shared-memory file (32 KiB) grow in steps no smaller."""


def _free(url: URL | None) -> int | None:
    """Bytes free on a SQLite store's disk now; None where that cannot be read (PostgreSQL's
    disk is the server's)."""
    import shutil

    path = _sqlite_path(url)
    try:
        return None if path is None else shutil.disk_usage(path.parent).free
    except OSError:
        return None


def _no_room(url: URL | None) -> bool:
    """Whether the SQLite store's disk has less than ``NO_ROOM`` free now (False where that
    cannot be read: another error, then, said as before)."""
    free = _free(url)
    return free is not None and free < NO_ROOM


FREE_SOME = ": free some space there first; nothing is written until then, a prune included"
"""What to do about a full disk, said with it: a prune, run to make room, needs a little itself
(its journal, its audit entry) and failed on that disk with only SQLite's words."""

ROOM_AGAIN = 16 * 1024 * 1024
"""Bytes free on a SQLite store's disk at which a full disk is taken to have been freed
(``write_health``): well above ``NO_ROOM``, so a disk filling up again is not."""


def room_again(url: URL | None) -> bool:
    """Whether the SQLite store's disk has ``ROOM_AGAIN`` free now (False where that cannot be
    read, or for PostgreSQL, whose disk is the server's)."""
    free = _free(url)
    return free is not None and free >= ROOM_AGAIN


def _sqlite_where(url: URL | None, word: str) -> str:
    path = _sqlite_path(url)
    return f" ({word} {path.parent})" if path is not None else ""


def _sqlite_unwritable(url: URL | None) -> str:
    """Why SQLite may not write the store, found on the disk now (the code does not say)."""
    path = _sqlite_path(url)
    if path is None:
        return "the SQLite store cannot be written: the engine must be able to write its file"
    folder = path.parent
    side_files = f"{path.name}-wal and {path.name}-shm"
    problems = []
    if not os.access(folder, os.W_OK | os.X_OK):
        problems.append(
            f"its directory is read-only; the engine must be able to create {side_files} there"
        )
    files = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    unwritable = [
        str(file)
        for file in files
        if file.exists() and (not file.is_file() or not os.access(file, os.R_OK | os.W_OK))
    ]
    if unwritable:
        each = "it must be a file" if len(unwritable) == 1 else "each must be a file"
        problems.append(
            f"the engine cannot write {' or '.join(unwritable)}; {each} it can read and write"
        )
    if problems:
        return f"cannot open {path}: " + "; and ".join(problems)
    return (
        f"cannot open {path} for writing: the engine must be able to write it and create "
        f"{side_files} in {folder}"
    )


def translate(operation: str, error: BaseException, url: URL | None = None) -> StoreError:
    """The store exception for ``error``, with a message safe for logs.

    ``url``: the store's, so that the sentence of :func:`cause` names the database or file.
    The exception keeps the code and the sentence (``StoreError.code``, ``.cause``).
    """
    diagnosis = diagnose(error)
    text = f"{operation} failed ({diagnosis.describe()})"
    said = cause(diagnosis.code, url)
    if said is not None:
        text = f"{text}: {said}"
    failure: StoreError
    if diagnosis.kind == "unique":
        failure = Conflict(
            f"{operation}: a unique value is already taken ({diagnosis.describe()})",
            constraint=diagnosis.constraint,
        )
    elif diagnosis.kind == "transient":
        failure = StoreUnavailable(text)
    else:
        failure = StoreError(text)
    failure.code = diagnosis.code
    failure.cause = said
    return failure


def store_url(owner: object) -> URL | None:
    """The URL of the store a guarded function works on: a ``Store``'s target's, or an
    ``AsyncEngine``'s (both keep the password, which :func:`cause` never uses)."""
    url = getattr(getattr(owner, "_target", None), "url", None) or getattr(owner, "url", None)
    return url if isinstance(url, URL) else None


def guarded(
    operation: str, *, on_foreign_key: Callable[[], StoreError] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Decorate a store method so database failures leave it as safe store errors.

    A decorator rather than a context manager on purpose: an exception raised from a context
    manager's exit gets the original error as ``__context__``; raised here, after the ``except``
    block has ended, it has none. ``on_foreign_key`` gives a foreign-key violation the caller's
    meaning (e.g. "no such message").
    """

    def decorate(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(method)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            failure: StoreError
            try:
                return await method(*args, **kwargs)
            except (sa_exc.SQLAlchemyError, OSError) as error:
                if on_foreign_key is not None and diagnose(error).kind == "foreign_key":
                    failure = on_foreign_key()
                else:
                    failure = translate(operation, error, store_url(args[0]) if args else None)
            raise failure

        return run

    return decorate
