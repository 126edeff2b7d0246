"""A new PostgreSQL store made in one transaction from the table definitions at head.

As for SQLite (``integrator.store.sqlite_head``): replaying every Alembic revision into an
empty schema costs about a quarter of a second of CPU and half a second of round trips, for a
schema that is always the same, and every new deployment and every PostgreSQL test pays it. On
PostgreSQL the table definitions (``integrator.store.tables``) create exactly what the
migrations leave: a test migrates one schema with Alembic, creates another from the
definitions, and compares their columns, constraints and indexes as PostgreSQL's catalog
describes them. So an **empty** schema gets ``metadata.create_all`` and the head revision in
Alembic's version table, under the same advisory lock the migration takes; a schema with any
table in it goes through Alembic as before.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.schema_version import HEAD_REVISION
from integrator.store.tables import metadata

# Alembic's version table as Alembic itself creates it (name, column, constraint name).
_VERSION_TABLE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)

# Relations of any kind (tables, views, sequences, ...) in the schema the connection works in.
_RELATIONS = (
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema()"
)


def advisory_lock_key(schema: str | None) -> int:
    """A stable signed 64-bit key, per schema, so different schemas do not wait on each other."""
    digest = hashlib.sha256(f"integrator.store.migrate:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_schema(conn: AsyncConnection, schema: str | None) -> None:
    """Take the schema's advisory lock for this transaction, and make the schema if needed:
    the first step of both a migration (``integrator.store.migrate``) and a new store here."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_lock_key(schema)}
    )
    if schema is not None:
        # The name was checked against [a-z_][a-z0-9_]* by url.resolve.
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


async def create_if_empty(engine: AsyncEngine, schema: str | None) -> bool:
    """Make the head schema in an empty PostgreSQL schema; False, touching nothing, otherwise.

    The advisory lock is the migration's (``integrator.store.migrate``): of several engines
    opening the same new schema one creates it, and the others, looking again under the lock,
    find tables and leave the rest to the usual revision check.
    """
    async with engine.connect() as conn:
        await lock_schema(conn, schema)
        if (await conn.exec_driver_sql(_RELATIONS)).scalar():
            await conn.rollback()
            return False
        await conn.run_sync(_create)
        await conn.commit()
    return True


def _create(connection: Connection) -> None:
    metadata.create_all(connection)
    connection.exec_driver_sql(_VERSION_TABLE)
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD_REVISION}
    )
