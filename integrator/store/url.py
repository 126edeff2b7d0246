"""Turn the operator's database URL into one for the async drivers the store runs on.

Operators write the short forms (``sqlite:///var/integrator.db``, ``postgresql://…``); the store
needs ``sqlite+aiosqlite`` or ``postgresql+asyncpg``. Error messages name the driver only, never
the URL, because a URL can carry a password.
"""

from __future__ import annotations

import re
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


@dataclass(frozen=True, slots=True)
class Target:
    """Where the store lives: the async URL, its backend and (PostgreSQL) the schema."""

    url: URL
    backend: Backend
    schema: str | None


def resolve(url: str, schema: str | None = None) -> Target:
    """Validate ``url`` and ``schema`` and return the async form; SQLite's folder is created."""
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
    parsed = parsed.set(drivername=drivername)
    if schema is not None:
        if backend != "postgresql":
            raise StoreConfigError("a schema can only be given for PostgreSQL")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise StoreConfigError("a schema name must match [a-z_][a-z0-9_]* (at most 63)")
    if backend == "sqlite":
        _prepare_sqlite_file(parsed)
    return Target(url=parsed, backend=backend, schema=schema)


def _prepare_sqlite_file(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:"):
        # Every pooled connection would see its own empty database: the record would vanish.
        raise StoreConfigError("an in-memory SQLite database cannot hold the store: use a file")
    if "uri" in url.query:
        raise StoreConfigError("SQLite URI filenames are not supported: give a file path")
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise StoreConfigError("the folder for the SQLite database cannot be created") from None
