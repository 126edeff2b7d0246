"""Every store test runs twice: on a fresh SQLite file and in a fresh PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from integrator.store import Clock, Store
from integrator.store.engine import create_engine
from integrator.store.sealing import Sealer
from integrator.store.url import resolve
from tests.services import require_postgres
from tests.store import schema_pool
from tests.store.factories import StepClock


@dataclass(frozen=True)
class Site:
    """Where a test's store lives; open it as often as the test likes (restart tests do)."""

    backend: str
    url: str
    schema: str | None = None

    async def open(self, clock: Clock | None = None, sealer: Sealer | None = None) -> Store:
        return await Store.open(
            self.url, clock=clock or StepClock(), schema=self.schema, sealer=sealer
        )


@asynccontextmanager
async def postgres_site() -> AsyncIterator[Site]:
    """A fresh schema in the ``test`` database, dropped afterwards."""
    url = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield Site("postgresql", url, schema)
    finally:
        engine = create_engine(resolve(url))
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    """A new SQLite file; on PostgreSQL an emptied schema at head from this process's pool
    (``tests/store/schema_pool.py``), or a new empty one for a test marked ``fresh_schema``."""
    if request.param == "sqlite":
        yield Site("sqlite", f"sqlite:///{tmp_path / 'var' / 'store.db'}")
        return
    if request.node.get_closest_marker("fresh_schema"):
        async with postgres_site() as pg_site:
            yield pg_site
        return
    url = require_postgres()
    schema = schema_pool.take()
    try:
        yield Site("postgresql", url, schema)
    finally:
        await schema_pool.give_back(schema, url)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
async def store(site: Site, clock: StepClock) -> AsyncIterator[Store]:
    opened = await site.open(clock)
    yield opened
    await opened.close()
