"""The audit log is a hash chain: ``verify_audit`` finds an edited, removed, moved or forged
entry, on SQLite and PostgreSQL; concurrent appends do not fork the chain; a store migrated from
before the chain verifies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text

from integrator.store import AuditFilter, Store
from integrator.store.audit_chain import GENESIS, entry_hash
from tests.store.conftest import Site
from tests.store.factories import StepClock
from tests.store.helpers import migrate_to, raw_connection


async def _three(store: Store) -> list[int]:
    return [
        await store.add_audit("anna", "destination.update", "noord", details={"revision": 2}),
        await store.add_audit("bert", "message.resend", "m-1", reason="GP called"),
        await store.add_audit("carla", "destination.pause", "zuid"),
    ]


async def _execute(site: Site, sql: str, **params: Any) -> None:
    async with raw_connection(site) as conn:
        await conn.execute(text(sql), params)
        await conn.commit()


async def _chain(site: Site) -> list[tuple[int, str, str]]:
    async with raw_connection(site) as conn:
        result = await conn.execute(text("SELECT id, prev_hash, hash FROM audit_log ORDER BY id"))
        return [(row.id, row.prev_hash, row.hash) for row in result]


async def test_each_entry_is_chained_to_the_one_before(store: Store, site: Site) -> None:
    ids = await _three(store)
    chain = await _chain(site)

    assert [entry_id for entry_id, _, _ in chain] == ids
    assert chain[0][1] == GENESIS
    assert chain[1][1] == chain[0][2] and chain[2][1] == chain[1][2]
    assert all(len(digest) == 64 and digest != GENESIS for _, _, digest in chain)
    check = await store.verify_audit()
    assert check.intact
    assert (check.checked, check.last_id, check.last_hash) == (3, ids[-1], chain[-1][2])


async def test_an_empty_log_is_intact(store: Store) -> None:
    check = await store.verify_audit()
    assert check.intact and check.checked == 0 and check.last_hash is None


async def test_verify_finds_an_edited_entry(store: Store, site: Site) -> None:
    ids = await _three(store)
    await _execute(site, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=ids[1])

    check = await store.verify_audit()

    assert not check.intact
    assert (check.broken_id, check.checked) == (ids[1], 1)
    assert check.problem is not None and "edited" in check.problem


async def test_verify_finds_edited_details_and_reason(store: Store, site: Site) -> None:
    ids = await _three(store)
    edit = "UPDATE audit_log SET details = :details WHERE id = :id"
    await _execute(site, edit, details='{"revision":3}', id=ids[0])
    assert (await store.verify_audit()).broken_id == ids[0]

    await _execute(site, edit, details='{"revision":2}', id=ids[0])
    assert (await store.verify_audit()).intact
    await _execute(site, "UPDATE audit_log SET reason = NULL WHERE id = :id", id=ids[1])
    assert (await store.verify_audit()).broken_id == ids[1]


async def test_verify_finds_a_time_rewritten_with_an_offset(store: Store, site: Site) -> None:
    """The same moment written with an offset hashes alike (the hash is of the moment), but
    the periods compare the stored text: the entry left its day for ``--since`` and the NEN
    7513 summary while the chain verified (SQLite, which keeps times as text)."""
    if site.backend != "sqlite":
        pytest.skip("timestamptz holds the moment alone: there is no other way to write it")
    ids = await _three(store)
    async with raw_connection(site) as conn:
        stored = (
            await conn.execute(text("SELECT at FROM audit_log WHERE id = :id"), {"id": ids[1]})
        ).scalar_one()
    moment = datetime.fromisoformat(str(stored)).replace(tzinfo=UTC)
    shifted = moment.astimezone(timezone(timedelta(hours=12))).isoformat(sep=" ")
    await _execute(site, "UPDATE audit_log SET at = :at WHERE id = :id", at=shifted, id=ids[1])
    assert (await store.list_audit(AuditFilter(target="m-1")))[0].at == moment  # the same moment

    check = await store.verify_audit()

    assert (check.broken_id, check.checked) == (ids[1], 1)
    assert check.problem is not None and "UTC, no offset" in check.problem


async def test_verify_finds_a_removed_entry(store: Store, site: Site) -> None:
    ids = await _three(store)
    await _execute(site, "DELETE FROM audit_log WHERE id = :id", id=ids[1])

    check = await store.verify_audit()

    assert check.broken_id == ids[2]
    assert check.problem is not None and "removed" in check.problem


async def test_verify_finds_the_oldest_entry_removed(store: Store, site: Site) -> None:
    ids = await _three(store)
    await _execute(site, "DELETE FROM audit_log WHERE id = :id", id=ids[0])

    check = await store.verify_audit()

    assert (check.broken_id, check.checked) == (ids[1], 0)
    assert check.problem is not None and "oldest" in check.problem


async def test_verify_finds_two_swapped_entries(store: Store, site: Site) -> None:
    ids = await _three(store)
    # Swap everything but the ids: the second and third entry change places.
    columns = ("at", "actor", "action", "target", "reason", "details", "prev_hash", "hash")
    async with raw_connection(site) as conn:
        rows = {
            row.id: row
            for row in await conn.execute(
                text(f"SELECT id, {', '.join(columns)} FROM audit_log WHERE id IN (:a, :b)"),
                {"a": ids[1], "b": ids[2]},
            )
        }
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        for here, there in ((ids[1], ids[2]), (ids[2], ids[1])):
            values = {c: getattr(rows[there], c) for c in columns}
            await conn.execute(
                text(f"UPDATE audit_log SET {assignments} WHERE id = :id"), {**values, "id": here}
            )
        await conn.commit()

    check = await store.verify_audit()

    assert check.broken_id == ids[1]
    assert check.problem is not None and "moved" in check.problem


async def test_verify_finds_a_forged_entry_inserted_with_a_valid_hash(
    store: Store, site: Site
) -> None:
    ids = await _three(store)
    chain = await _chain(site)
    # Make room after the second entry, then forge one that knows the hash function.
    moved = ids[2] + 10
    await _execute(site, "UPDATE audit_log SET id = :new WHERE id = :old", new=moved, old=ids[2])
    at = datetime(2026, 1, 1, tzinfo=UTC)
    forged_hash = entry_hash(chain[1][2], ids[2], at, "mallory", "person.grant", "x", None, "{}")
    async with raw_connection(site) as conn:
        stored_at = at.replace(tzinfo=None) if site.backend == "sqlite" else at
        await conn.execute(
            text(
                "INSERT INTO audit_log (id, at, actor, action, target, reason, details, "
                "prev_hash, hash) VALUES (:id, :at, 'mallory', 'person.grant', 'x', NULL, '{}', "
                ":prev, :hash)"
            ),
            {"id": ids[2], "at": stored_at, "prev": chain[1][2], "hash": forged_hash},
        )
        await conn.commit()

    check = await store.verify_audit()

    # The forged entry itself checks out; the entry after it no longer links.
    assert (check.broken_id, check.checked) == (moved, 3)


async def test_verify_streams_in_batches_and_reports_progress(store: Store) -> None:
    for n in range(7):
        await store.add_audit("ops", "destination.update", "noord", details={"n": n})
    seen: list[int] = []

    check = await store.verify_audit(batch=3, progress=seen.append)

    assert check.intact and check.checked == 7
    assert seen == [3, 3, 1]
    assert await store.count_audit() == 7


async def test_concurrent_appends_from_two_stores_do_not_fork_the_chain(site: Site) -> None:
    first, second = await site.open(), await site.open()
    try:

        async def append(store: Store, who: str) -> None:
            for n in range(15):
                await store.add_audit(who, "destination.update", "noord", details={"n": n})

        await asyncio.gather(append(first, "anna"), append(second, "bert"), append(first, "carla"))
        check = await second.verify_audit()
        assert check.intact and check.checked == 45
        chain = await _chain(site)
        assert len({prev for _, prev, _ in chain}) == 45
    finally:
        await first.close()
        await second.close()


async def test_migration_chains_the_entries_already_there(site: Site) -> None:
    await migrate_to(site, "0004")
    start = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    async with raw_connection(site) as conn:
        for n in range(5):
            at = start + timedelta(minutes=n)
            await conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, target, reason, details) "
                    "VALUES (:at, 'ops', 'destination.update', 'noord', :reason, :details)"
                ),
                {
                    "at": at.replace(tzinfo=None) if site.backend == "sqlite" else at,
                    "reason": None if n % 2 else f"reden {n}: ë",
                    "details": f'{{"n":{n},"naam":"Zoë"}}',
                },
            )
        await conn.commit()

    store = await site.open(StepClock())
    try:
        check = await store.verify_audit(batch=2)
        assert check.intact and check.checked == 5
        await store.add_audit("ops", "destination.pause", "noord")
        assert (await store.verify_audit()).checked == 6
        [entry] = await store.list_audit(AuditFilter(actor="ops"), limit=1, offset=5)
        assert entry.at == start and entry.reason == "reden 0: ë"
    finally:
        await store.close()


async def test_a_hash_noted_earlier_catches_a_recomputed_or_shortened_chain(
    store: Store, site: Site
) -> None:
    ids = await _three(store)
    noted = await store.verify_audit()
    assert noted.last_id is not None and noted.last_hash is not None
    anchor = (noted.last_id, noted.last_hash)
    await store.add_audit("dirk", "destination.resume", "noord")
    assert (await store.verify_audit(anchor=anchor)).intact

    # Edit the second entry and recompute the chain from there: the chain alone holds.
    await _execute(site, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=ids[1])
    async with raw_connection(site) as conn:
        rows = (
            await conn.execute(
                text("SELECT * FROM audit_log WHERE id >= :id ORDER BY id"), {"id": ids[1]}
            )
        ).all()
        prev = (await _chain(site))[0][2]
        for row in rows:
            digest = entry_hash(
                prev,
                row.id,
                _aware(row.at),
                row.actor,
                row.action,
                row.target,
                row.reason,
                row.details,
            )
            await conn.execute(
                text("UPDATE audit_log SET prev_hash = :prev, hash = :hash WHERE id = :id"),
                {"prev": prev, "hash": digest, "id": row.id},
            )
            prev = digest
        await conn.commit()
    assert (await store.verify_audit()).intact
    check = await store.verify_audit(anchor=anchor)
    assert check.broken_id == ids[2]
    assert check.problem is not None and "recomputed" in check.problem

    # Cut off the end instead: the noted entry is gone.
    await _execute(site, "DELETE FROM audit_log WHERE id >= :id", id=ids[2])
    assert (await store.verify_audit()).intact
    gone = await store.verify_audit(anchor=anchor)
    assert gone.broken_id == ids[2] and gone.problem is not None and "gone" in gone.problem


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite's raw text
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
