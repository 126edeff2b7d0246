"""The search key's check in the store, on both backends: registered by the first writer,
compared at every open that has a key (``integrator.store.searchcheck``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from integrator.searchkey import SearchKeyError, key_file_for, resolve_search_key
from integrator.settings import Settings
from integrator.store import Store
from integrator.store.errors import SearchKeyMismatch, WeakSearchKey
from integrator.store.searchcheck import registered_in_sqlite, search_key_check
from integrator.store.tables import search_key_check as check_table
from tests.store.conftest import Site
from tests.store.factories import make_event
from tests.store.helpers import migrate_to, raw_connection

# About making, opening or migrating a store: a new, empty schema on PostgreSQL.
pytestmark = pytest.mark.fresh_schema

KEY_A = "search-key-a-0123456789"
KEY_B = "search-key-b-0123456789"
CHECK_A, CHECK_B = search_key_check(KEY_A), search_key_check(KEY_B)
BSN = "999990019"


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


def _hash_with(key: str) -> Callable[[str], str]:
    return Settings(search_key=key).bsn_hash


async def _from_before_the_check(site: Site, key: str) -> None:
    """A store as one from before revision 0022 is after its upgrade: no check, and an
    event whose BSN was hashed with ``key``."""
    store = await _open(site, None)
    try:
        event = make_event(
            payload=json.dumps({"patient": {"bsn": BSN}}), bsn_hash=_hash_with(key)(BSN)
        )
        assert await store.accept_events([(event, [])]) == [True]
    finally:
        await store.close()


async def test_a_store_without_the_check_refuses_a_key_its_hashes_were_not_made_with(
    site: Site,
) -> None:
    """The first writer after an upgrade registered whatever key it was given (a typo, a key
    file made anew), and from then on refused the right one as the wrong one. Now the key is
    tried on the newest event's BSN first, by writers and readers alike."""
    await _from_before_the_check(site, KEY_A)
    for existing in (False, True):
        opening = Store.open_existing if existing else Store.open
        with pytest.raises(SearchKeyMismatch) as refused:
            await opening(
                site.url, schema=site.schema, search_check=CHECK_B, hash_bsn=_hash_with(KEY_B)
            )
        text = str(refused.value)
        assert "from before it kept a check of its key" in text
        assert text.endswith("nothing was written")
        assert KEY_A not in text and KEY_B not in text and BSN not in text
    assert await _entries(site) == []  # the wrong key was not registered
    store = await Store.open(
        site.url, schema=site.schema, search_check=CHECK_A, hash_bsn=_hash_with(KEY_A)
    )
    await store.close()
    assert await _entries(site) == [CHECK_A]


def test_a_sqlite_store_with_hashes_but_no_check_gets_no_new_key_file(tmp_path: Path) -> None:
    """Its key file not copied along with it, a store from before revision 0022 got a new
    random one, which the engine then registered as the store's key."""
    database = tmp_path / "store.db"
    asyncio.run(_from_before_the_check(Site("sqlite", f"sqlite:///{database}"), KEY_A))
    assert not registered_in_sqlite(database)
    settings = Settings(database_url=f"sqlite:///{database}")
    with pytest.raises(SearchKeyError) as refused:
        resolve_search_key(settings, create=True)
    assert "is missing, and this store's BSN hashes were made with the key it held" in str(
        refused.value
    )
    assert not key_file_for(settings.database_url).exists()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("change-me-to-at-least-16-characters", "it is the example settings' placeholder"),
        ("aaaaaaaaaaaaaaaaaaaa", "it has fewer than 8 different characters"),
        ("abababab12121212", "it has fewer than 8 different characters"),
    ],
)
async def test_a_new_store_refuses_a_search_key_anyone_could_guess(
    site: Site, key: str, why: str
) -> None:
    """deploy.env.example's placeholder started an engine without a word: whoever knows the
    key turns the BSN hashes back into BSNs by trying every one. A store that already holds
    hashes made with such a key keeps it (only it finds them)."""
    settings = Settings(search_key=key)
    weakness = settings.search_key_weakness()
    assert weakness == why
    with pytest.raises(WeakSearchKey) as refused:
        await Store.open(
            site.url,
            schema=site.schema,
            search_check=search_key_check(key),
            search_key_weakness=weakness,
        )
    assert str(refused.value).startswith(f"INTEGRATOR_SEARCH_KEY: {why}: whoever knows")
    assert key not in str(refused.value) and refused.value.exit_code == 2
    assert await _entries(site) == []
    await _from_before_the_check(site, key)  # hashes made with it: it stays the store's key
    store = await Store.open(
        site.url,
        schema=site.schema,
        search_check=search_key_check(key),
        hash_bsn=settings.bsn_hash,
        search_key_weakness=weakness,
    )
    await store.close()
    assert await _entries(site) == [search_key_check(key)]
    assert Settings(search_key=KEY_A).search_key_weakness() is None


async def test_a_store_that_held_events_is_not_called_new_when_its_key_is_recorded(
    site: Site,
) -> None:
    """An upgraded store (made before the check was recorded) was announced as "new store"
    at its first start on the new version: its operator was told something untrue."""
    from structlog.testing import capture_logs

    from integrator.store.searchcheck import RECORDED_ON_NEW, RECORDED_ON_OLDER

    with capture_logs() as logs:
        store = await _open(site, CHECK_A)
    try:
        await store.accept_event(make_event(), [])
    finally:
        await store.close()
    assert [e["event"] for e in logs if "search key is recorded" in e["event"]] == [RECORDED_ON_NEW]
    async with raw_connection(site) as conn:  # as a version before the check left it
        await conn.execute(check_table.delete())
        await conn.commit()
    with capture_logs() as logs:
        await (await _open(site, CHECK_A)).close()
    assert [e["event"] for e in logs if "search key is recorded" in e["event"]] == [
        RECORDED_ON_OLDER
    ]
