"""Kept searches (``integrator.kept_searches``) on both backends: a handle opens its maker's
search of its kind until it expires, and nobody else's; the store keeps neither the handle nor
the BSN, and expired rows go when the next search is kept and at every prune. A search without
a BSN is kept as one with, its hash None, and is never paged as a search by BSN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from integrator import kept_searches
from integrator.access.permissions import Identity, IdentityKind
from integrator.kept_searches import LASTS, UnknownSearch, searched_bsn
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
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


async def test_a_search_without_a_bsn_is_kept_with_no_hash(store: Store) -> None:
    """Every console search form keeps its search, a BSN or not: one without is kept with its
    terms as typed (the audit trail's free text too) and no hash, of every kind that has a
    form, and the reading services refuse to page it as a search by BSN."""
    anna, bert = _identity(await _person(store)), _identity(await _person(store))
    terms = {"target": "Jan van der Berg geb. 12-04-1961"}
    for kind in ("messages", "events", "rejected", "audit", "deadletters"):
        made = await kept_searches.keep(store, anna, kind, terms, None, now=NOW)
        found = await kept_searches.kept(store, anna, kind, made.handle, now=NOW)
        assert (found.terms, found.bsn_hash, found.kind) == (terms, None, kind)
        assert await _refused(store, bert, kind, made.handle)
        with pytest.raises(ValueError, match="without a BSN"):
            searched_bsn(found)
    by_bsn = await kept_searches.keep(store, anna, "audit", {}, BSN_HASH, now=NOW)
    assert searched_bsn(by_bsn) == BSN_HASH


async def test_expired_searches_go_when_the_next_one_is_kept(store: Store) -> None:
    anna = _identity(await _person(store))
    await kept_searches.keep(store, anna, "events", {}, BSN_HASH, now=NOW)
    await kept_searches.keep(store, anna, "rejected", {}, BSN_HASH, now=NOW + LASTS)
    async with store._engine.connect() as conn:
        kinds = (await conn.execute(select(console_searches.c.kind))).scalars().all()
    assert kinds == ["rejected"]


async def test_the_prune_deletes_expired_searches_and_keeps_live_ones(store: Store) -> None:
    """A console where nobody searches by BSN any more keeps no rows for ever: the prune
    deletes the expired ones, whatever the retention periods (0: keep for ever) say, and a
    live one still opens."""
    anna = _identity(await _person(store))
    await kept_searches.keep(store, anna, "messages", {}, BSN_HASH, now=NOW)
    await kept_searches.keep(store, anna, "events", {}, BSN_HASH, now=NOW)
    live = await kept_searches.keep(store, anna, "rejected", {}, BSN_HASH, now=NOW + LASTS / 2)
    keep_all = Retention(
        payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0, audit_days=0
    )
    at = NOW + LASTS  # the first two have just expired, the third has half its time left

    dry = await prune(store, keep_all, now=at, actor="local:tester", dry_run=True)
    assert dry.counts["searches"] == 2 and dry.total == 2
    assert await store.count_expired_console_searches(now=at) == 2  # the dry run deleted none

    report = await prune(store, keep_all, now=at, actor="local:tester")
    assert report.counts == {**dict.fromkeys(report.counts, 0), "searches": 2}
    async with store._engine.connect() as conn:
        kinds = (await conn.execute(select(console_searches.c.kind))).scalars().all()
    assert kinds == ["rejected"]
    assert (await kept_searches.kept(store, anna, "rejected", live.handle, now=at)).kind == (
        "rejected"
    )
    assert (await prune(store, keep_all, now=at, actor="local:tester")).counts["searches"] == 0
