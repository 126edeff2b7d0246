"""The PostgreSQL schemas the store tests share (``tests/store/schema_pool.py``): one given back
holds nothing of the test before it, and one a test changed is dropped, never given again."""

from __future__ import annotations

import pytest

from integrator.store import MessageFilter, Store
from tests.services import postgres_admin, require_postgres
from tests.store import schema_pool
from tests.store.factories import StepClock, make_event, make_message

pytestmark = pytest.mark.postgres


async def _schema_exists(name: str) -> bool:
    conn = await postgres_admin()
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", name))
    finally:
        await conn.close()


async def test_a_schema_given_back_is_empty_and_at_head() -> None:
    url = require_postgres()
    schema = schema_pool.take()
    store = await Store.open(url, schema=schema, clock=StepClock())
    assert await store.accept_event(make_event(), [make_message(), make_message()])
    audit_id = await store.add_audit("person:ada@example.org", "test.action", "x")
    await store.close()
    await schema_pool.give_back(schema, url)
    assert schema in schema_pool._pool

    schema_pool._pool.remove(schema)
    store = await Store.open(url, schema=schema, clock=StepClock())
    try:
        assert await store.list_messages(MessageFilter(), limit=10) == []
        # Sequences start again: the first entry has the id a new store's first entry has.
        assert await store.add_audit("person:ada@example.org", "test.action", "x") == audit_id
    finally:
        await store.close()
        await schema_pool.give_back(schema, url)


async def test_a_schema_a_test_changed_is_dropped() -> None:
    url = require_postgres()
    schema = schema_pool.take()
    await (await Store.open(url, schema=schema, clock=StepClock())).close()
    conn = await postgres_admin()
    try:
        await conn.execute(f'ALTER TABLE "{schema}".messages ADD COLUMN extra TEXT')
    finally:
        await conn.close()
    await schema_pool.give_back(schema, url)
    assert schema not in schema_pool._pool
    assert not await _schema_exists(schema)
