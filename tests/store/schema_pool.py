"""PostgreSQL schemas at head, emptied and used again by the next store test in this process.

Every store test runs on PostgreSQL too, each in a schema of its own. Making one (the head
schema's DDL, ~0.12 s of the server's time) and dropping it after (~0.05 s) cost about as much
as the test itself, some 360 times a run. Emptying the tables of a schema a test has finished
with costs ~5 ms, and gives the next test what a new store would hold: no rows, sequences at
their start, the head revision in ``alembic_version``.

A schema goes back to the pool only if its definition is still exactly the head's (tables,
columns, indexes, constraints, sequences, functions and the revision, compared as PostgreSQL's
catalog describes them against a schema made new in this process); any other is dropped as
before. Tests about making or migrating a store (marked ``fresh_schema``) always get a new,
empty schema. The pool's schemas are dropped when the test process ends.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import uuid

import asyncpg

from integrator.store.tables import metadata
from tests.services import postgres_admin

# Everything a schema's definition consists of, one line each, with the schema's own name taken
# out (defaults and index definitions name it).
_DEFINITION = """
SELECT replace(coalesce(string_agg(line, E'\\n' ORDER BY line), ''), $1, '<schema>') FROM (
  SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' ' || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
         AS line
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
  UNION ALL
  SELECT 'constraint ' || con.conrelid::regclass::text || ' ' || con.conname || ' '
         || pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
   WHERE n.nspname = $1
  UNION ALL
  SELECT 'relation ' || c.relname || ' ' || c.relkind::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
  UNION ALL
  SELECT 'function ' || p.proname
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
) AS lines
"""

_pool: list[str] = []
_head_definition: str | None = None


def new_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def take() -> str:
    """A schema for a test: an emptied one at head, else a new name (the store makes it)."""
    return _pool.pop() if _pool else new_name()


async def _definition(conn: asyncpg.Connection, schema: str) -> str:
    tables = await conn.fetch(
        "SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'alembic_version'", schema
    )
    if not tables:
        return ""
    versions = await conn.fetch(f'SELECT version_num FROM "{schema}".alembic_version')
    described: str = await conn.fetchval(_DEFINITION, schema)
    return described + "".join(f"\nversion {row['version_num']}" for row in versions)


async def _head(conn: asyncpg.Connection, url: str) -> str:
    """The head's definition, from a schema a store makes new in this process (it then waits
    in the pool: it is empty and at head)."""
    global _head_definition
    if _head_definition is None:
        from integrator.store import Store

        schema = new_name()
        await (await Store.open(url, schema=schema)).close()
        _head_definition = await _definition(conn, schema)
        _pool.append(schema)
    return _head_definition


async def give_back(schema: str, url: str) -> None:
    """Empty ``schema`` into the pool if it is still the head's schema; else drop it."""
    conn = await postgres_admin()
    try:
        if await _emptied_at_head(conn, schema, url):
            _pool.append(schema)
            return
        await conn.execute("SET lock_timeout = 0")
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def _emptied_at_head(conn: asyncpg.Connection, schema: str, url: str) -> bool:
    head = await _head(conn, url)
    # A test that left a transaction open on its tables would block the delete: the schema
    # is then dropped instead, waiting as a drop always did.
    await conn.execute("SET lock_timeout = '2s'")
    try:
        definition = await _definition(conn, schema)
        if definition != head:
            return False
        async with conn.transaction():
            await conn.execute(_emptying(schema, definition))
    except asyncpg.PostgresError:
        return False
    return True


def _emptying(schema: str, definition: str) -> str:
    """Every table's rows deleted (a referencing table before the one it
    references) and every sequence back at its start."""
    tables = reversed(metadata.sorted_tables)
    deletes = [f'DELETE FROM "{schema}"."{table.name}"' for table in tables]
    sequences = [
        line.split()[1]
        for line in definition.splitlines()
        if line.startswith("relation ") and line.endswith(" S")
    ]
    restarts = [f'ALTER SEQUENCE "{schema}"."{name}" RESTART' for name in sequences]
    return "; ".join(deletes + restarts)


def _drop_pool() -> None:
    """At the process's end: drop the pooled schemas (in a thread: this thread's event loop may
    still be marked as running by the browser tests' sync API)."""
    if not _pool:
        return

    async def drop() -> None:
        conn = await postgres_admin()
        try:
            for schema in _pool:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    worker = threading.Thread(target=asyncio.run, args=(drop(),))
    worker.start()
    worker.join()


atexit.register(_drop_pool)
