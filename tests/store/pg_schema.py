"""One PostgreSQL schema per test process, kept at head and emptied between tests.

Making a schema for every PostgreSQL test (the tables and indexes of the head revision, a
commit of a few hundred catalog rows and files, then ``DROP SCHEMA``) cost about as much as
the test itself, and most tests only need an empty store. So each test process keeps one
schema at head and, after each test that used it, empties the tables the test wrote to
(``TRUNCATE ... RESTART IDENTITY``): the next test finds what a new schema holds, the head
revision in Alembic's version table and nothing else.

What a test can leave behind, and where it goes:

- rows and identity sequences: every table of the schema (read from the catalog, so a table a
  new migration adds is included) that has a page on disk or a used sequence is truncated,
  restarting its sequences;
- the schema's structure (a table dropped or added, a column, an index, a trigger, the
  revision): compared with the fingerprint taken when the schema was made. Any difference
  fails the test loudly at teardown and the schema is abandoned for a new one; such tests
  take a schema of their own (``@pytest.mark.fresh_schema``);
- locks: a test that left a transaction open (a store not closed) makes the truncation wait;
  it gives up after ``LOCK_TIMEOUT`` and fails the test instead of hanging. Advisory locks
  of the schema still held at teardown fail it too;
- connection state (prepared statements, settings, the search path): every store has its own
  engine and connections, closed with it; nothing of a session outlives its test.

Schema names hold the worker's id and a random part, so test processes (and several runs on
one server) never share one; a run killed before its end leaves its schemas behind under
names nobody uses again, and they are dropped by a later run once older than ``STALE_AFTER``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

import asyncpg

from integrator.store import Store
from integrator.store.advisory import advisory_key
from integrator.store.schema_version import HEAD_REVISION
from integrator.store.tables import metadata
from tests.services import POSTGRES_HOST, POSTGRES_PORT

PREFIX = "tr_"
"""Reused schemas' names start so; fresh ones (``postgres_site``) with ``t_``."""

STALE_AFTER = 6 * 3600
"""Seconds after which a reused schema's run is taken to be dead (no run lasts that long)."""

LOCK_TIMEOUT = "10s"

VERSION_TABLE = "alembic_version"

ADVISORY_PURPOSES = ("migrate", "audit", "presence")
"""Every purpose the store takes advisory locks for (``integrator.store.advisory``)."""

# Everything a test could change about the schema itself, one line per object, in one text.
# The schema's name is in some lines (index definitions); it is the same at every check.
_FINGERPRINT = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1)
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
  SELECT 'schema ' || coalesce(n.nspacl::text, '') AS line
    FROM pg_namespace n WHERE n.oid = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text
         || ' ' || coalesce(c.relacl::text, '') || ' ' || coalesce(c.reloptions::text, '')
         || ' ' || CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) ELSE '' END
    FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' ' || a.attnotnull || ' ' || a.attidentity::text || ' ' || a.attgenerated::text
         || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
         || ' ' || coalesce(a.attoptions::text, '') || ' ' || a.attstattarget
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
         || ' ' || k.condeferrable || ' ' || k.condeferred || ' ' || k.convalidated
    FROM pg_constraint k WHERE k.connamespace = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
  UNION ALL
  SELECT 'rule ' || r.rulename || ' ' || pg_get_ruledef(r.oid)
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    WHERE c.relnamespace = (SELECT oid FROM ns) AND r.rulename <> '_RETURN'
  UNION ALL
  SELECT 'policy ' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    WHERE c.relnamespace = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
    WHERE p.pronamespace = (SELECT oid FROM ns)
  UNION ALL
  SELECT 'type ' || t.typname || ' ' || t.typtype::text FROM pg_type t
    WHERE t.typnamespace = (SELECT oid FROM ns)
) lines
"""

# The schema's tables, each with whether a test may have written to it: rows leave pages on
# disk (also when deleted or rolled back, until a truncation), and an identity column's
# sequence counts without a row (a conflicting insert). A table never written to is skipped:
# truncating it would only replace its empty files with new empty ones.
TABLES = """
SELECT c.relname,
       pg_relation_size(c.oid) > 0 OR EXISTS (
         SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.refobjid = c.oid
           AND CASE WHEN s.relkind = 'S' THEN pg_sequence_last_value(s.oid) IS NOT NULL END
       ) AS written
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
ORDER BY c.relname
"""

# Advisory locks of the schema's keys held by any session: the store's are all transaction
# locks, so one still held means a transaction a test left open.
_HELD_ADVISORY_LOCKS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND objsubid = 1
  AND ((classid::bigint << 32) | objid::bigint) = ANY($1::bigint[])
"""


class ReusedSchemaError(AssertionError):
    """A test left its reused schema unlike a new one: it needs ``fresh_schema``."""


async def admin() -> asyncpg.Connection:
    """A connection to the ``test`` database, outside any store."""
    conn: asyncpg.Connection = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="test"
    )
    await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    return conn


def _quoted(name: str) -> str:
    # Names come from the catalog or from ``ReusedSchema``: [a-z0-9_] only.
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
    return f'"{name}"'


async def fingerprint(conn: asyncpg.Connection, schema: str) -> str:
    """The schema's structure and revision, as one text to compare."""
    structure = await conn.fetchval(_FINGERPRINT, schema)
    if structure is None:
        return "no schema"
    try:
        versions = await conn.fetch(
            f"SELECT version_num FROM {_quoted(schema)}.{VERSION_TABLE} ORDER BY 1"
        )
    except asyncpg.UndefinedTableError:
        return f"{structure}\nno version table"
    return f"{structure}\nrevision {','.join(row[0] for row in versions)}"


async def written_tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    return [row["relname"] for row in await conn.fetch(TABLES, schema) if row["written"]]


async def empty(conn: asyncpg.Connection, schema: str, tables: Sequence[str]) -> None:
    """Truncate ``tables`` of ``schema`` and restart their sequences, in one statement."""
    if tables:
        names = ", ".join(f"{_quoted(schema)}.{_quoted(table)}" for table in tables)
        # CASCADE: also the tables whose foreign keys point at these (written or not).
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def advisory_keys(schema: str) -> list[int]:
    return [advisory_key(purpose, schema) for purpose in ADVISORY_PURPOSES]


async def drop(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE")


async def drop_stale(conn: asyncpg.Connection, now: float) -> None:
    """Drop reused schemas of runs that ended without dropping theirs (killed)."""
    rows = await conn.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tr\\_%' ORDER BY 1"
    )
    for row in rows:
        made = re.fullmatch(rf"{PREFIX}(\d+)_.*", row["nspname"])
        if made is None or now - int(made.group(1)) < STALE_AFTER:
            continue
        with suppress(asyncpg.PostgresError):  # another run drops it at the same moment
            await drop(conn, row["nspname"])


@dataclass
class ReusedSchema:
    """This process's reused schema: made on first use, emptied after each test."""

    url: str
    worker: str
    name: str = ""
    expected: str | None = None
    """The fingerprint at head, taken when the schema was made; None: not made (yet)."""
    made: list[str] = field(default_factory=list)
    """Every name this process used, for the session's end (one per abandoned schema)."""

    async def ready(self) -> str:
        """The schema's name, made at head first if needed."""
        if self.expected is not None:
            return self.name
        worker = re.sub(r"[^a-z0-9]", "", self.worker.lower())[:12]
        self.name = f"{PREFIX}{int(time.time())}_{worker}_{uuid.uuid4().hex[:8]}"
        self.made.append(self.name)
        conn = await admin()
        try:
            if len(self.made) == 1:
                await drop_stale(conn, time.time())
            store = await Store.open(self.url, schema=self.name)
            await store.close()
            tables = {row["relname"] for row in await conn.fetch(TABLES, self.name)}
            if tables != {table.name for table in metadata.sorted_tables}:
                raise ReusedSchemaError(f"a new store's tables are not the head's: {tables}")
            expected = await fingerprint(conn, self.name)
            if not expected.endswith(f"\nrevision {HEAD_REVISION}"):
                raise ReusedSchemaError("a new store is not at the head revision")
            # A new store as the open leaves it; the tests' opens do the same again.
            await empty(conn, self.name, await written_tables(conn, self.name))
        finally:
            await conn.close()
        self.expected = expected
        return self.name

    async def reset(self, test: str) -> None:
        """Empty the schema for the next test, or abandon it, failing ``test``, if the test
        left it unlike a new one (then the next test gets a new schema)."""
        if self.expected is None:
            return
        conn = await admin()
        try:
            problems = []
            if await fingerprint(conn, self.name) != self.expected:
                problems.append(
                    "its structure or revision changed (a table, a column, an index, a "
                    "constraint, a trigger, the version table)"
                )
            if await conn.fetchval(_HELD_ADVISORY_LOCKS, advisory_keys(self.name)):
                problems.append("one of its advisory locks is still held (a store not closed?)")
            if not problems:
                try:
                    await empty(conn, self.name, await written_tables(conn, self.name))
                    return
                except asyncpg.PostgresError as error:
                    problems.append(f"emptying it failed ({type(error).__name__}: {error})")
            self.expected = None
            with suppress(asyncpg.PostgresError):  # the session's end tries again
                await drop(conn, self.name)
        finally:
            await conn.close()
        raise ReusedSchemaError(
            f"{test} left the reused PostgreSQL schema {self.name} unlike a new one: "
            f"{'; '.join(problems)}. A test that changes the schema takes one of its own "
            "(@pytest.mark.fresh_schema); a test closes every store it opens"
        )

    async def drop_all(self) -> None:
        if not self.made:
            return
        conn = await admin()
        try:
            for name in self.made:
                await drop(conn, name)
        finally:
            await conn.close()
