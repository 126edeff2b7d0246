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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from integrator.store.errors import StoreConfigError

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

    def __init__(self, display: str, why: str | None = None) -> None:
        super().__init__(f"no store at {display}" + (f": {why}" if why else ""))
        self.display = display


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


def resolve(url: str, schema: str | None = None, *, create: bool = True) -> Target:
    """Validate ``url`` and ``schema`` and return the async form.

    ``create``: SQLite's folder is created. Without it, a missing SQLite file is :class:`NoStore`
    and nothing is made on disk.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreConfigError("the database URL cannot be parsed") from None
    known = _DRIVERS.get(parsed.drivername)
    if known is None:
        raise StoreConfigError(
            f"unsupported database driver {parsed.drivername!r}: use sqlite:// or postgresql://"
        )
    backend, drivername = known
    display = _display(parsed, backend, schema)
    parsed = parsed.set(drivername=drivername)
    if schema is not None:
        if backend != "postgresql":
            raise StoreConfigError("a schema can only be given for PostgreSQL")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise StoreConfigError("a schema name must match [a-z_][a-z0-9_]* (at most 63)")
    if backend == "sqlite":
        _check_sqlite_url(parsed)
        if create:
            _make_sqlite_file(parsed)
        elif not _sqlite_path(parsed).is_file():
            raise NoStore(display)
    return Target(url=parsed, backend=backend, schema=schema, display=display)


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
    database = url.database or ""
    if database in ("", ":memory:"):
        # Every pooled connection would see its own empty database: the record would vanish.
        raise StoreConfigError("an in-memory SQLite database cannot hold the store: use a file")
    if "uri" in url.query:
        raise StoreConfigError("SQLite URI filenames are not supported: give a file path")


def _make_sqlite_file(url: URL) -> None:
    """Make the folder, and the database file readable by its owner only: it holds patient
    data. SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so they
    follow; a file that exists already keeps its mode (see ``exposed_store_file``)."""
    path = _sqlite_path(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise StoreConfigError("the folder for the SQLite database cannot be created") from None
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        raise StoreConfigError("the SQLite database file cannot be created") from None


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
