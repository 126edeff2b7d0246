"""The store's side of retention: find what is past its period, empty it, give space back.

The rules of *what* may go live in ``integrator.lifecycle``; the store adds one guarantee of its
own: every pruning statement re-checks, in the same statement that writes, that the message is
still final and has no resend in delivery. A message resent or released between the look-up
and the write is then left alone, whoever is quicker.

Pruning empties payloads and keeps rows: a message keeps its metadata, attempts (without the
ACK bytes), resend links and audit entries; ``pruned_at`` says when its content went. Its
errors lose the receiver's own words in the same step (``ack_reason.short_reason``: a negative
ACK's MSA-3 / ERR text may name the patient), and keep the engine's own. Rejected input is
deleted outright: its raw bytes are all it is. The audit trail has its own period and
its own way of going, which keeps its hash chain verifiable: ``integrator.store.audit_prune``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.ack_reason import short_reason
from integrator.store.codec import attempt_identity, open_last_error, seal_last_error
from integrator.store.failures import guarded
from integrator.store.old_pages import without_old_pages
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import attempts, events, jobs, leases, messages, rejected_events

FINAL_STATUSES = ("delivered", "cancelled", "dead")
"""Statuses whose payload may ever be pruned: nothing more will be sent from these."""

IN_DELIVERY = ("queued", "sending", "retrying", "held")

PRUNED_EVENT_PAYLOAD = "{}"
PRUNED_MESSAGE_PAYLOAD = b""
"""What a pruned event's and message's payload become: written plain, also in a store with
data keys, and left so by ``keys rotate`` (why: ``integrator.store.rotation.SealedColumn``)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A message past a cutoff, in ``seq`` order (the key a batch continues after)."""

    id: str
    seq: int
    status: str


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer

    @property
    def backend(self) -> str: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def _no_resend_in_delivery() -> ColumnElement[bool]:
    """No later message of its resend family is in delivery: not its own resends only, but a
    resend of one of them too (A, resent as R1, that one resent as R2). Asked of direct
    resends alone, A was pruned while R2 was still queued, though the chain is read from its
    first message (``deadletter.family``). A sibling's resend in delivery keeps it too: one
    indexed look-up (``family_root``, ``status``, ``seq``), and a message kept a little longer."""
    later = messages.alias("later")
    return ~(
        select(later.c.id)
        .where(
            later.c.family_root == func.coalesce(messages.c.family_root, messages.c.id),
            later.c.status.in_(IN_DELIVERY),
            later.c.seq > messages.c.seq,
        )
        .exists()
    )


def _event_fully_pruned() -> ColumnElement[bool]:
    """The event has messages, and every one of them is pruned.

    An event without messages waits for a destination (``events route``) and needs its payload
    until its own period ends (``unrouted_before``, ``prune_unrouted``).
    """
    return and_(
        select(messages.c.id).where(messages.c.event_id == events.c.id).exists(),
        ~select(messages.c.id)
        .where(messages.c.event_id == events.c.id, messages.c.pruned_at.is_(None))
        .exists(),
    )


async def _empty_events(
    store: _StoreParts,
    event_ids: Sequence[str],
    now: datetime,
    *terms: ColumnElement[bool],
    **values: Any,
) -> int:
    """Empty the payload of those of ``event_ids`` not pruned yet that meet ``terms``, in one
    transaction, setting ``values`` too; how many were."""
    if not event_ids:
        return 0
    async with store._transaction() as conn:
        result = await conn.execute(
            update(events)
            .where(events.c.id.in_(list(event_ids)), events.c.pruned_at.is_(None), *terms)
            .values(payload=PRUNED_EVENT_PAYLOAD, pruned_at=now, **values)
        )
        return int(result.rowcount)


_WRITE_LAST_ERROR = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(last_error=bindparam("b_error"))
)
_WRITE_ATTEMPT_ERROR = (
    update(attempts).where(attempts.c.id == bindparam("b_id")).values(error=bindparam("b_error"))
)


async def _withhold_receiver_text(
    conn: AsyncConnection, sealer: Sealer, ids: Sequence[str], now: datetime
) -> None:
    """Cut the receiver's words from the errors of the messages just pruned (``pruned_at ==
    now``): their ``last_error`` and each attempt's ``error`` become ``short_reason``'s form,
    ``ACK AR (receiver's text withheld)``, keeping why the engine gave up.

    The payload goes, so the receiver's text about it goes too: it may name the patient, and
    the record is kept for years. ``short_reason`` is the rule every listing already shows, so
    an error of the engine's own (a timeout, a refused connection, a malformed answer, a
    destination removed) is left whole, and a pruned message reads the same everywhere.

    Not one UPDATE with the payload's: the values may be sealed, and the rule is Python's, so
    each is opened, cut and sealed again here (with the current key, as the codec writes),
    inside the pruning's transaction. The messages are locked by that transaction's UPDATE;
    their attempts are locked as they are read (PostgreSQL; SQLite has one writer), so a key
    rotation meanwhile cannot put an old value back. A value already cut is left as it is.
    """
    pruned = and_(messages.c.id.in_(list(ids)), messages.c.pruned_at == now)
    rows = await conn.execute(
        select(messages.c.id, messages.c.last_error).where(
            pruned, messages.c.last_error.is_not(None)
        )
    )
    message_changes: list[dict[str, Any]] = []
    for row in rows:
        opened = open_last_error(row.last_error, row.id, sealer)
        short = short_reason(opened)
        if short != opened:
            message_changes.append(
                {"b_id": row.id, "b_error": seal_last_error(short, row.id, sealer)}
            )
    rows = await conn.execute(
        select(attempts.c.id, attempts.c.message_id, attempts.c.number, attempts.c.error)
        .where(
            attempts.c.message_id.in_(select(messages.c.id).where(pruned)),
            attempts.c.error.is_not(None),
        )
        .with_for_update()
    )
    attempt_changes: list[dict[str, Any]] = []
    for row in rows:
        associated = aad("attempts", "error", attempt_identity(row.message_id, row.number))
        opened = sealer.open_text(row.error, associated)
        short = short_reason(opened)
        if short is not None and short != opened:
            attempt_changes.append({"b_id": row.id, "b_error": sealer.seal_text(short, associated)})
    if message_changes:
        await conn.execute(_WRITE_LAST_ERROR, message_changes)
    if attempt_changes:
        await conn.execute(_WRITE_ATTEMPT_ERROR, attempt_changes)


class RetentionMixin:
    @guarded("find messages past retention")
    async def retention_candidates(
        self: _StoreParts,
        statuses: Sequence[str],
        *,
        before: datetime,
        after_seq: int,
        limit: int,
    ) -> list[Candidate]:
        """Unpruned messages in ``statuses`` last changed before ``before``, with no resend in
        delivery, oldest ``seq`` first after ``after_seq``."""
        wanted = [s for s in statuses if s in FINAL_STATUSES]
        query = (
            select(messages.c.id, messages.c.seq, messages.c.status)
            .where(
                messages.c.status.in_(wanted),
                messages.c.pruned_at.is_(None),
                messages.c.updated_at < before,
                messages.c.seq > after_seq,
                _no_resend_in_delivery(),
            )
            .order_by(messages.c.seq)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [Candidate(row.id, row.seq, row.status) for row in result]

    @guarded("read message times")
    async def updated_times(self: _StoreParts, message_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these messages last changed (a delivered one: when it was delivered)."""
        found: dict[str, datetime] = {}
        ids = list(dict.fromkeys(message_ids))
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                result = await conn.execute(
                    select(messages.c.id, messages.c.updated_at).where(
                        messages.c.id.in_(ids[start : start + 500])
                    )
                )
                found.update({row.id: row.updated_at for row in result})
        return found

    @guarded("prune message payloads")
    async def prune_messages(self: _StoreParts, message_ids: Sequence[str], now: datetime) -> int:
        """Empty these messages' payloads and their attempts' ACK bytes, and cut the receiver's
        words from their errors, in one transaction; returns how many messages were pruned
        (those no longer final, or with a resend in delivery by now, are left alone)."""
        if not message_ids:
            return 0
        ids = list(message_ids)
        async with self._transaction() as conn:
            result = await conn.execute(
                update(messages)
                .where(
                    messages.c.id.in_(ids),
                    messages.c.pruned_at.is_(None),
                    # ``status || ''``: the same value, but no index's. SQLite, without
                    # statistics, took ``status IN (three values)`` for the narrower look-up and
                    # walked every final message by its status index (about 1 ms a message on a
                    # store of a million, holding the one write lock 0.45 s a batch of 500),
                    # where the ids find the batch by the primary key.
                    messages.c.status.concat("").in_(FINAL_STATUSES),
                    _no_resend_in_delivery(),
                )
                .values(payload=PRUNED_MESSAGE_PAYLOAD, pruned_at=now)
            )
            await conn.execute(
                update(attempts)
                .where(
                    attempts.c.message_id.in_(
                        select(messages.c.id).where(
                            messages.c.id.in_(ids), messages.c.pruned_at == now
                        )
                    ),
                    attempts.c.ack_bytes.is_not(None),
                )
                .values(ack_bytes=None)
            )
            await _withhold_receiver_text(conn, self._sealer, ids, now)
            return int(result.rowcount)

    @guarded("find events past retention")
    async def events_before(
        self: _StoreParts, *, before: datetime, after_id: str, limit: int
    ) -> dict[str, list[tuple[str, bool]]]:
        """Unpruned events received before ``before`` that have messages, by id after
        ``after_id``: each with its messages' ids and whether each is pruned."""
        page = (
            select(events.c.id)
            .where(
                events.c.pruned_at.is_(None),
                events.c.received_at < before,
                events.c.id > after_id,
                select(messages.c.id).where(messages.c.event_id == events.c.id).exists(),
            )
            .order_by(events.c.id)
            .limit(limit)
        )
        found: dict[str, list[tuple[str, bool]]] = {}
        async with self._engine.connect() as conn:
            ids = list((await conn.execute(page)).scalars())
            for event_id in ids:
                found[event_id] = []
            if ids:
                result = await conn.execute(
                    select(messages.c.event_id, messages.c.id, messages.c.pruned_at).where(
                        messages.c.event_id.in_(ids)
                    )
                )
                for row in result:
                    found[row.event_id].append((row.id, row.pruned_at is not None))
        return dict(sorted(found.items()))

    @guarded("count data past retention")
    async def count_past_retention(
        self: _StoreParts,
        *,
        payload_before: datetime | None,
        dead_before: datetime | None,
        rejected_before: datetime | None,
        unrouted_before: datetime | None = None,
    ) -> int:
        """How many rows a prune's walk visits (for its progress bar), not what it prunes.

        Each count has the terms of the look-up the walk makes (``retention_candidates``,
        ``events_before``, ``old_jobs``, ``old_rejected``), so a completed prune's bar ends at
        its total: a message with a resend in delivery is not visited, nor is an event without
        messages unless ``unrouted_before`` is given (their own period). Those it visits and
        keeps (an event with a message not pruned, a dead letter still open) count."""
        total = 0
        async with self._engine.connect() as conn:
            if payload_before is not None:
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(messages)
                        .where(
                            messages.c.status == "delivered",
                            messages.c.pruned_at.is_(None),
                            messages.c.updated_at < payload_before,
                            _no_resend_in_delivery(),
                        )
                    )
                ).scalar_one()
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(events)
                        .where(
                            events.c.pruned_at.is_(None),
                            events.c.received_at < payload_before,
                            select(messages.c.id)
                            .where(messages.c.event_id == events.c.id)
                            .exists(),
                        )
                    )
                ).scalar_one()
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(jobs)
                        .where(jobs.c.state != "running", jobs.c.finished_at < payload_before)
                    )
                ).scalar_one()
            if dead_before is not None:
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(messages)
                        .where(
                            messages.c.status.in_(("dead", "cancelled")),
                            messages.c.pruned_at.is_(None),
                            messages.c.updated_at < dead_before,
                            _no_resend_in_delivery(),
                        )
                    )
                ).scalar_one()
            if rejected_before is not None:
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(rejected_events)
                        .where(rejected_events.c.received_at < rejected_before)
                    )
                ).scalar_one()
            if unrouted_before is not None:
                total += (
                    await conn.execute(
                        select(func.count())
                        .select_from(events)
                        .where(
                            events.c.unrouted,
                            events.c.pruned_at.is_(None),
                            events.c.received_at < unrouted_before,
                        )
                    )
                ).scalar_one()
        return int(total)

    @guarded("prune event payloads")
    async def prune_events(self: _StoreParts, event_ids: Sequence[str], now: datetime) -> int:
        return await _empty_events(self, event_ids, now, _event_fully_pruned())

    @guarded("find unrouted events past retention")
    async def unrouted_before(
        self: _StoreParts, *, before: datetime, after_id: str, limit: int
    ) -> list[str]:
        """Events still waiting to be routed (no destination served them) received before
        ``before``, by id after ``after_id``: read through the unrouted events' own index."""
        page = (
            select(events.c.id)
            .where(
                events.c.unrouted,
                events.c.pruned_at.is_(None),
                events.c.received_at < before,
                events.c.id > after_id,
            )
            .order_by(events.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(page)).scalars())

    @guarded("prune unrouted events")
    async def prune_unrouted(self: _StoreParts, event_ids: Sequence[str], now: datetime) -> int:
        """Empty the JSON of these events if they still have no message (one routed meanwhile
        keeps it), and take them off the unrouted list: with nothing left to map, they wait for
        nothing (``events route`` would have nothing to send). Their row stays, as a pruned
        event's does: type, ZD number, provider, arrival, BSN search hash; and so does their
        mark (0039), which with ``pruned_at`` lists them as never routed
        (``EventFilter.never_routed``): the referrals only upstream can send again."""
        no_message = ~select(messages.c.id).where(messages.c.event_id == events.c.id).exists()
        return await _empty_events(self, event_ids, now, events.c.unrouted, no_message)

    @guarded("find rejected input past retention")
    async def old_rejected(
        self: _StoreParts, *, before: datetime, after_id: str, limit: int
    ) -> list[str]:
        query = (
            select(rejected_events.c.id)
            .where(rejected_events.c.received_at < before, rejected_events.c.id > after_id)
            .order_by(rejected_events.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    @guarded("delete rejected input")
    async def delete_rejected(
        self: _StoreParts, rejected_ids: Sequence[str], *, before: datetime
    ) -> int:
        if not rejected_ids:
            return 0
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(rejected_events).where(
                    rejected_events.c.id.in_(list(rejected_ids)),
                    rejected_events.c.received_at < before,
                )
            )
            return int(result.rowcount)

    @guarded("take a lease")
    async def claim_lease(
        self: _StoreParts, name: str, *, now: datetime, every: timedelta, holder: str
    ) -> bool:
        """Take this turn of the task ``name`` unless someone ran it less than ``every`` ago.

        A compare-and-set: of several engines asking at once, exactly one sees its row count
        be 1 (PostgreSQL locks the row for the second, which then finds it moved; SQLite has
        one writer). The first turn ever inserts the row.
        """
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        async with self._transaction() as conn:
            result = await conn.execute(
                update(leases)
                .where(
                    leases.c.name == name,
                    or_(leases.c.last_run_at.is_(None), leases.c.last_run_at <= now - every),
                )
                .values(last_run_at=now, holder=holder)
            )
            if result.rowcount == 1:
                return True
            # The very first turn: no row yet. Of two engines inserting it, one gets it.
            first = await conn.execute(
                dialect_insert(leases)
                .values(name=name, last_run_at=now, holder=holder)
                .on_conflict_do_nothing(index_elements=[leases.c.name])
            )
            return bool(first.rowcount == 1)

    @guarded("read a lease")
    async def lease(self: _StoreParts, name: str) -> tuple[datetime | None, str | None]:
        """When the task ``name`` last ran, and on which engine."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(leases.c.last_run_at, leases.c.holder).where(leases.c.name == name)
                )
            ).first()
        return (None, None) if row is None else (row.last_run_at, row.holder)

    @guarded("give space back")
    async def reclaim_space(self: _StoreParts, *, full: bool = False) -> str:
        """Give the pages pruning freed back to the file system; returns what was done.

        SQLite: ``PRAGMA incremental_vacuum`` when the file was made with
        ``auto_vacuum=INCREMENTAL`` (every store made by this version); ``full`` runs ``VACUUM``,
        which also switches an older store to incremental (it rewrites the whole file and
        holds the write lock meanwhile). PostgreSQL: autovacuum does this on its own.
        """
        if self.backend != "sqlite":
            return "left to PostgreSQL's autovacuum"
        async with self._engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            mode = (await auto.exec_driver_sql("PRAGMA auto_vacuum")).scalar_one()
            if full:
                await auto.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
                await auto.exec_driver_sql("VACUUM")
                done = "vacuum"
            elif mode != 2:  # 0 NONE, 1 FULL, 2 INCREMENTAL
                done = "none: the store was made without auto_vacuum; run prune --vacuum once"
            else:
                await auto.exec_driver_sql("PRAGMA incremental_vacuum")
                done = "incremental_vacuum"
            return done

    def sqlite_file(self: _StoreParts) -> Path | None:
        """The SQLite store's file, whose size says what a prune gave back; None on
        PostgreSQL, whose disk is the server's."""
        if self.backend != "sqlite" or not self._engine.url.database:
            return None
        return Path(self._engine.url.database)

    @guarded("give space back")
    async def without_old_pages(self: _StoreParts) -> bool:
        """The pruned values out of a SQLite store's files too (``old_pages``); False when a
        reader kept the checkpoint from finishing."""
        return await without_old_pages(self._engine)

    @guarded("count pruned rows")
    async def count_pruned(self: _StoreParts) -> dict[str, int]:
        """How many messages and events have had their payload pruned (for reports, tests)."""
        async with self._engine.connect() as conn:
            pruned_messages = (
                await conn.execute(
                    select(func.count())
                    .select_from(messages)
                    .where(messages.c.pruned_at.is_not(None))
                )
            ).scalar_one()
            pruned_events = (
                await conn.execute(
                    select(func.count()).select_from(events).where(events.c.pruned_at.is_not(None))
                )
            ).scalar_one()
        return {"messages": int(pruned_messages), "events": int(pruned_events)}
