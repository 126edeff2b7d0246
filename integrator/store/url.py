"""Turn the operator's database URL into one for the async drivers the store runs on.

Operators write the short forms (``sqlite:///var/integrator.db``, ``postgresql://…``); the store
needs ``sqlite+aiosqlite`` or ``postgresql+asyncpg``. Error messages name the driver only, never
the URL, because a URL can carry a password; where people must see which store is meant, they get
``Target.display``, which has no password and no query.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from integrator.store.errors import StoreConfigError, StoreUrlRefused
from integrator.urlcheck import SQLITE_HOST_RULE, SQLITE_QUERY_RULE, postgres_query_problem

Backend = Literal["sqlite", "postgresql"]

_DRIVERS: dict[str, tuple[Backend, str]] = {
    "sqlite": ("sqlite", "sqlite+aiosqlite"),
    "sqlite+aiosqlite": ("sqlite", "sqlite+aiosqlite"),
    "postgres": ("postgresql", "postgresql+asyncpg"),
    "postgresql": ("postgresql", "postgresql+asyncpg"),
    "postgresql+asyncpg": ("postgresql", "postgresql+asyncpg"),
}

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class NoStore(StoreConfigError):
    """A command that only reads found no store where the settings point.

    Opening creates a store (``Store.open``); for a read command that would hide a wrong or
    missing setting behind an empty answer, so ``Store.open_existing`` raises this instead.
    """

    def __init__(
        self, display: str, why: str | None = None, *, missing_database: bool = False
    ) -> None:
        super().__init__(f"no store at {display}" + (f": {why}" if why else ""))
        self.display = display
        # A PostgreSQL database that is not there: the engine makes its tables, not that.
        self.missing_database = missing_database


@dataclass(frozen=True, slots=True)
class Target:
    """Where the store lives: the async URL, its backend and (PostgreSQL) the schema.

    ``display`` names it for people: the operator's form of the URL (a SQLite file by its
    absolute path), the password masked and the query left out (it may hold credentials).
    """

    url: URL
    backend: Backend
    schema: str | None
    display: str = ""
    connect_args: Mapping[str, Any] = field(default_factory=dict)
    """asyncpg's ``connect`` arguments for the libpq keys the URL's query gave (``url`` has no
    query left: SQLAlchemy would hand each key to asyncpg as is, an unknown keyword)."""
    tls_required: str | None = None
    """The URL's ``sslmode`` when it refuses a connection without TLS (``require`` and up)."""
    tls_files: tuple[str, ...] = ()
    """``sslrootcert=PATH`` and the like, as the URL gave them, to name in a refusal."""

    @property
    def server_settings(self) -> dict[str, str]:
        """What the store sets on every PostgreSQL session: its name in ``pg_stat_activity``
        (the URL's ``application_name``, else ``integrator``) and the schema."""
        settings = {"application_name": "integrator"}
        settings.update(self.connect_args.get("server_settings", {}))
        if self.schema is not None:
            settings["search_path"] = self.schema
        return settings


def resolve(url: str, schema: str | None = None, *, create: bool = True) -> Target:
    """Validate ``url`` and ``schema`` and return the async form.

    ``create``: SQLite's folder is created. Without it, a missing SQLite file is :class:`NoStore`
    and nothing is made on disk.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreUrlRefused("the database URL cannot be parsed") from None
    known = _DRIVERS.get(parsed.drivername)
    if known is None:
        raise StoreUrlRefused(
            f"unsupported database driver {parsed.drivername!r}: use sqlite:// or postgresql://"
        )
    backend, drivername = known
    display = _display(parsed, backend, schema)
    parsed = parsed.set(drivername=drivername)
    if schema is not None:
        if backend != "postgresql":
            raise StoreUrlRefused("a schema can only be given for PostgreSQL")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise StoreUrlRefused("a schema name must match [a-z_][a-z0-9_]* (at most 63)")
    if backend == "sqlite":
        _check_sqlite_url(parsed)
        if create:
            _make_sqlite_file(parsed)
        elif not _sqlite_path(parsed).is_file():
            blocker = not_a_directory(_sqlite_path(parsed))
            raise NoStore(display, None if blocker is None else f"{blocker} is not a directory")
        return Target(url=parsed, backend=backend, schema=schema, display=display)
    query = {key: _last(value) for key, value in parsed.query.items()}
    problem = postgres_query_problem(query)
    if problem is not None:  # the settings refuse it first; Store.open is also called directly
        raise StoreUrlRefused(problem)
    mode = query.get("sslmode", query.get("ssl"))
    return Target(
        url=parsed.set(query={}),
        backend=backend,
        schema=schema,
        display=display,
        connect_args=asyncpg_arguments(query),
        tls_required=mode if mode in ("require", "verify-ca", "verify-full") else None,
        tls_files=tuple(f"{key}={query[key]}" for key in _TLS_FILES if key in query),
    )


def _last(value: str | tuple[str, ...]) -> str:
    """A key given twice counts once, the last time, as in libpq."""
    return value if isinstance(value, str) else value[-1]


_TLS_FILES = ("sslrootcert", "sslcert", "sslkey", "sslcrl")
"""Files asyncpg reads only from a DSN's query, as does ``sslpassword`` (the key's password:
a secret, never named)."""


def asyncpg_arguments(query: Mapping[str, str]) -> dict[str, Any]:
    """asyncpg's equivalents of the libpq keys of a URL's query (``urlcheck`` knows which).

    ``sslmode`` is asyncpg's ``ssl`` (the same names, the same meanings; ``ssl`` is taken as
    asyncpg's own spelling of it); ``connect_timeout``
    its ``timeout``; ``application_name`` a server setting. The certificate and key files
    asyncpg reads only from a DSN's query, so they go in one that holds nothing else: the
    host, user and password it is given apart take precedence over a DSN's.
    """
    arguments: dict[str, Any] = {}
    mode = query.get("sslmode", query.get("ssl"))  # the same, where both are given
    if mode is not None:
        arguments["ssl"] = mode
    if "connect_timeout" in query:
        arguments["timeout"] = float(query["connect_timeout"])
    if "application_name" in query:
        arguments["server_settings"] = {"application_name": query["application_name"]}
    files = {key: query[key] for key in (*_TLS_FILES, "sslpassword") if key in query}
    if files:
        arguments["dsn"] = f"postgresql://?{urlencode(files)}"
    return arguments


def _display(url: URL, backend: Backend, schema: str | None) -> str:
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            return "sqlite://"
        return f"sqlite:///{_sqlite_path(url).absolute()}"
    shown = url.set(query={}).render_as_string(hide_password=True)
    return f"{shown} (schema {schema})" if schema is not None else shown


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").expanduser()


def _check_sqlite_url(url: URL) -> None:
    if url.host or url.port or url.username:
        raise StoreUrlRefused(SQLITE_HOST_RULE)
    if (url.database or "") in ("", ":memory:"):
        # Every pooled connection would see its own empty database: the record would vanish.
        raise StoreUrlRefused(
            "an in-memory SQLite database cannot hold the store: use a file, as "
            "sqlite:///var/integrator.db (three slashes before a relative path, four before an "
            "absolute one)"
        )
    if "uri" in url.query:
        raise StoreUrlRefused("SQLite URI filenames are not supported: give a file path")
    if url.query:
        raise StoreUrlRefused(SQLITE_QUERY_RULE)


def not_a_directory(path: Path) -> Path | None:
    """What stands where a directory above ``path`` should be (a SQLite store's directory, or
    one above it, is a file), if anything: then nothing can be made there, and it is no
    directory that "does not exist yet"."""
    for folder in path.parents:
        if folder.exists():
            return None if folder.is_dir() else folder
    return None


def _make_sqlite_file(url: URL) -> None:
    """Make the folder, and the database file readable by its owner only: it holds patient
    data. SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so they
    follow; a file that exists already keeps its mode (see ``exposed_store_file``)."""
    path = _sqlite_path(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        blocker = not_a_directory(path)
        raise StoreConfigError(
            f"the folder {path.parent.absolute()} for the SQLite database cannot be created"
            + ("" if blocker is None else f": {blocker.absolute()} is not a directory")
            + " (INTEGRATOR_DATABASE_URL)"
        ) from None
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        raise StoreConfigError(
            f"the SQLite database file {path.absolute()} cannot be created: the engine must be "
            "able to write its directory (INTEGRATOR_DATABASE_URL)"
        ) from None


def exposed_store_file(target: Target) -> str | None:
    """A warning when a SQLite store's files may be read by other users of the machine (made
    before new stores were created private, or by hand), naming the fix; None otherwise."""
    if target.backend != "sqlite":
        return None
    path = _sqlite_path(target.url)
    exposed = []
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            exposed.append(f"{file.name} ({mode:04o})")
    if not exposed:
        return None
    return (
        f"the store's files can be read by other users of this machine: {', '.join(exposed)}; "
        f"they hold patient data: chmod 600 {path}*"
    )
