"""A new PostgreSQL store made in one transaction from the table definitions at head.

As for SQLite (``integrator.store.sqlite_head``): replaying every Alembic revision into an
empty schema costs about a quarter of a second of CPU and half a second of round trips, for a
schema that is always the same, and every new deployment and every PostgreSQL test pays it. On
PostgreSQL the table definitions (``integrator.store.tables``) create exactly what the
migrations leave: a test migrates one schema with Alembic, creates another from the
definitions, and compares their columns, constraints and indexes as PostgreSQL's catalog
describes them. So an **empty** schema gets the statements of ``metadata.create_all`` and the
head revision in Alembic's version table, under the same advisory lock the migration takes; a
schema with any table in it goes through Alembic as before.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import create_mock_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.advisory import advisory_key
from integrator.store.failures import translate
from integrator.store.schema_version import HEAD_VERSION_ROW
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


async def lock_schema(conn: AsyncConnection, schema: str | None) -> None:
    """Take the schema's advisory lock for this transaction, and make the schema if needed:
    the first step of both a migration (``integrator.store.migrate``) and a new store here."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key("migrate", schema)}
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
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        try:  # several statements, one round trip (no parameters)
            await driver.execute(_script())
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The driver's own error, not SQLAlchemy's: given the store's meaning here.
            raise translate("create the store's schema", exc) from None
        await conn.commit()
    return True


@cache
def _script() -> str:
    """Every statement of the new schema, for the server to run at once.

    ``metadata.create_all`` on the connection first asked whether each table exists, then sent
    each table and each index alone: about 80 round trips, each compiled by SQLAlchemy, 30 ms of
    client CPU of 33 per new store. The statements are the ones ``create_all`` sends, in its
    order (types and sequences too, should a table get one), recorded once per process from a
    mock engine; the revision is a constant of ours.
    """
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    statements: list[str] = []

    def record(clause: Any, *_: Any, **__: Any) -> None:
        statements.append(str(clause.compile(dialect=dialect)).strip())

    metadata.create_all(create_mock_engine("postgresql://", record), checkfirst=False)
    statements += [_VERSION_TABLE, HEAD_VERSION_ROW]
    return ";\n".join(statements)
