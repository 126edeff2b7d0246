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

Each of those transactions also appends an entry (:data:`BATCH_ACTION`, ``data.prune_audit``)
that records the anchor it moved to in its details (:data:`ANCHOR_DETAIL`): the move and the
entry saying so commit together or not at all, so there is no moment, crash or signal at which
the anchor moved without the chain recording it. ``verify`` then holds the anchor to the newest
anchor the chain kept on record (``anchor_problem``): an anchor written, moved back or forward,
or removed by hand is not the one recorded, and recording another would mean forging an entry
of the chain. The entry is appended before the newest kept entry is ever deleted (the newest is
never deleted), so it chains like any append and the chain's rules are unchanged.

Entries written before this rule, by a version whose prune recorded the anchor only in the
run's own ``data.prune`` entry, are recorded the same way (``recorded_anchor`` reads both).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.audit_chain import GENESIS, append_audit, lock_key
from integrator.store.codec import dump_json
from integrator.store.failures import guarded
from integrator.store.keycheck import register_again
from integrator.store.records import AuditAnchor
from integrator.store.tables import audit_anchor, audit_log

ANCHOR_DETAIL = "audit_anchor"
"""The key of a prune entry's details that records the anchor (``AuditAnchor.to_json``)."""

RUN_ACTION = "data.prune"
"""A prune run's own entry: its counts per kind; ``"stopped": true`` when a signal stopped it."""

BATCH_ACTION = "data.prune_audit"
"""The entry written in the transaction of each batch of audit entries pruned: how many, and the
anchor they left."""

AUDIT_DAYS_SETTING = "INTEGRATOR_RETAIN_AUDIT_DAYS"

_ANCHOR_ROW = 1


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def backend(self) -> str: ...

    @property
    def schema(self) -> str | None: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def _now(self) -> datetime: ...


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

    @guarded("find the newest audit entry")
    async def newest_audit_id(self: _StoreParts) -> int | None:
        """The id of the newest audit entry; None when there is none."""
        async with self._engine.connect() as conn:
            newest: int | None = (await conn.execute(select(func.max(audit_log.c.id)))).scalar()
        return newest

    @guarded("find audit entries past retention")
    async def old_audit(
        self: _StoreParts,
        *,
        before: datetime,
        after_id: int,
        limit: int,
        newest: int | None = None,
    ) -> list[int]:
        """Ids of the oldest audit entries after ``after_id`` written before ``before``, oldest
        first: the run of such entries from there, never past a newer one nor the newest.

        ``newest``: the newest as a prune found it when it began. Each batch it prunes appends
        its own ``data.prune_audit`` entry, and the entry that was the newest then counted as
        prunable in the next batch: the run pruned one more than its dry run said, and how
        many depended on ``--batch``."""
        async with self._engine.connect() as conn:
            if newest is None:
                newest = (await conn.execute(select(func.max(audit_log.c.id)))).scalar()
            rows = await conn.execute(
                select(audit_log.c.id, audit_log.c.at)
                .where(audit_log.c.id > after_id)
                .order_by(audit_log.c.id)
                .limit(limit)
            )
            found: list[int] = []
            for row in rows:
                if row.at >= before or (newest is not None and row.id >= newest):
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
    async def prune_audit(
        self: _StoreParts, entry_ids: Sequence[int], now: datetime, *, actor: str
    ) -> int:
        """Delete these entries (the oldest, as ``old_audit`` found them), move the anchor to
        the newest of them and append the ``data.prune_audit`` entry recording it (by
        ``actor``), in ONE transaction; returns how many were deleted."""
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
            # The anchor as it now is (another prune may have moved it further), recorded by
            # the chain in this same transaction: see the module.
            moved = await read_anchor(conn)
            assert moved is not None  # written just above, in this transaction
            entry = {
                "at": self._now(),
                "actor": actor,
                "action": BATCH_ACTION,
                "target": "audit_log",
                "reason": "retention",
                "details": dump_json({"deleted": len(deleted), ANCHOR_DETAIL: moved.to_json()}),
            }
            await append_audit(conn, [entry], schema=self.schema)
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


def noted_entry_problem(
    noted: tuple[int, str],
    anchor: AuditAnchor,
    anchor_broken: str | None = None,
    zone: tzinfo = UTC,
) -> str | None:
    """Why an entry noted earlier (id, hash) and since pruned fails ``verify --expect``, if it
    does: the anchor keeps the hash of the newest entry pruned only. ``anchor_broken``: why the
    anchor itself fails its checks (``anchor_problem``), if it does; then the noted entry was
    not pruned but removed, and that is what is said. ``zone``: the one the reader's dates are
    in (``INTEGRATOR_TIMEZONE``): a prune at 00:30 in Amsterdam happened "on" that day, not on
    the UTC day before."""
    if noted[0] < anchor.seq:
        if anchor_broken is not None:
            return (
                f"the entry noted earlier is gone, and the anchor (up to {anchor.seq}) that "
                f"would say it was pruned fails its checks ({anchor_broken}): the entries were "
                "removed and the anchor written to hide it, not pruned by retention"
            )
        return (
            f"the entry noted earlier was pruned (entries up to {anchor.seq}, on "
            f"{_aware(anchor.pruned_at).astimezone(zone).date().isoformat()}): it cannot be "
            "checked; note a newer one"
        )
    if noted[0] == anchor.seq and noted[1] != anchor.hash:
        return (
            "its hash (kept as the last pruned entry's) is not the one noted earlier: "
            "the chain was recomputed from this entry or before"
        )
    return None


def recorded_anchor(details: str) -> dict[str, Any] | None:
    """The anchor a prune entry's details recorded (``AuditAnchor.to_json``: seq, hash,
    pruned_at); None if it holds none."""
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
    return value


def run_ended(action: str, details: str) -> bool | None:
    """For a prune run's own entry: True when the run went to its end, False when a signal
    stopped it (``"stopped": true``); None for any other entry."""
    if action != RUN_ACTION:
        return None
    if '"stopped"' not in details:
        return True
    try:
        return json.loads(details).get("stopped") is not True
    except (ValueError, AttributeError):
        return True


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _same_time(recorded: object, actual: datetime) -> bool:
    if recorded is None:  # recorded by a version that did not say when
        return True
    if not isinstance(recorded, str):
        return False
    try:
        return _aware(datetime.fromisoformat(recorded)) == _aware(actual)
    except ValueError:
        return False


def anchor_problem(anchor: AuditAnchor | None, recorded: dict[str, Any] | None) -> str | None:
    """Why the anchor disagrees with the newest one the chain recorded, if it does.

    Once an anchor exists it must be exactly the newest one recorded (seq, hash and time): the
    batch that moved it recorded it in the same transaction, so an anchor no kept entry
    records, or another one, was written by hand.
    """
    if anchor is None:
        if recorded is None:
            return None
        return f"the chain recorded pruned entries up to {recorded['seq']} but the anchor is gone"
    if recorded is None:
        return (
            f"no entry kept records the anchor (pruned entries up to {anchor.seq}), yet each "
            "prune records the anchor it leaves in the same transaction: the anchor was "
            "written by hand and the entries up to it removed"
        )
    if (
        anchor.seq != recorded["seq"]
        or anchor.hash != recorded["hash"]
        or not _same_time(recorded.get("pruned_at"), anchor.pruned_at)
    ):
        return (
            f"the anchor (up to {anchor.seq}) is not the one the chain recorded (up to "
            f"{recorded['seq']}): the anchor was changed"
        )
    return None


def retention_problem(
    anchor: AuditAnchor, kept: Sequence[tuple[int, datetime]], audit_days: int
) -> str | None:
    """Why the anchor's time does not fit the audit retention, if it does not.

    A prune on ``pruned_at`` deletes entries stamped before ``pruned_at - audit_days`` only,
    oldest first, up to the first younger one. So if the first two entries kept (``kept``, id
    and time) are both older than that, the prune that left this anchor could not have stopped
    before them: its time is not the one it claims (a clock moved forward), or retention was
    shorter then than the setting says now. The newest entry at the time of a prune is never
    deleted however old, which is why one old entry alone, followed by the batch's own entry,
    is no sign; nor is a prune stopped or still under way (the caller asks only once a run
    after the anchor's batch went to its end). ``audit_days`` 0 (for ever): nothing to say.
    """
    if audit_days <= 0 or len(kept) < 2:
        return None
    cutoff = _aware(anchor.pruned_at) - timedelta(days=audit_days)
    if any(_aware(at) >= cutoff for _, at in kept[:2]):
        return None
    first_id, first_at = kept[0]
    return (
        f"the anchor says entries up to {anchor.seq} were pruned on "
        f"{_aware(anchor.pruned_at).isoformat()}, when only entries stamped before "
        f"{cutoff.isoformat()} were past the audit retention ({AUDIT_DAYS_SETTING}="
        f"{audit_days}); yet entry {first_id}, stamped {_aware(first_at).isoformat()}, and the "
        "one after it are older than that and were kept: a prune stops only at a younger "
        "entry, so the anchor's time was changed or the prune ran with its clock moved forward "
        f"(or {AUDIT_DAYS_SETTING} was lowered since: then run integrator prune and verify again)"
    )
