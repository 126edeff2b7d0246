"""``bench_at_scale.py`` on PostgreSQL: the same store in a database of its own, and where an
answer's time goes there (``EXPLAIN (ANALYZE, BUFFERS)`` of the statements it ran).

The engine has no schema setting (the store's ``schema`` is for tests), so the bench's store is
a database of its own, e.g. ``postgresql://postgres@127.0.0.1:5432/at_scale_bench``, made here
when absent, its ``public`` schema holding the tables as the engine would. It is filled with
SQLite's rows (``bench_at_scale.fill``'s generator) by COPY, after ``Store.open`` migrated it,
then vacuumed and analysed (``VACUUM (ANALYZE)``), as autovacuum would do soon after such a
load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import make_url

Tables = list[tuple[str, list[str], list[tuple[Any, ...]]]]

IDENTITIES = (("messages", "seq"), ("attempts", "id"), ("audit_log", "id"))
"""The identity columns the fill writes itself: their sequences are moved past its values, or
the engine's own next row (the bench's token and login are audited) would collide."""


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """The plain libpq form asyncpg connects with (no ``+asyncpg``), to ``database`` if given."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _connect(url: str, database: str | None = None) -> Any:
    import asyncpg

    return await asyncpg.connect(asyncpg_dsn(url, database))


async def create_database(url: str) -> bool:
    """The URL's database, made (from the server's ``postgres`` database) if absent; True if
    it was made."""
    name = make_url(url).database
    assert name, "the PostgreSQL URL names no database"
    admin = await _connect(url, "postgres")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await admin.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await admin.close()


async def is_filled(url: str) -> bool:
    """Whether the bench's store is there with its messages (a fill that stopped half-way
    leaves none: each table is copied in one transaction, messages after events)."""
    import asyncpg

    try:
        conn = await _connect(url)
    except asyncpg.InvalidCatalogNameError:
        return False  # no database yet
    try:
        if await conn.fetchval("SELECT to_regclass('audit_log') IS NULL"):
            return False
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM audit_log)"))
    finally:
        await conn.close()


async def load(url: str, tables: Tables) -> None:
    """Copy each table's rows in, move the identities past them, ``VACUUM (ANALYZE)``."""
    conn = await _connect(url)
    try:
        for table, columns, data in tables:
            started = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table(table, records=data, columns=columns)
            took = time.perf_counter() - started
            print(f"copied {len(data):,} rows into {table} in {took:.0f} s", flush=True)
        for table, column in IDENTITIES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT max({column}) FROM {table}))"
            )
        started = time.perf_counter()
        # VACUUM too: the server here runs without autovacuum, which on a production server
        # would have vacuumed the tables as well as analysed them after such a load (an
        # insert-only table is vacuumed too, since PostgreSQL 13). A store never vacuumed has
        # no visibility map, so no index-only scan: every count would read the table.
        await conn.execute("VACUUM (ANALYZE)")
        print(f"vacuumed and analysed in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        await conn.close()


async def sample(url: str) -> dict[str, str]:
    """``bench_at_scale._sample``'s ids, asked of PostgreSQL with the same statements."""
    conn = await _connect(url)
    try:
        count = await conn.fetchval("SELECT max(seq) FROM messages")
        mid = await conn.fetchrow(
            "SELECT id, destination_id FROM messages WHERE status = 'dead' AND seq > $1 "
            "ORDER BY seq LIMIT 1",
            count // 2,
        )
        deep = await conn.fetchval(
            "SELECT id FROM messages WHERE seq <= $1 ORDER BY seq DESC LIMIT 1",
            count - count // 2 + 1,
        )
    finally:
        await conn.close()
    return {"message": mid[0], "destination": mid[1], "count": str(count), "deep": deep}


class Statements:
    """The store's statements and their times while it listens (``before``/``after_cursor_
    execute`` on the store's engine), to explain the slowest of an answer afterwards."""

    def __init__(self, sync_engine: Any) -> None:
        from sqlalchemy import event

        self._engine = sync_engine
        self._event = event
        self.seen: list[tuple[float, str, Sequence[Any]]] = []
        self._started: dict[int, float] = {}

    def __enter__(self) -> Statements:
        self._event.listen(self._engine, "before_cursor_execute", self._before)
        self._event.listen(self._engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        self._event.remove(self._engine, "before_cursor_execute", self._before)
        self._event.remove(self._engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        self._started[id(context)] = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        started = self._started.pop(id(context), None)
        if started is not None and not many:
            self.seen.append((time.perf_counter() - started, sql, tuple(params or ())))


async def explain(store_engine: Any, statements: Statements, top: int = 3) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the ``top`` slowest statements seen (each statement
    text once), with the values they were sent: a custom plan, as the answer got."""
    chosen: list[tuple[float, str, Sequence[Any]]] = []
    texts: set[str] = set()
    for took, sql, params in sorted(statements.seen, key=lambda s: -s[0]):
        if sql in texts or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        texts.add(sql)
        chosen.append((took, sql, params))
        if len(chosen) == top:
            break
    out: list[str] = []
    async with store_engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for took, sql, params in chosen:
            rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
            out += [f"-- {took * 1000:.0f} ms as asked; params {list(params)[:8]}", sql, ""]
            out += [str(row[0]) for row in rows] + [""]
    return out


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
