"""Pruning the audit trail without breaking its hash chain: the anchor.

Only a prefix of the chain is ever deleted: the oldest entries, in id order, up to the first
one that is not past the cutoff (an entry stamped a moment earlier than the one before it waits
for the next prune rather than leave a gap). The newest entry is never deleted: the next append
chains to it, and on SQLite a deleted highest id would be handed out again.

Each batch is deleted in one transaction that also moves the anchor (``audit_anchor``: the id
and hash of the newest entry deleted, and when) forward, so the first entry kept always links
to it and ``Store.verify_audit`` starts there. On PostgreSQL that transaction takes the same
advisory lock as an append (``audit_chain.lock_key``), so prunes and appends take turns.

Data keys are registered in the audit trail (``keycheck``): a key whose registration is pruned
and that is not retired is registered again in the same transaction, so the store keeps
refusing a missing or wrong key for it.

The prune's own audit entry repeats the anchor in its details (:data:`ANCHOR_DETAIL`), so the
chain going forward covers it: ``verify`` checks that the anchor is not older than the newest
one the chain recorded, and matches it when it is the same entry. An anchor newer than the one
recorded is a prune stopped between its batches and its entry, and is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.audit_chain import GENESIS, lock_key
from integrator.store.failures import guarded
from integrator.store.keycheck import register_again
from integrator.store.records import AuditAnchor
from integrator.store.tables import audit_anchor, audit_log

ANCHOR_DETAIL = "audit_anchor"
"""The key of a prune entry's details that records the anchor (``AuditAnchor.to_json``)."""

_ANCHOR_ROW = 1


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def backend(self) -> str: ...

    @property
    def schema(self) -> str | None: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


async def read_anchor(conn: AsyncConnection) -> AuditAnchor | None:
    row = (
        await conn.execute(
            select(audit_anchor.c.seq, audit_anchor.c.hash, audit_anchor.c.pruned_at)
        )
    ).first()
    return None if row is None else AuditAnchor(row.seq, row.hash, row.pruned_at)


class AuditPruneMixin:
    @guarded("read the audit anchor")
    async def audit_anchor(self: _StoreParts) -> AuditAnchor | None:
        """Where the chain starts after pruning; None when no entry was ever pruned."""
        async with self._engine.connect() as conn:
            return await read_anchor(conn)

    @guarded("find audit entries past retention")
    async def old_audit(
        self: _StoreParts, *, before: datetime, after_id: int, limit: int
    ) -> list[int]:
        """Ids of the oldest audit entries after ``after_id`` written before ``before``, oldest
        first: the run of such entries from there, never past a newer one nor the newest."""
        async with self._engine.connect() as conn:
            newest = (await conn.execute(select(func.max(audit_log.c.id)))).scalar()
            rows = await conn.execute(
                select(audit_log.c.id, audit_log.c.at)
                .where(audit_log.c.id > after_id)
                .order_by(audit_log.c.id)
                .limit(limit)
            )
            found: list[int] = []
            for row in rows:
                if row.at >= before or row.id == newest:
                    break
                found.append(row.id)
        return found

    @guarded("count audit entries past retention")
    async def count_old_audit(self: _StoreParts, *, before: datetime) -> int:
        """Roughly how many entries a prune looks at (for its progress bar)."""
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.at < before)
            )
            return int(result.scalar_one())

    @guarded("prune the audit trail")
    async def prune_audit(self: _StoreParts, entry_ids: Sequence[int], now: datetime) -> int:
        """Delete these entries (the oldest, as ``old_audit`` found them) and move the anchor to
        the newest of them, in ONE transaction; returns how many were deleted."""
        if not entry_ids:
            return 0
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        async with self._transaction() as conn:
            if self.backend == "postgresql":
                # As an append takes it: neither sees the other half done.
                await conn.execute(select(func.pg_advisory_xact_lock(lock_key(self.schema))))
            deleted = sorted(
                (
                    await conn.execute(
                        delete(audit_log)
                        .where(audit_log.c.id.in_(list(entry_ids)))
                        .returning(
                            audit_log.c.id,
                            audit_log.c.hash,
                            audit_log.c.action,
                            audit_log.c.target,
                            audit_log.c.details,
                        )
                    )
                ).all(),
                key=lambda row: int(row.id),
            )
            if not deleted:  # another prune was quicker
                return 0
            seq, digest = deleted[-1].id, deleted[-1].hash
            insert = dialect_insert(audit_anchor).values(
                id=_ANCHOR_ROW, seq=seq, hash=digest, pruned_at=now
            )
            # Two prunes at once: the anchor only moves forward.
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[audit_anchor.c.id],
                    set_={"seq": seq, "hash": digest, "pruned_at": now},
                    where=audit_anchor.c.seq < seq,
                )
            )
            await register_again(
                conn,
                [(row.action, row.target, row.details) for row in deleted],
                now=now,
                schema=self.schema,
            )
            return len(deleted)


def first_link_problem(row: Any, anchor: AuditAnchor | None) -> str | None:
    """Why the oldest entry kept does not start the chain, if it does not."""
    if anchor is None:
        if row.prev_hash != GENESIS:
            return "it is the oldest entry but does not start the chain: older entries were removed"
        return None
    if row.id <= anchor.seq:
        return (
            f"it is the oldest entry but not after the pruned entries (up to {anchor.seq}): "
            "the anchor was changed"
        )
    if row.prev_hash != anchor.hash:
        return (
            f"it is the oldest entry but does not link to the last pruned entry ({anchor.seq}): "
            "entries after it were removed, or the anchor was changed"
        )
    return None


def noted_entry_problem(noted: tuple[int, str], anchor: AuditAnchor) -> str | None:
    """Why an entry noted earlier (id, hash) and since pruned fails ``verify --expect``, if it
    does: the anchor keeps the hash of the newest entry pruned only."""
    if noted[0] < anchor.seq:
        return (
            f"the entry noted earlier was pruned (entries up to {anchor.seq}, on "
            f"{anchor.pruned_at.date().isoformat()}): it cannot be checked; note a newer one"
        )
    if noted[0] == anchor.seq and noted[1] != anchor.hash:
        return (
            "its hash (kept as the last pruned entry's) is not the one noted earlier: "
            "the chain was recomputed from this entry or before"
        )
    return None


def recorded_anchor(details: str) -> tuple[int, str] | None:
    """The anchor a prune entry's details recorded, as (seq, hash); None if it holds none."""
    if ANCHOR_DETAIL not in details:
        return None
    try:
        value = json.loads(details).get(ANCHOR_DETAIL)
    except (ValueError, AttributeError):
        return None
    if not isinstance(value, dict):
        return None
    seq, digest = value.get("seq"), value.get("hash")
    if not isinstance(seq, int) or not isinstance(digest, str):
        return None
    return seq, digest


def anchor_problem(anchor: AuditAnchor | None, recorded: tuple[int, str] | None) -> str | None:
    """Why the anchor disagrees with the newest one the chain recorded, if it does."""
    if recorded is None:
        return None
    if anchor is None:
        return f"the chain recorded pruned entries up to {recorded[0]} but the anchor is gone"
    if anchor.seq < recorded[0] or (anchor.seq == recorded[0] and anchor.hash != recorded[1]):
        return (
            f"the anchor (up to {anchor.seq}) is not the one the chain recorded (up to "
            f"{recorded[0]}): the anchor was changed"
        )
    return None
