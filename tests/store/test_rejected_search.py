"""Rejected input is found by what could be read from it: its ZD number, provider and BSN hash.

A GP's "I sent ZD300000001 and the hospital never got it" must be answered by one lookup when
intake refused that referral, on both backends; and rows kept before the columns existed get
the ZD number and provider from their body when it is stored unsealed (migration 0015).
"""

from __future__ import annotations

import json
import os
import uuid

from sqlalchemy import insert

from integrator.store import RejectedFilter, RejectedKeys, Store
from integrator.store.codec import rejected_raw
from integrator.store.sealing import MAGIC, DataKey, Sealer
from integrator.store.tables import rejected_events
from tests.store.conftest import Site
from tests.store.factories import T0
from tests.store.helpers import migrate_to, raw_connection

KEY = DataKey("kid1", os.urandom(32))
HASH = "ab" * 32


async def test_the_keys_narrow_the_listing_and_its_count(store: Store) -> None:
    first = await store.reject_event(
        b"{}", "http", [], RejectedKeys("ZD300000001", "ziekenhuis-noord", HASH)
    )
    second = await store.reject_event(b"{}", "amqp", [], RejectedKeys("ZD300000001", None, None))
    other = await store.reject_event(b"{}", "http", [], RejectedKeys("ZD300000002", "lab-west"))
    bare = await store.reject_event(b"not json", "http", [])

    def ids(flt: RejectedFilter) -> list[str]:
        return [r.id for r in listed[flt]]

    flts = [
        RejectedFilter(zd_number="ZD300000001"),
        RejectedFilter(provider_id="lab-west"),
        RejectedFilter(bsn_hash=HASH),
        RejectedFilter(zd_number="ZD300000001", source="amqp"),
        RejectedFilter(zd_number="ZD399999999"),
    ]
    listed = {flt: await store.list_rejected(flt) for flt in flts}
    assert ids(flts[0]) == [second, first]
    assert ids(flts[1]) == [other]
    assert ids(flts[2]) == [first]
    assert ids(flts[3]) == [second]
    assert ids(flts[4]) == []
    assert [await store.count_rejected(flt) for flt in flts] == [2, 1, 1, 1, 0]
    rows = {r.id: r for r in await store.list_rejected()}
    assert (rows[first].zd_number, rows[first].provider_id) == ("ZD300000001", "ziekenhuis-noord")
    assert (rows[bare].zd_number, rows[bare].provider_id) == (None, None)
    record = await store.get_rejected(other)
    assert record is not None and record.zd_number == "ZD300000002"


async def test_migration_0015_reads_old_unsealed_rows_and_leaves_sealed_ones(site: Site) -> None:
    await migrate_to(site, "0014")
    sealer = Sealer([KEY])
    plain = {"zd_number": " zd300000001 ", "provider": {"id": "ziekenhuis-noord"}}
    bodies = {
        "plain": json.dumps(plain).encode(),
        "escaped": MAGIC + b"\x00" + json.dumps({"zd_number": "ZD300000002"}).encode(),
        "sealed": None,  # sealed below, under its own id
        "not json": b"\xff not json",
        "odd shapes": json.dumps({"zd_number": 300000001, "provider": {"id": "a\nb"}}).encode(),
        "malformed": json.dumps({"zd_number": "ZD3000", "provider": "lab-west"}).encode(),
    }
    ids = {name: str(uuid.uuid4()) for name in bodies}
    async with raw_connection(site) as conn:
        for name, body in bodies.items():
            raw = (
                rejected_raw(json.dumps(plain).encode(), ids[name], sealer)
                if body is None
                else body
            )
            # Only the columns revision 0014 has.
            await conn.execute(
                insert(rejected_events).values(
                    id=ids[name], received_at=T0, source="http", raw=raw, reason="[]"
                )
            )
        await conn.commit()

    store = await site.open(sealer=sealer)  # migrates to head
    try:
        found = {r.id: (r.zd_number, r.provider_id) for r in await store.list_rejected()}
        assert found == {
            ids["plain"]: ("ZD300000001", "ziekenhuis-noord"),
            ids["escaped"]: ("ZD300000002", None),
            ids["sealed"]: (None, None),  # no data key in a migration
            ids["not json"]: (None, None),
            ids["odd shapes"]: (None, None),
            ids["malformed"]: (None, None),
        }
        by_zd = await store.list_rejected(RejectedFilter(zd_number="ZD300000001"))
        assert [r.id for r in by_zd] == [ids["plain"]]
        sealed = await store.get_rejected(ids["sealed"])
        assert sealed is not None and json.loads(sealed.raw) == plain  # untouched
    finally:
        await store.close()
