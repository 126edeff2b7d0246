"""Direct database access for assertions the Store API deliberately does not offer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Connection, event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from integrator.store import AttemptRecord, MessageFilter, MessageRecord, NewMessage, Store
from integrator.store.engine import create_engine
from integrator.store.last_attempts import ANSWERED
from integrator.store.migrate import alembic_config
from integrator.store.tables import engine_presence, metadata
from integrator.store.url import resolve
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message


@contextmanager
def statements_sent(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """Every statement ``store`` sends to the database inside the block, with its values, in
    order: what a test of how many statements a read takes, or of their plans, looks at."""
    sent: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        sent.append((sql, params))

    sync_engine = store._engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)


async def plan_of(store: Store, statement: tuple[str, Any], postgres: str = "ANALYZE") -> str:
    """The plan of ``statement`` (as ``statements_sent`` caught it) with its values: SQLite's
    ``EXPLAIN QUERY PLAN``, or PostgreSQL's ``EXPLAIN (<postgres>)`` run, one step a line."""
    sql, params = statement
    async with store._engine.connect() as conn:
        if store._engine.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row[-1]) for row in rows)
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        found = await raw.fetch(f"EXPLAIN ({postgres}) " + sql, *params)
    return "\n".join(str(row[0]) for row in found)


async def two_destinations_history(
    store: Store, status_of: Callable[[int], str], count: int, planner: str = "ANALYZE"
) -> list[NewMessage]:
    """``count`` messages accepted 500 at a time, each its own event: the even ones noord's, the
    odd ones zuid's, the n-th in status ``status_of(n)``; then the planner told of them
    (``planner``, run outside a transaction: ``ANALYZE``, or ``VACUUM``…, as autovacuum
    would), for the plan tests."""
    made = [
        make_message(destination_id=("noord", "zuid")[n % 2], status=status_of(n))
        for n in range(count)
    ]
    for start in range(0, count, 500):
        await store.accept_events([(make_event(), [m]) for m in made[start : start + 500]])
    async with store._engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql(planner)
    return made


def rows_read(plan: str, table: str) -> int:
    """The rows the steps on ``table`` of a PostgreSQL ``EXPLAIN ANALYZE`` (``plan_of``) gave,
    over all their loops: what a statement read of that table."""
    steps = [line for line in plan.splitlines() if f" on {table} " in line]
    found = re.findall(r"actual time=\S+ rows=(\d+) loops=(\d+)", " ".join(steps))
    return sum(int(rows) * int(loops) for rows, loops in found)


@asynccontextmanager
async def raw_connection(site: Site) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(resolve(site.url, site.schema))
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def row_counts(site: Site) -> dict[str, int]:
    """Rows per store table: the witness that a failed call wrote nothing."""
    counts: dict[str, int] = {}
    async with raw_connection(site) as conn:
        for table in metadata.sorted_tables:
            result = await conn.execute(select(func.count()).select_from(table))
            counts[table.name] = result.scalar_one()
    return counts


async def scalar(site: Site, sql: str) -> object:
    async with raw_connection(site) as conn:
        result = await conn.execute(text(sql))
        return result.scalar()


async def migrate_to(site: Site, revision: str) -> None:
    """Migrate the site's store to ``revision`` only: a store as older code left it.

    On PostgreSQL the schema is made again, empty, first: the ``site`` fixture may have given
    an emptied schema at head (``tests/store/schema_pool.py``)."""
    engine = create_engine(resolve(site.url, site.schema))

    def upgrade(conn: Connection) -> None:
        command.upgrade(alembic_config(conn), revision)

    try:
        async with engine.connect() as conn:
            if site.schema is not None:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{site.schema}" CASCADE'))
                await conn.execute(text(f'CREATE SCHEMA "{site.schema}"'))
            await conn.run_sync(upgrade)
            await conn.commit()
    finally:
        await engine.dispose()


async def leave_old_engine_running(site: Site, heartbeat_at: datetime) -> None:
    """The presence row of an engine of an older version, on host ``ziekenhuis-app-01`` with
    pid 4242, last seen at ``heartbeat_at``: what a newer version's commands must not migrate
    the store under."""
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(engine_presence).values(
                id="old-engine",
                host="ziekenhuis-app-01",
                pid=4242,
                http_address="127.0.0.1:8080",
                started_at=heartbeat_at - timedelta(hours=1),
                heartbeat_at=heartbeat_at,
                pid_namespace=None,
                data_keys="",
                transport="embedded",
            )
        )
        await conn.commit()


async def answered_attempts(store: Store, destination_id: str) -> list[AttemptRecord]:
    """The attempts, oldest first, of the newest message the receiver was asked for, read the
    plain way (that message, then its attempts): what ``Store.last_attempts`` must agree with,
    and what the destination's page read before it (``bench_listing_last_attempts.py``). A
    message made dead without an attempt (a forced removal) was never asked for: passed over."""
    answered = MessageFilter(destination_id=destination_id, statuses=ANSWERED)
    after = None
    while page := await store.list_messages(answered, limit=1, payloads=False, after=after):
        if page[0].attempt_count > 0:
            return await store.list_attempts(page[0].id)
        after = page[0]
    return []


async def stored_message(store: Store) -> MessageRecord:
    """A new message of a new event, accepted, as the store has it."""
    message = make_message()
    await store.accept_event(make_event(), [message])
    record = await store.get_message(message.id)
    assert record is not None
    return record


def cut_busy_timeout(monkeypatch: Any, ms: int) -> None:
    """Every SQLite connection made from now on waits ``ms`` for another's write lock (the
    store's busy timeout, 15 s), so a test of a locked store stays short."""
    from integrator.store import engine as store_engine

    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", ms)
    monkeypatch.setattr(
        store_engine,
        "SQLITE_PRAGMAS",
        tuple(
            f"PRAGMA busy_timeout={ms}" if pragma.startswith("PRAGMA busy_timeout") else pragma
            for pragma in store_engine.SQLITE_PRAGMAS
        ),
    )


@contextmanager
def write_locked(path: Any) -> Iterator[None]:
    """SQLite's write lock on the store at ``path`` held by another connection, as another
    process would hold it."""
    import sqlite3

    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()
