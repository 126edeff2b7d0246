"""A kept search's terms sealed at rest (``console_searches.terms``), on both stores.

The terms are what a person typed into a console search form: a patient's name, a birth date,
the audit trail's free text. They were kept in the clear for the search's 15 minutes in a store
whose payloads were all sealed, so a copy of the database taken then held them. Now they are
sealed with the data keys, read back as typed, and resealed by a rotation like every sealed
column (a column rotation does not know would keep values under a key it then retires).
"""

from __future__ import annotations

import os

from sqlalchemy import select

from integrator import kept_searches
from integrator.access.permissions import Identity, IdentityKind
from integrator.store import Store
from integrator.store.sealing import TEXT_MAGIC, DataKey, Sealer
from integrator.store.tables import console_searches
from tests.store.conftest import Site
from tests.store.helpers import raw_connection
from tests.store.test_confirmations import NOW, _person

KEY1 = DataKey("kid1", os.urandom(32))
KEY2 = DataKey("kid2", os.urandom(32))
NAME = "Vermeulen-Ödegaard"
TERMS = {"text": f"patient {NAME}", "birth_date": "1961-04-12"}


async def _keep(store: Store) -> tuple[Identity, str]:
    person = Identity(IdentityKind.PERSON, await _person(store), "person:anna@example.nl")
    made = await kept_searches.keep(store, person, "audit", TERMS, None, now=NOW)
    return person, made.handle


async def _raw_terms(site: Site) -> list[str]:
    async with raw_connection(site) as conn:
        return [str(v) for (v,) in await conn.execute(select(console_searches.c.terms))]


async def test_under_a_key_the_terms_are_sealed_and_read_back_as_typed(site: Site) -> None:
    store = await site.open(sealer=Sealer([KEY1]))
    try:
        person, handle = await _keep(store)
        found = await kept_searches.kept(store, person, "audit", handle, now=NOW)
        assert found.terms == TERMS
        assert (await store.count_to_reseal())["console_searches.terms"] == 0
    finally:
        await store.close()
    [raw] = await _raw_terms(site)
    assert raw.startswith(f"{TEXT_MAGIC}1$kid1$")
    assert "Vermeulen" not in raw and "1961" not in raw


async def test_terms_kept_before_a_key_are_resealed_by_a_rotation(site: Site) -> None:
    plain = await site.open()
    try:
        person, handle = await _keep(plain)
    finally:
        await plain.close()
    assert "Vermeulen" in (await _raw_terms(site))[0]  # no key: kept as typed, as before

    keyed = await site.open(sealer=Sealer([KEY2, KEY1]))
    try:
        assert (await kept_searches.kept(keyed, person, "audit", handle, now=NOW)).terms == TERMS
        assert (await keyed.count_to_reseal())["console_searches.terms"] == 1
        report = await keyed.rotate_data_keys(actor="local:tester")
        assert report.counts["console_searches.terms"] == 1
        assert (await keyed.count_to_reseal())["console_searches.terms"] == 0
    finally:
        await keyed.close()
    [raw] = await _raw_terms(site)
    assert raw.startswith(f"{TEXT_MAGIC}1$kid2$") and "Vermeulen" not in raw

    only_new = await site.open(sealer=Sealer([KEY2]))
    try:
        assert (await kept_searches.kept(only_new, person, "audit", handle, now=NOW)).terms == TERMS
    finally:
        await only_new.close()
