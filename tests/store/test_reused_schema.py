"""The reused PostgreSQL schema (``tests/store/pg_schema.py``) is emptied completely between
tests, and a test that changes it fails instead of leaving it to the next one.

Each test here takes a reused schema of its own (not the process's), so what it breaks on
purpose breaks nothing else.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from integrator.store.advisory import advisory_key
from integrator.store.tables import metadata
from tests.services import require_postgres
from tests.store import pg_schema
from tests.store.factories import make_event, make_message
from tests.store.pg_schema import ReusedSchema, ReusedSchemaError, admin

pytestmark = pytest.mark.postgres

# A value for a NOT NULL column without a default, by the column's type as PostgreSQL names it.
_VALUES = {
    "text": "'x'",
    "character varying": "'x'",
    "character": "'x'",
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "boolean": "false",
    "timestamp with time zone": "now()",
    "timestamp without time zone": "now()",
    "bytea": "'\\x00'::bytea",
    "json": "'{}'",
    "jsonb": "'{}'",
    "double precision": "0",
    "real": "0",
    "numeric": "0",
    "date": "current_date",
}

# Nullable columns a CHECK wants filled: a grant is held by a person or by a token.
_ALSO_FILLED = {("grants", "person_id")}

_COLUMNS = """
SELECT a.attname, split_part(format_type(a.atttypid, a.atttypmod), '(', 1) AS type,
       a.attnotnull AND a.atthasdef IS FALSE AND a.attidentity = '' AS required
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_CHECKS = """
SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND k.contype = 'c'
"""

_SEQUENCES_USED = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
  AND CASE WHEN c.relkind = 'S' THEN pg_sequence_last_value(c.oid) IS NOT NULL END
"""


@pytest.fixture
async def reused() -> AsyncIterator[ReusedSchema]:
    schema = ReusedSchema(require_postgres(), "selftest")
    try:
        yield schema
    finally:
        await schema.drop_all()


async def _schema_tables(conn: asyncpg.Connection, schema: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> $2",
        schema,
        pg_schema.VERSION_TABLE,
    )
    return {row[0] for row in rows}


async def _a_row_in(conn: asyncpg.Connection, schema: str, table: str) -> None:
    """One row that fits the table's types and checks (its foreign keys are not enforced)."""
    checks = [row[0] for row in await conn.fetch(_CHECKS, schema, table)]
    names, values = [], []
    for column in await conn.fetch(_COLUMNS, schema, table):
        name = column["attname"]
        if not column["required"] and (table, name) not in _ALSO_FILLED:
            continue
        assert column["type"] in _VALUES, f"{table}.{name}: no value for {column['type']}"
        value = _VALUES[column["type"]]
        for check in checks:  # a column limited to a list of words: its first word
            if re.search(rf"\({name}\)::text = ANY", check) and (
                word := re.search(r"'([^']*)'", check)
            ):
                value = f"'{word.group(1)}'"
        names.append(f'"{name}"')
        values.append(value)
    await conn.execute(
        f'INSERT INTO "{schema}"."{table}" ({", ".join(names)}) VALUES ({", ".join(values)})'
    )


async def test_a_row_in_every_table_is_gone_and_every_sequence_starts_again(
    reused: ReusedSchema,
) -> None:
    schema = await reused.ready()
    conn = await admin()
    try:
        tables = await _schema_tables(conn, schema)
        # The catalog, not the table definitions, is what is emptied; both name the same tables.
        assert tables == {table.name for table in metadata.sorted_tables}
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")  # no FK checks
            for table in sorted(tables):
                await _a_row_in(conn, schema, table)
        sequences = await conn.fetch(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'S'",
            schema,
        )
        assert sequences  # the identity columns'
        for row in sequences:
            await conn.execute("SELECT nextval($1::oid::regclass)", row[0])
        assert set(await pg_schema.written_tables(conn, schema)) == tables

        await reused.reset("this test")

        counts = {
            table: await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"')
            for table in tables
        }
        assert counts == dict.fromkeys(tables, 0)
        assert await conn.fetch(_SEQUENCES_USED, schema) == []
        assert await pg_schema.written_tables(conn, schema) == []
        assert await pg_schema.fingerprint(conn, schema) == reused.expected
        assert await conn.fetchval(f'SELECT version_num FROM "{schema}".{pg_schema.VERSION_TABLE}')
    finally:
        await conn.close()
    assert await reused.ready() == schema  # kept for the next test


async def test_a_store_in_an_emptied_schema_numbers_from_the_start_again(
    reused: ReusedSchema,
) -> None:
    from tests.store.conftest import Site

    site = Site("postgresql", reused.url, await reused.ready())
    seqs = []
    for _ in range(2):
        store = await site.open()
        try:
            message = make_message()
            await store.accept_event(make_event(), [message])
            record = await store.get_message(message.id)
            assert record is not None
            seqs.append(record.seq)
        finally:
            await store.close()
        await reused.reset("this test")
    assert seqs == [1, 1]


@pytest.mark.parametrize(
    "change",
    [
        "DROP TABLE search_key_check",
        "CREATE TABLE someone_elses (x integer)",
        "ALTER TABLE messages ADD COLUMN extra text",
        "DROP INDEX ix_audit_log_at",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
async def test_a_test_that_changes_the_schema_fails_and_the_next_gets_a_new_one(
    reused: ReusedSchema, change: str
) -> None:
    schema = await reused.ready()
    conn = await admin()
    try:
        await conn.execute(f'SET search_path = "{schema}"')
        await conn.execute(change)
        with pytest.raises(ReusedSchemaError, match="unlike a new one: its structure"):
            await reused.reset("the changing test")
        assert await conn.fetchval("SELECT to_regnamespace($1)", schema) is None
    finally:
        await conn.close()
    assert await reused.ready() != schema


async def test_an_advisory_lock_left_held_fails_the_test(reused: ReusedSchema) -> None:
    schema = await reused.ready()
    holder = await admin()
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("audit", schema))
            with pytest.raises(ReusedSchemaError, match="advisory locks is still held"):
                await reused.reset("the locking test")
    finally:
        await holder.close()


async def test_a_transaction_left_open_fails_the_test_instead_of_hanging(
    reused: ReusedSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_schema, "LOCK_TIMEOUT", "200ms")
    schema = await reused.ready()
    holder = await admin()
    try:
        await _a_row_in(holder, schema, "events")  # a table to truncate
        async with holder.transaction():
            await holder.execute(f'SELECT count(*) FROM "{schema}".events')
            with pytest.raises(ReusedSchemaError, match="emptying it failed"):
                await reused.reset("the test with a transaction open")
    finally:
        await holder.close()
