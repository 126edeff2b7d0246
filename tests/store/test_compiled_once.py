"""A statement is compiled once per process for each kind of store, not once per engine.

SQLAlchemy's own cache is per engine; ``integrator.store.compiled_cache`` shares one between
the engines ``integrator.store.engine.create_engine`` makes, keyed by the dialect's settings, so
a store with other settings (another server version, another PostgreSQL schema) compiles its
own. Each test runs a statement no other test runs, so what other tests compiled before in this
process does not count.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.compiled_cache import COMPILED
from integrator.store.engine import create_engine
from integrator.store.hot_reads import TokenReads
from integrator.store.sqlite_hot_writes import SqliteHotWrites
from integrator.store.tables import attempts, events, messages
from integrator.store.url import resolve
from tests.services import postgres_admin_sql, require_postgres


def statement_of_its_own() -> Any:
    return select(literal_column(f"'{uuid.uuid4().hex}'").label("mark"))


@asynccontextmanager
async def engine_for(url: str, schema: str | None = None) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(resolve(url, schema))
    try:
        yield engine
    finally:
        await engine.dispose()


async def compiled_anew(engine: AsyncEngine, statement: Any, **dialect_changes: Any) -> bool:
    """Run ``statement``; True when it was compiled for this run, False when it was found
    compiled. ``dialect_changes``: set on the dialect once it is connected, before the run."""
    seen: list[bool] = []

    def note(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        if context.compiled is not None:
            seen.append(context.cache_hit == context.dialect.CACHE_MISS)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    async with engine.connect() as connection:
        for name, value in dialect_changes.items():
            setattr(engine.dialect, name, value)
        assert (await connection.execute(statement)).scalar_one()
    assert len(seen) == 1
    return seen[0]


async def test_a_second_sqlite_store_finds_the_statement_compiled(tmp_path: Path) -> None:
    statement = statement_of_its_own()
    async with engine_for(f"sqlite:///{tmp_path}/one.db") as one:
        assert await compiled_anew(one, statement)
        assert not await compiled_anew(one, statement)
    async with engine_for(f"sqlite:///{tmp_path}/two.db") as two:
        assert not await compiled_anew(two, statement)


async def test_a_dialect_with_other_settings_compiles_its_own(tmp_path: Path) -> None:
    statement = statement_of_its_own()
    async with engine_for(f"sqlite:///{tmp_path}/one.db") as one:
        assert await compiled_anew(one, statement)
    async with engine_for(f"sqlite:///{tmp_path}/older.db") as older:
        assert await compiled_anew(older, statement, server_version_info=(3, 30, 0))
    async with engine_for(f"sqlite:///{tmp_path}/labels.db") as labels:
        assert await compiled_anew(labels, statement, label_length=30)
    # and the cache is bounded: what the process compiles does not pile up
    assert len(COMPILED) <= COMPILED.capacity * 1.5


async def test_postgresql_stores_share_within_a_schema_and_not_across(tmp_path: Path) -> None:
    """The default schema is read from the server at the first connection: a cache that
    read the settings before that would give both schemas one entry."""
    url = require_postgres()
    statement = statement_of_its_own()
    first, second = (f"t_compiled_{uuid.uuid4().hex[:12]}" for _ in range(2))
    for schema in (first, second):
        await postgres_admin_sql(f'CREATE SCHEMA "{schema}"')
    try:
        async with engine_for(url, first) as one:
            assert await compiled_anew(one, statement)
        async with engine_for(url, first) as again:
            assert not await compiled_anew(again, statement)
        async with engine_for(url, second) as other:
            assert await compiled_anew(other, statement)
        async with engine_for(f"sqlite:///{tmp_path}/one.db") as sqlite:
            assert await compiled_anew(sqlite, statement)
    finally:
        for schema in (first, second):
            await postgres_admin_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_the_token_read_is_compiled_once_for_dialects_alike(tmp_path: Path) -> None:
    """The hot paths' own compiled read (``hot_reads``), made as a store opens."""
    async with (
        engine_for(f"sqlite:///{tmp_path}/one.db") as one,
        engine_for(f"sqlite:///{tmp_path}/two.db") as two,
        engine_for(f"sqlite:///{tmp_path}/other.db") as other,
    ):
        assert TokenReads.for_dialect(one.dialect) is TokenReads.for_dialect(two.dialect)
        other.dialect.label_length = 30
        assert TokenReads.for_dialect(other.dialect) is not TokenReads.for_dialect(one.dialect)


async def test_the_sqlite_hot_writes_are_compiled_once_for_dialects_alike(tmp_path: Path) -> None:
    """The statements the hot writes feed to the driver themselves (``prepared``), compiled
    at a store's warm-up: once per process for stores alike, by the statement and the rows'
    keys; statements of this test's own, so no other test compiled them before."""
    own = {
        "insert_event": insert(events),
        "insert_messages": insert(messages),
        "update_after_attempt": insert(attempts),
        "insert_attempt": insert(attempts),
    }
    row = {"id": "e1", "type": "referral"}
    async with (
        engine_for(f"sqlite:///{tmp_path}/one.db") as one,
        engine_for(f"sqlite:///{tmp_path}/two.db") as two,
        engine_for(f"sqlite:///{tmp_path}/other.db") as other,
    ):
        hot = [SqliteHotWrites(engine, **own) for engine in (one, two, other)]
        try:
            other.dialect.label_length = 30
            first = hot[0]._statement("event", row)
            assert hot[1]._statement("event", row) is first
            assert hot[2]._statement("event", row) is not first
            # another statement, or other keys, is another compile
            assert hot[1]._statement("messages", row) is not first
            assert hot[1]._statement("event", {"id": "e1"}) is not first
            assert hot[1]._statement("event", {"id": "e1"}).keys == ("id",)
        finally:
            for made in hot:
                await made.close()
