"""Pruning the audit trail on both stores: the oldest entries past the period go, batch by
batch, leaving an anchor the chain still verifies from; tampering with the anchor or with what
follows it is found.

Entries are written at chosen days by moving the store clock (``StepClock.now``); ``prune``
gets its own ``now``.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from integrator.lifecycle.prune import PRUNE_ACTION, START_ACTION, prune
from integrator.lifecycle.retention import Retention
from integrator.store import AuditFilter, Store
from integrator.store import store as store_module
from integrator.store.audit_prune import ANCHOR_DETAIL, BATCH_ACTION, read_anchor
from integrator.store.errors import DataKeyError, StoreError
from integrator.store.sealing import DataKey, Sealer
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock
from tests.store.helpers import raw_connection

KEEP_AUDIT_30 = Retention(
    payload_days=10, dead_letter_days=10, rejected_days=10, unrouted_days=10, audit_days=30
)
ACTOR = "local:tester"
NOW = T0 + timedelta(days=60)


async def entries_on(store: Store, clock: StepClock, day: int, count: int) -> list[int]:
    """``count`` audit entries written on ``day`` (days after T0)."""
    clock.now = T0 + timedelta(days=day)
    return [
        await store.add_audit("anna", "destination.update", "noord", details={"day": day, "n": n})
        for n in range(count)
    ]


async def remaining(site: Site) -> list[int]:
    async with raw_connection(site) as conn:
        return list((await conn.execute(text("SELECT id FROM audit_log ORDER BY id"))).scalars())


async def execute(site: Site, sql: str, **params: Any) -> None:
    async with raw_connection(site) as conn:
        await conn.execute(text(sql), params)
        await conn.commit()


async def test_entries_past_the_period_go_and_nothing_newer(
    store: Store, clock: StepClock, site: Site
) -> None:
    old = await entries_on(store, clock, 0, 3)
    borderline = await entries_on(store, clock, 31, 1)  # 29 days before NOW: kept
    recent = await entries_on(store, clock, 50, 2)

    report = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)

    assert report.counts["audit"] == 3
    # The run's end, its one audit batch's, its start (written before it pruned anything).
    entry, batch, start = await store.list_audit(limit=3)
    assert (entry.action, batch.action, start.action) == (PRUNE_ACTION, BATCH_ACTION, START_ACTION)
    assert await remaining(site) == [*borderline, *recent, start.id, batch.id, entry.id]
    anchor = await store.audit_anchor()
    assert anchor is not None and (anchor.seq, anchor.pruned_at) == (old[-1], NOW)
    check = await store.verify_audit()
    assert check.intact and check.checked == 6 and check.starts_after == anchor


@pytest.mark.parametrize("batch", [2, 500])
async def test_a_dry_run_counts_what_the_run_prunes_whatever_the_batch(
    store: Store, clock: StepClock, site: Site, batch: int
) -> None:
    """All old: the newest stays, by either. In batches, each batch's own entry made the one
    that was the newest prunable in the next: the run pruned 5 where its dry run said 4."""
    written = await entries_on(store, clock, 0, 5)
    dry = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, dry_run=True, batch=batch)
    real = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=batch)
    assert dry.counts["audit"] == real.counts["audit"] == 4
    assert written[-1] in await remaining(site)
    assert (await store.verify_audit()).intact


async def test_the_prune_entry_records_its_count_and_each_batch_the_anchor(
    store: Store, clock: StepClock
) -> None:
    await entries_on(store, clock, 0, 5)
    await entries_on(store, clock, 50, 1)
    await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=3)

    entry, *batches = await store.list_audit(limit=3)
    anchor = await store.audit_anchor()
    assert entry.action == PRUNE_ACTION and anchor is not None
    assert entry.details["counts"]["audit"] == 5 and "stopped" not in entry.details
    assert entry.details["retention"]["audit_days"] == 30
    # Each batch recorded the anchor it left, in its own transaction; the newest is the anchor.
    assert [b.action for b in batches] == [BATCH_ACTION, BATCH_ACTION]
    assert [b.details["deleted"] for b in batches] == [2, 3]
    assert batches[0].details[ANCHOR_DETAIL] == anchor.to_json()
    assert batches[1].details[ANCHOR_DETAIL]["seq"] < anchor.seq


async def test_the_chain_verifies_after_two_prunes(
    store: Store, clock: StepClock, site: Site
) -> None:
    await entries_on(store, clock, 0, 4)
    await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)  # its entries are written at day 0
    first = await store.audit_anchor()
    await entries_on(store, clock, 70, 3)
    later = await entries_on(store, clock, 75, 1)

    report = await prune(store, KEEP_AUDIT_30, now=T0 + timedelta(days=101), actor=ACTOR)

    second = await store.audit_anchor()
    assert first is not None and second is not None and second.seq > first.seq
    # The newest of day 0, the first prune's three (its start, its batch's, its end), day 70's
    # three.
    assert report.counts["audit"] == 7
    entry, batch, start = await store.list_audit(limit=3)
    assert await remaining(site) == [*later, start.id, batch.id, entry.id]
    check = await store.verify_audit()
    assert check.intact and check.checked == 4 and check.starts_after == second


async def test_the_newest_entry_is_kept_however_old(
    store: Store, clock: StepClock, site: Site
) -> None:
    ids = await entries_on(store, clock, 0, 3)
    report = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, audit_empty=False)

    assert report.counts["audit"] == 2
    [*_, newest] = await remaining(site)
    assert (await remaining(site))[0] == ids[-1] and newest > ids[-1]
    assert (await store.verify_audit()).intact
    # An id handed out after the prune still comes after the anchor (SQLite reuses a max id).
    later = await store.add_audit("bert", "destination.pause", "zuid")
    assert later > newest and (await store.verify_audit()).intact


async def test_the_chain_is_cut_only_at_its_start(store: Store, clock: StepClock) -> None:
    """An old entry after a newer one waits: pruning it would leave a gap in the chain."""
    first = await entries_on(store, clock, 0, 1)
    await entries_on(store, clock, 50, 1)
    await entries_on(store, clock, 1, 1)  # stamped earlier than the entry before it
    await entries_on(store, clock, 50, 1)

    report = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)

    assert report.counts["audit"] == 1
    anchor = await store.audit_anchor()
    assert anchor is not None and anchor.seq == first[0]
    assert (await store.verify_audit()).intact


async def test_the_dry_run_counts_the_same_in_batches_and_changes_nothing(
    store: Store, clock: StepClock, site: Site
) -> None:
    await entries_on(store, clock, 0, 5)
    await entries_on(store, clock, 50, 1)
    before = await remaining(site)

    dry = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, dry_run=True, batch=2)
    assert await remaining(site) == before
    assert await store.audit_anchor() is None

    real = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=2)
    assert dry.counts == real.counts and real.counts["audit"] == 5
    assert (await store.verify_audit()).intact


async def test_zero_days_keeps_the_audit_trail_for_ever(
    store: Store, clock: StepClock, site: Site
) -> None:
    ids = await entries_on(store, clock, 0, 3)
    await entries_on(store, clock, 50, 1)
    keep = Retention(
        payload_days=10, dead_letter_days=10, rejected_days=10, unrouted_days=10, audit_days=0
    )

    report = await prune(store, keep, now=T0 + timedelta(days=10000), actor=ACTOR)

    assert report.counts["audit"] == 0
    assert (await remaining(site))[:3] == ids
    assert await store.audit_anchor() is None
    check = await store.verify_audit()
    assert check.intact and check.starts_after is None


async def test_pruning_and_appending_at_once_keep_one_chain(site: Site, clock: StepClock) -> None:
    first, second = await site.open(clock), await site.open(StepClock(now=T0 + timedelta(days=50)))
    try:
        await entries_on(first, clock, 0, 40)

        async def append() -> None:
            for n in range(20):
                await second.add_audit("bert", "destination.update", "zuid", details={"n": n})

        await asyncio.gather(prune(first, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=7), append())
        check = await second.verify_audit()
        assert check.intact and check.starts_after is not None
    finally:
        await first.close()
        await second.close()


# -- a prune while verify walks -----------------------------------------------------------------


def prune_elsewhere(site: Site, clock: StepClock) -> None:
    """Prune the trail from another store and thread, and wait for it: called from inside a
    walk (a hook is synchronous), it runs to its end before the walk reads on."""

    async def run() -> None:
        other = await site.open(clock)
        try:
            await prune(other, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=4)
        finally:
            await other.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.mark.parametrize(("old", "recent"), [(10, 3), (2, 10)], ids=["overtaken", "behind"])
async def test_a_prune_between_two_pages_of_verify_is_no_break(
    store: Store, clock: StepClock, site: Site, old: int, recent: int
) -> None:
    """Overtaken: the walk had checked the first page; the prune then deleted entries past it,
    so the next page began at the first entry kept, which links to the new anchor and not to
    the last entry the walk had seen: reported as a break in the chain. Behind: the prune
    deleted only entries the walk had passed, and its own entry, at the end, records an anchor
    newer than the one the walk started from."""
    await entries_on(store, clock, 0, old)
    await entries_on(store, clock, 50, recent)
    pages: list[int] = []

    def between_pages(checked: int) -> None:
        pages.append(checked)
        if len(pages) == 1:
            prune_elsewhere(site, clock)

    check = await store.verify_audit(batch=3, progress=between_pages)

    assert check.intact, check.problem
    anchor = await store.audit_anchor()
    assert anchor is not None and len(pages) > 1  # the prune did run in the middle
    again = await store.verify_audit()
    assert again.intact and again.starts_after == anchor


async def test_a_prune_between_reading_the_anchor_and_the_first_page_is_no_break(
    store: Store, clock: StepClock, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify reads the anchor, a prune moves it, verify reads the entries: the first entry
    kept does not link to the anchor verify read; the walk must begin again from the new one."""
    await entries_on(store, clock, 0, 5)
    await entries_on(store, clock, 20, 5)  # pruned by the second prune only
    await entries_on(store, clock, 50, 3)
    await prune(store, KEEP_AUDIT_30, now=T0 + timedelta(days=40), actor=ACTOR)
    first = await store.audit_anchor()
    assert first is not None
    reads: list[object] = []

    async def then_prune(conn: Any) -> Any:
        found = await read_anchor(conn)
        reads.append(found)
        if len(reads) == 1:
            prune_elsewhere(site, clock)
        return found

    monkeypatch.setattr(store_module, "read_anchor", then_prune)
    check = await store.verify_audit(batch=3)

    assert check.intact, check.problem
    moved = await store.audit_anchor()
    assert reads[0] == first and moved is not None and moved.seq > first.seq


# -- tampering --------------------------------------------------------------------------------


async def pruned(store: Store, clock: StepClock) -> list[int]:
    """A store whose three oldest entries were pruned; the ids of the entries kept."""
    await entries_on(store, clock, 0, 3)
    kept = await entries_on(store, clock, 50, 3)
    await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)
    assert (await store.verify_audit()).intact
    return kept


async def test_an_edited_anchor_hash_is_found(store: Store, clock: StepClock, site: Site) -> None:
    kept = await pruned(store, clock)
    await execute(site, "UPDATE audit_anchor SET hash = :hash", hash="f" * 64)

    check = await store.verify_audit()

    assert check.broken_id == kept[0] and check.checked == 0
    assert check.problem is not None and "anchor was changed" in check.problem


async def test_an_anchor_moved_back_or_forward_is_found(
    store: Store, clock: StepClock, site: Site
) -> None:
    kept = await pruned(store, clock)
    anchor = await store.audit_anchor()
    assert anchor is not None

    await execute(site, "UPDATE audit_anchor SET seq = :seq", seq=anchor.seq - 1)
    back = await store.verify_audit()
    assert back.broken_id == kept[0] and back.checked == 0
    assert back.problem is not None and "not the one the chain recorded" in back.problem

    await execute(site, "UPDATE audit_anchor SET seq = :seq", seq=kept[0])
    forward = await store.verify_audit()
    assert forward.broken_id == kept[0]
    assert forward.problem is not None and "anchor was changed" in forward.problem


async def test_a_removed_anchor_is_found(store: Store, clock: StepClock, site: Site) -> None:
    kept = await pruned(store, clock)
    await execute(site, "DELETE FROM audit_anchor")

    check = await store.verify_audit()

    assert check.broken_id == kept[0]
    assert check.problem is not None and "older entries were removed" in check.problem


async def test_the_entry_right_after_the_anchor_removed_is_found(
    store: Store, clock: StepClock, site: Site
) -> None:
    kept = await pruned(store, clock)
    await execute(site, "DELETE FROM audit_log WHERE id = :id", id=kept[0])

    check = await store.verify_audit()

    assert check.broken_id == kept[1] and check.checked == 0
    assert check.problem is not None and "entries after it were removed" in check.problem


async def test_an_edited_kept_entry_is_found(store: Store, clock: StepClock, site: Site) -> None:
    kept = await pruned(store, clock)
    await execute(site, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=kept[1])

    check = await store.verify_audit()

    assert (check.broken_id, check.checked) == (kept[1], 1)
    assert check.problem is not None and "edited" in check.problem


async def test_a_hash_noted_before_the_prune(store: Store, clock: StepClock) -> None:
    await entries_on(store, clock, 0, 3)
    noted = await store.verify_audit()
    assert noted.last_id is not None and noted.last_hash is not None
    await entries_on(store, clock, 50, 1)
    await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)

    # The newest entry pruned is the anchor: its hash is still known, and checked.
    assert (await store.verify_audit(anchor=(noted.last_id, noted.last_hash))).intact
    wrong = await store.verify_audit(anchor=(noted.last_id, "e" * 64))
    assert wrong.broken_id == noted.last_id
    assert wrong.problem is not None and "recomputed" in wrong.problem
    # One pruned before it cannot be checked any more, and verify says so.
    gone = await store.verify_audit(anchor=(noted.last_id - 1, noted.last_hash))
    assert not gone.intact and gone.problem is not None and "was pruned" in gone.problem


async def test_a_data_key_whose_registration_is_pruned_is_registered_again(
    site: Site, clock: StepClock
) -> None:
    key = DataKey("kid1", os.urandom(32))
    store = await site.open(clock, sealer=Sealer([key]))  # registers kid1 in the audit trail
    try:
        await entries_on(store, clock, 50, 1)
        report = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)
        assert report.counts["audit"] == 1  # the registration
        again = await store.list_audit(AuditFilter(action="datakey.register"))
        assert [(e.actor, e.details["kid"], e.details["again"]) for e in again] == [
            ("system", "kid1", True)
        ]
        assert (await store.verify_audit()).intact
    finally:
        await store.close()
    # The store still knows the key: a missing or wrong one is refused as before.
    with pytest.raises(DataKeyError, match="'kid1'"):
        await site.open()
    with pytest.raises(DataKeyError, match="the key under id 'kid1' is not the key"):
        await site.open(sealer=Sealer([DataKey("kid1", os.urandom(32))]))
    reopened = await site.open(sealer=Sealer([key]))
    await reopened.close()


async def test_a_data_key_whose_retirement_is_pruned_stays_retired(
    site: Site, clock: StepClock
) -> None:
    """A retired key never seals again (docs/operators.md): put first in a setting again, it is
    refused at open. With its register and retire entries pruned, the store forgot it, and
    took it for a new key that sealed new patient data (found by review)."""
    old, new = DataKey("kid1", os.urandom(32)), DataKey("kid2", os.urandom(32))
    first = await site.open(clock, sealer=Sealer([old]))
    await first.close()
    store = await site.open(clock, sealer=Sealer([new, old]))
    try:
        assert (await store.rotate_data_keys(actor=ACTOR)).retired == ("kid1",)
        await entries_on(store, clock, 50, 1)
        report = await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)
        assert report.counts["audit"] >= 3  # both registrations and the retirement
        assert await store.known_data_keys() == {"kid1": False, "kid2": True}
        assert (await store.verify_audit()).intact
    finally:
        await store.close()
    with pytest.raises(DataKeyError, match="'kid1'"):
        await site.open(sealer=Sealer([old, new]))


# -- an anchor written or moved by hand: the chain records every anchor a prune leaves ---------


async def entry_hash_of(site: Site, entry_id: int) -> str:
    async with raw_connection(site) as conn:
        found = await conn.execute(
            text("SELECT hash FROM audit_log WHERE id = :id"), {"id": entry_id}
        )
        return str(found.scalar_one())


async def anchor_by_hand(site: Site, entry_id: int, *, insert: bool = False) -> None:
    """Delete every entry up to ``entry_id`` and point the anchor at it, as someone with write
    access to the database would to hide them (the audit's reproductions)."""
    digest = await entry_hash_of(site, entry_id)
    if insert:
        await execute(
            site,
            "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, :seq, :hash, :at)",
            seq=entry_id,
            hash=digest,
            at=NOW,
        )
    else:
        await execute(
            site, "UPDATE audit_anchor SET seq = :seq, hash = :hash", seq=entry_id, hash=digest
        )
    await execute(site, "DELETE FROM audit_log WHERE id <= :id", id=entry_id)


async def test_an_anchor_written_into_a_store_never_pruned_is_found(
    store: Store, clock: StepClock, site: Site
) -> None:
    ids = await entries_on(store, clock, 50, 5)
    await anchor_by_hand(site, ids[2], insert=True)

    check = await store.verify_audit()

    assert not check.intact and check.broken_id == ids[3] and check.checked == 0
    assert check.problem is not None and f"up to {ids[2]}" in check.problem
    assert "no entry kept records the anchor" in check.problem


async def test_an_anchor_moved_past_a_real_prune_s_entries_is_found(
    store: Store, clock: StepClock, site: Site
) -> None:
    kept = await pruned(store, clock)
    later = await entries_on(store, clock, 55, 3)
    assert (await store.verify_audit()).intact
    # Past the prune's own entries: no kept entry records any anchor any more.
    await anchor_by_hand(site, later[1])

    check = await store.verify_audit()

    assert not check.intact and check.broken_id == later[2] and check.checked == 0
    assert check.problem is not None and f"up to {later[1]}" in check.problem
    assert kept[0] < later[1]


async def test_an_anchor_moved_forward_over_the_entry_after_it_is_found(
    store: Store, clock: StepClock, site: Site
) -> None:
    kept = await pruned(store, clock)
    await anchor_by_hand(site, kept[0])  # the entry right after the anchor, and the anchor on it

    check = await store.verify_audit()

    assert not check.intact and check.broken_id == kept[1]
    assert check.problem is not None and "not the one the chain recorded" in check.problem


async def test_an_entry_noted_earlier_and_removed_under_a_moved_anchor_is_tampering(
    store: Store, clock: StepClock, site: Site
) -> None:
    kept = await pruned(store, clock)
    noted = (kept[0], await entry_hash_of(site, kept[0]))
    assert (await store.verify_audit(anchor=noted)).intact
    await anchor_by_hand(site, kept[1])

    check = await store.verify_audit(anchor=noted)

    assert not check.intact and check.broken_id == kept[0]
    assert check.problem is not None and "not pruned by retention" in check.problem
    assert "note a newer one" not in check.problem


async def test_a_real_prune_then_verify_with_the_retention_set_is_intact(
    store: Store, clock: StepClock
) -> None:
    await entries_on(store, clock, 0, 5)
    await entries_on(store, clock, 50, 2)
    await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR, batch=2)

    check = await store.verify_audit(audit_days=30)

    assert check.intact, check.problem
    assert check.starts_after is not None


async def test_an_anchor_younger_than_retention_allows_is_found(
    store: Store, clock: StepClock
) -> None:
    """A prune run with its clock moved forward (as the audit did, 2000 days) deleted entries
    that were not past the period; the anchor and its record agree, but its time cannot be."""
    await entries_on(store, clock, 0, 5)
    await entries_on(store, clock, 50, 2)
    ahead = T0 + timedelta(days=2000)
    await prune(store, KEEP_AUDIT_30, now=ahead, actor=ACTOR)
    anchor = await store.audit_anchor()
    assert anchor is not None

    check = await store.verify_audit(audit_days=30)

    assert not check.intact and check.checked == 0
    assert check.problem is not None and "INTEGRATOR_RETAIN_AUDIT_DAYS=30" in check.problem
    assert f"up to {anchor.seq}" in check.problem
    # Without the period, only the chain and the record are checked: both hold.
    assert (await store.verify_audit()).intact


async def test_the_anchor_moves_only_with_the_entry_recording_it(
    store: Store, clock: StepClock, site: Site
) -> None:
    """The batch's entry and the anchor's move are one transaction: the entry's insert refused
    (a real trigger in the database, not a stand-in) leaves the anchor unwritten and every
    entry in place, so no crash can come between them."""
    await entries_on(store, clock, 0, 3)
    await entries_on(store, clock, 50, 1)
    before = await remaining(site)
    if site.backend == "sqlite":
        await execute(
            site,
            "CREATE TRIGGER refuse_batch BEFORE INSERT ON audit_log "
            f"WHEN NEW.action = '{BATCH_ACTION}' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
    else:
        await execute(
            site,
            "CREATE FUNCTION refuse_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.action = '{BATCH_ACTION}' THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$",
        )
        await execute(
            site,
            "CREATE TRIGGER refuse_batch BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION refuse_batch()",
        )

    with pytest.raises(StoreError):
        await prune(store, KEEP_AUDIT_30, now=NOW, actor=ACTOR)

    assert await store.audit_anchor() is None
    # Every entry in place, and the run's start, which said it began (and no end: it failed).
    [start] = await store.list_audit(limit=1)
    assert start.action == START_ACTION
    assert await remaining(site) == [*before, start.id]
    assert (await store.verify_audit(audit_days=30)).intact


async def test_the_day_a_noted_entry_was_pruned_on_is_said_in_the_local_zone(
    store: Store, clock: StepClock
) -> None:
    """A prune at 00:30 in Amsterdam (23:30 UTC) was said to have happened on the UTC day
    before, where every other date the CLI shows is local."""
    await entries_on(store, clock, 0, 3)
    noted = await store.verify_audit()
    assert noted.last_id is not None and noted.last_hash is not None
    await entries_on(store, clock, 50, 1)
    late = datetime(2027, 1, 19, 23, 30, tzinfo=UTC)  # 2027-01-20 00:30 in Amsterdam
    await prune(store, KEEP_AUDIT_30, now=late, actor=ACTOR)
    gone = await store.verify_audit(
        anchor=(noted.last_id - 1, noted.last_hash), zone=ZoneInfo("Europe/Amsterdam")
    )
    assert gone.problem is not None and "on 2027-01-20)" in gone.problem
    in_utc = await store.verify_audit(anchor=(noted.last_id - 1, noted.last_hash))
    assert in_utc.problem is not None and "on 2027-01-19)" in in_utc.problem
