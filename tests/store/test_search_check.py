"""The search key's check in the store, on both backends: registered by the first writer,
compared at every open that has a key (``integrator.store.searchcheck``)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from integrator.store import Store
from integrator.store.errors import SearchKeyMismatch
from integrator.store.searchcheck import search_key_check
from integrator.store.tables import search_key_check as check_table
from tests.store.conftest import Site
from tests.store.helpers import migrate_to, raw_connection

# About making, opening or migrating a store: a new, empty schema on PostgreSQL.
pytestmark = pytest.mark.fresh_schema

KEY_A = "search-key-a-0123456789"
KEY_B = "search-key-b-0123456789"
CHECK_A, CHECK_B = search_key_check(KEY_A), search_key_check(KEY_B)


async def _open(site: Site, check: str | None, *, existing: bool = False) -> Store:
    opening = Store.open_existing if existing else Store.open
    return await opening(site.url, schema=site.schema, search_check=check)


async def _entries(site: Site) -> list[str]:
    """The check values the store keeps (one at most)."""
    async with raw_connection(site) as conn:
        return list((await conn.execute(select(check_table.c.check_value))).scalars())


async def _audit_count(site: Site) -> int:
    store = await _open(site, None, existing=True)
    try:
        return len(await store.list_audit(limit=10_000))
    finally:
        await store.close()


def test_the_check_is_no_key_and_no_bsn_hash() -> None:
    assert CHECK_A != CHECK_B and len(CHECK_A) == 64
    assert KEY_A not in CHECK_A
    assert search_key_check(KEY_A) == CHECK_A  # the same key, the same check


async def test_the_first_writer_registers_and_another_key_is_refused(site: Site) -> None:
    store = await _open(site, CHECK_A)
    await store.close()
    assert await _entries(site) == [CHECK_A]
    for existing in (False, True):  # the same key opens, writer or reader, and adds nothing
        store = await _open(site, CHECK_A, existing=existing)
        await store.close()
    assert len(await _entries(site)) == 1

    before = await _audit_count(site)
    for existing in (False, True):
        with pytest.raises(SearchKeyMismatch) as refused:
            await _open(site, CHECK_B, existing=existing)
        text = str(refused.value)
        assert refused.value.exit_code == 2
        assert text.startswith("INTEGRATOR_SEARCH_KEY: the search key is not the one this store")
        assert text.endswith("nothing was written")
        assert KEY_A not in text and KEY_B not in text
        assert CHECK_A not in text and CHECK_B not in text
    assert await _audit_count(site) == before
    assert await _entries(site) == [CHECK_A]


async def test_a_store_without_the_check_gets_it_from_its_next_writer(site: Site) -> None:
    """A store from before the check (opened without a key, as older code did): a reader with
    a key leaves it as it is, the next writer registers its key."""
    store = await _open(site, None)
    await store.close()
    assert await _entries(site) == []
    store = await _open(site, CHECK_B, existing=True)
    await store.close()
    assert await _entries(site) == []
    store = await _open(site, CHECK_A)
    await store.close()
    assert await _entries(site) == [CHECK_A]
    with pytest.raises(SearchKeyMismatch):
        await _open(site, CHECK_B)


async def test_two_first_writers_with_different_keys_do_not_both_register(site: Site) -> None:
    store = await _open(site, None)  # migrated: the two opens below only check
    await store.close()
    opened = await asyncio.gather(
        _open(site, CHECK_A), _open(site, CHECK_B), return_exceptions=True
    )
    stores = [s for s in opened if isinstance(s, Store)]
    refused = [e for e in opened if isinstance(e, SearchKeyMismatch)]
    assert (len(stores), len(refused)) == (1, 1), opened
    await stores[0].close()
    [entry] = await _entries(site)
    assert entry in (CHECK_A, CHECK_B)


async def test_a_store_from_before_revision_0022_gets_the_check_at_its_next_writer(
    site: Site,
) -> None:
    await migrate_to(site, "0021")
    store = await _open(site, CHECK_A)
    await store.close()
    assert await _entries(site) == [CHECK_A]
