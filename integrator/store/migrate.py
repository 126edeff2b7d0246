"""Bring the database schema to the newest Alembic revision when the store opens.

Alembic is configured in code (no alembic.ini at runtime). Two engine processes may start at the
same moment, so the upgrade runs under a lock that the database itself holds: a transaction-scoped
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` (the single write lock) on SQLite. The loser waits,
then finds the schema at head and does nothing.

The store imports this module only when its plain read of the revision
(``integrator.store.schema_version``) finds a store that is not at head: a store at head never
loads Alembic.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.postgres_head import lock_schema

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this package's migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_to_head(engine: AsyncEngine, schema: str | None = None) -> str | None:
    """Create or upgrade the schema; safe when several processes do it at once. Returns the
    revision found under the lock, before the upgrade (None: no schema yet): the head when
    another process had just done it."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await lock_schema(conn, schema)
        else:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        before = await conn.run_sync(current_revision)
        await conn.run_sync(_upgrade)
        await conn.commit()
    return before


def _upgrade(connection: Connection) -> None:
    # Alembic sees the transaction we opened as external and leaves committing to us.
    command.upgrade(alembic_config(connection), "head")
