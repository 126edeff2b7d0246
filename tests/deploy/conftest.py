"""A fresh PostgreSQL database per test, for engines that use its default schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.deploy.postgres_cluster import restartable_postgres  # noqa: F401 (a fixture)
from tests.services import postgres_admin_sql, require_postgres


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """The name of a new database in the test cluster, dropped afterwards."""
    require_postgres()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await postgres_admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await postgres_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
