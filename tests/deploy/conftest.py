"""A fresh PostgreSQL database per test, for engines that use its default schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_postgres


async def _admin(sql: str) -> None:
    """One statement on a new connection: a test may restart PostgreSQL in between."""
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="test"
    )
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """The name of a new database in the test cluster, dropped afterwards."""
    require_postgres()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
