"""Kept searches by BSN (``integrator.kept_searches``) on both backends: a handle opens its
maker's search of its kind until it expires, and nobody else's; the store keeps neither the
handle nor the BSN, and expired rows go when the next search is kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integrator import kept_searches
from integrator.access.permissions import Identity, IdentityKind
from integrator.kept_searches import LASTS, UnknownSearch
from integrator.store import Store
from integrator.store.tables import console_searches
from tests.store.test_confirmations import NOW, _person

BSN_HASH = "ab" * 32


def _identity(person_id: str) -> Identity:
    return Identity(IdentityKind.PERSON, person_id, f"person:{person_id}@example.nl")


async def _refused(
    store: Store, identity: Identity, kind: str, handle: str, later: timedelta = timedelta()
) -> bool:
    try:
        await kept_searches.kept(store, identity, kind, handle, now=NOW + later)
    except UnknownSearch:
        return True
    return False


async def test_a_handle_opens_its_makers_search_until_it_expires(store: Store) -> None:
    anna, bert = _identity(await _person(store)), _identity(await _person(store))
    terms = {"zd_number": "ZD100000001", "since": "2h"}
    made = await kept_searches.keep(store, anna, "messages", terms, BSN_HASH, now=NOW)

    found = await kept_searches.kept(store, anna, "messages", made.handle, now=NOW)
    assert (found.terms, found.bsn_hash, found.kind) == (terms, BSN_HASH, "messages")
    assert found.expires_at == NOW + LASTS
    assert await _refused(store, bert, "messages", made.handle)  # another person's
    assert await _refused(store, anna, "events", made.handle)  # another kind's
    assert await _refused(store, anna, "messages", made.handle + "x")
    assert await _refused(store, anna, "messages", "x" * 100)
    assert await _refused(store, anna, "messages", made.handle, later=LASTS)

    async with store._engine.connect() as conn:
        [row] = (await conn.execute(select(console_searches))).all()
    assert made.handle not in str(tuple(row))  # only the handle's hash is kept


async def test_expired_searches_go_when_the_next_one_is_kept(store: Store) -> None:
    anna = _identity(await _person(store))
    await kept_searches.keep(store, anna, "events", {}, BSN_HASH, now=NOW)
    await kept_searches.keep(store, anna, "rejected", {}, BSN_HASH, now=NOW + LASTS)
    async with store._engine.connect() as conn:
        kinds = (await conn.execute(select(console_searches.c.kind))).scalars().all()
    assert kinds == ["rejected"]
