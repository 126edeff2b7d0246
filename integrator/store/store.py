"""The system of record: events, rejected input, outbound messages, attempts and the audit log.

Every write is one transaction, so a crash leaves either all of a change or none of it. The hot
paths (accepting events, recording attempts) have batch forms that share one transaction, because
the cost per transaction (driver round trips, the commit) dwarfs the cost per row: on SQLite
about 400 single accepts per second against about 5,000 events per second in batches of 100.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from datetime import UTC, datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    Column,
    ColumnElement,
    Text,
    Update,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import visitors

from integrator import history_actions
from integrator.counting import counted
from integrator.logging import get_logger
from integrator.resend_skips import destination_not_configured
from integrator.store import engine as sqlite_engine
from integrator.store.audit_chain import (
    GENESIS,
    append_audit,
    audit_row,
    entry_hash,
    lock_key,
)
from integrator.store.audit_counts import ActorCounts, counts_statement, read_counts
from integrator.store.audit_prune import (
    AuditPruneMixin,
    anchor_problem,
    first_link_problem,
    noted_entry_problem,
    read_anchor,
    recorded_anchor,
    retention_problem,
    run_ended,
)
from integrator.store.codec import (
    attempt_record,
    attempt_row,
    audit_record,
    dump_json,
    event_record,
    event_row,
    load_json,
    message_records,
    reason_text,
    rejected_raw,
    rejected_record,
    resend_record,
    seal_last_error,
    select_messages,
    select_resends,
)
from integrator.store.confirmations import ConfirmationsMixin
from integrator.store.console_answers import ConsoleAnswersMixin
from integrator.store.console_searches import ConsoleSearchesMixin
from integrator.store.destination_history import DestinationHistoryMixin
from integrator.store.early_retries import EarlyRetriesMixin
from integrator.store.engine import create_engine
from integrator.store.errors import (
    EnginesStillRunning,
    StatusChanged,
    StoreError,
    StoreUnavailable,
    UnknownEvent,
    UnknownMessage,
)
from integrator.store.failures import guarded, waiting_helps
from integrator.store.families import family_roots, no_later_member_delivered
from integrator.store.gauges import GaugesMixin
from integrator.store.idempotency import IdempotencyMixin
from integrator.store.jobs import JobsMixin
from integrator.store.last_attempts import LastAttemptsMixin, wanted_destinations
from integrator.store.late_answers import LateAnswersMixin
from integrator.store.late_records import GUARDED_COLUMNS, still_open
from integrator.store.oldest_waiting import OldestWaitingMixin
from integrator.store.pauses import DestinationPausesMixin
from integrator.store.people import PeopleMixin
from integrator.store.presence import (
    FRESH_FOR,
    PRESENCE_SINCE,
    PresenceMixin,
    engines_running_at,
)
from integrator.store.records import (
    PENDING_STATUSES,
    ROUTE_ACTION,
    AttemptOutcome,
    AttemptRecord,
    AuditCheck,
    AuditFilter,
    AuditRecord,
    EventFilter,
    EventRecord,
    EventSource,
    ListedEvent,
    MessageFilter,
    MessageRecord,
    MessageStatus,
    NewMessage,
    NewResend,
    NewRouting,
    PendingRef,
    RejectedEventRecord,
    RejectedFilter,
    RejectedKeys,
    RejectedSummary,
    ResendLink,
    ResendRecord,
    ZdEvent,
    utc_now,
)
from integrator.store.retention import RetentionMixin
from integrator.store.rotation import SealingMixin
from integrator.store.saved_searches import SavedSearchesMixin
from integrator.store.schema_version import HEAD_REVISION, require_store, stored_revision
from integrator.store.sealing import HEAD_BYTES, Sealer, aad, opened_size
from integrator.store.sqlite_hot_writes import SqliteHotWrites
from integrator.store.sqlite_leftovers import PoolConnections
from integrator.store.status_counts import StatusCountsMixin
from integrator.store.status_writes import set_each
from integrator.store.tables import (
    attempts,
    audit_log,
    destination_revisions,
    events,
    messages,
    rejected_events,
    resends,
)
from integrator.store.url import Backend, Target, exposed_store_file, resolve
from integrator.store.write_health import WriteHealth
from integrator.store.write_turn import WriteTurn
from integrator.store.zd_history import HistoryJudge, history_of, judged_batch

if TYPE_CHECKING:
    from integrator.store.pg_hot_writes import PostgresHotWrites

Clock = Callable[[], datetime]
_log = get_logger("integrator.store")

ANY_MESSAGE = MessageFilter()
RESEND_ACTION = "message.resend"
AttemptUpdate = tuple[AttemptRecord, str, datetime | None, str | None]
ResendRecheck = Callable[[Sequence[ResendLink]], Mapping[str, Any]]
"""``add_resends``' check at its commit: the originals' resend families (the originals' own
links among them, with their statuses now) → originals left out, each with why."""
ResendGuard = Callable[[Sequence[ResendRecord]], Any | None]
"""``add_resends``' check of one original at its commit: its resends as they are now (oldest
first, as ``list_resends`` lists them) → why it is not to be resent after all, or None."""


@dataclasses.dataclass(frozen=True, slots=True)
class AuditedStatus:
    """One message of ``Store.set_statuses_audited``: the ``last_error`` it keeps and the
    ``details`` of its own audit entry (whose target is the message)."""

    message_id: str
    last_error: str | None
    details: Mapping[str, Any]


"""One entry of ``record_attempts``: the attempt, the message's new status, next try, error."""

_NEXT_SEQ = select(func.coalesce(func.max(messages.c.seq), 0) + 1).scalar_subquery()

# Duplicates are skipped by the database, which also settles two concurrent accepts of one
# event id: PostgreSQL makes the second wait for the first, SQLite has one writer. Built once
# per backend, not per store: the SQLite hot writes compile them once per process.
_INSERT_NEW_EVENT = {
    "postgresql": postgresql.insert(events).on_conflict_do_nothing(index_elements=[events.c.id]),
    "sqlite": sqlite.insert(events).on_conflict_do_nothing(index_elements=[events.c.id]),
}
# PostgreSQL's identity column numbers messages. SQLite has no sequence for a non-key column,
# so each row takes max(seq) + 1: executemany runs the statement once per row, and the
# transaction holds the write lock, so numbers are unique and in order.
_INSERT_MESSAGES = {
    "postgresql": insert(messages),
    "sqlite": insert(messages).values(seq=_NEXT_SEQ),
}

_IDS_PER_QUERY = 500
"""Ids in one ``IN (…)``: a batch names up to 100,000, more than a statement may bind."""

# Built once: a statement made per call costs its construction and cache key every time.
_INSERT_ATTEMPT = insert(attempts)

# One UPDATE for executemany; bind names differ from column names as SQLAlchemy requires.
# A message a person closed meanwhile keeps its status and error (``late_records``).
_STILL_OPEN = text(still_open("messages.status", ":b_status")).bindparams(bindparam("b_status"))
_UPDATE_AFTER_ATTEMPT = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        attempt_count=bindparam("b_attempt_count"),
        updated_at=bindparam("b_updated_at"),
        **{
            column: case(
                (_STILL_OPEN, bindparam(f"b_{column}", type_=messages.c[column].type)),
                else_=messages.c[column],
            )
            for column in GUARDED_COLUMNS
        },
    )
)
# The hot path's on SQLite: a message whose attempt's number is taken (another engine recorded
# an attempt of it under that number) is not updated, which tells the write to number the
# batch again (``attempt_numbers``).
_UPDATE_IF_NUMBER_FREE = _UPDATE_AFTER_ATTEMPT.where(
    messages.c.attempt_count < bindparam("b_attempt_count")
)


class Store(
    DestinationHistoryMixin,
    DestinationPausesMixin,
    EarlyRetriesMixin,
    PeopleMixin,
    SealingMixin,
    GaugesMixin,
    RetentionMixin,
    AuditPruneMixin,
    JobsMixin,
    SavedSearchesMixin,
    PresenceMixin,
    ConfirmationsMixin,
    ConsoleSearchesMixin,
    ConsoleAnswersMixin,
    IdempotencyMixin,
    OldestWaitingMixin,
    LastAttemptsMixin,
    StatusCountsMixin,
    LateAnswersMixin,
):
    """Async access to the store; open with :meth:`open`, share one instance per process."""

    def __init__(
        self,
        engine: AsyncEngine,
        target: Target,
        clock: Clock,
        sealer: Sealer | None = None,
        *,
        connections: PoolConnections | None = None,
    ) -> None:
        """``connections``: the SQLite pool's connections, as ``create_engine`` registered
        them, for ``close`` to end what work given up on left on them."""
        self._engine = engine
        self._connections = connections
        self._target = target
        self._clock = clock
        self.made_now = False
        """Whether ``open`` made this store, in an empty database: then nothing in it is past
        any retention, and the engine's first daily prune has nothing to look for
        (``lifecycle.daily``)."""
        # Seals and opens the columns that may hold patient data (codec); no keys: plain.
        self._sealer = sealer or Sealer()
        # Whether writes work now, for readiness (``integrator.scrape``): no write per probe.
        self._writes = WriteHealth(target.url)
        # SQLite has one writer per file. Writers of this process take turns here, in order,
        # instead of meeting at SQLite's lock, whose busy handler sleeps in steps of up to
        # 100 ms; the hot writes share theirs (``write_turn``).
        self._write_turn: WriteTurn | None = WriteTurn() if target.backend == "sqlite" else None
        self._insert_new_event = _INSERT_NEW_EVENT[target.backend]
        self._insert_messages = _INSERT_MESSAGES[target.backend]
        # The hot write paths (accepting events, recording attempts): on SQLite run whole on a
        # writer thread, one hand-over each; on PostgreSQL one round trip each. Each backend has
        # its own, so every store has one. tests/store/test_hot_writes.py holds the plain
        # SQLAlchemy form of both as the reference they must store the same rows as.
        self._hot: SqliteHotWrites | PostgresHotWrites = (
            SqliteHotWrites(
                engine,
                insert_event=self._insert_new_event,
                insert_messages=self._insert_messages,
                update_after_attempt=_UPDATE_IF_NUMBER_FREE,
                insert_attempt=_INSERT_ATTEMPT,
            )
            if target.backend == "sqlite"
            else _postgres_hot_writes(engine)
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = utc_now,
        schema: str | None = None,
        sealer: Sealer | None = None,
        search_check: str | None = None,
        hash_bsn: Callable[[str], str] | None = None,
        search_key_weakness: str | None = None,
        judge_engines_keys: bool = False,
    ) -> Store:
        """Connect, migrate to the newest schema and check the data keys and the search key.

        ``schema`` (PostgreSQL only) puts the store in that schema, creating it if needed; it
        lets several stores share one database, e.g. one per test. ``sealer``: the data keys
        (``Settings.sealer``); keys that do not fit the store raise ``DataKeyError`` here, and
        a new current key is registered (``integrator.store.keycheck``). ``search_check``: the
        search key's check value (``Settings.search_check``); another key's than the store's
        raises ``SearchKeyMismatch``, and a store without one gets it registered
        (``integrator.store.searchcheck``); None: not checked. ``hash_bsn``: that key's BSN
        hash, tried on a store from before it kept a check (``searchcheck.made_with``);
        ``search_key_weakness``: why that key could be guessed (``WeakSearchKey`` for a new
        store). ``judge_engines_keys``: refuse (``DataKeyError``) when a running engine lacks
        the key this process seals with (a command's; an engine restarted during a roll is
        the operator's step, docs/operators.md).
        """
        target = resolve(url, schema)
        connections = PoolConnections() if target.backend == "sqlite" else None
        engine = create_engine(target, connections=connections)
        store = cls(engine, target, clock, sealer, connections=connections)
        try:
            store.made_now = await _migrate_when_free(engine, schema)
            await store._check_writable()
            await store._check_data_keys(register=True, judge_engines=judge_engines_keys)
            if search_check is not None:
                await store._check_search_key(
                    search_check,
                    register=True,
                    hash_bsn=hash_bsn,
                    weakness=search_key_weakness,
                )
        except StoreUnavailable as exc:
            await engine.dispose()
            if exc.cause is not None:
                raise  # it says what is wrong and where already (``failures.cause``)
            # Which database did not answer, and where that is set: a refused connection
            # names neither (the password is masked, the query left out: ``Target.display``).
            raise StoreUnavailable(
                f"{exc}: no answer from the store at {target.display} (INTEGRATOR_DATABASE_URL)"
            ) from None
        except BaseException:
            await engine.dispose()
            raise
        return store

    @guarded("open the store")
    async def _check_writable(self) -> None:
        """SQLite: take the write lock once, writing nothing, so a store this process cannot
        write (a ``-shm`` or ``-wal`` file it may not write, a read-only file) refuses the
        start here, naming the file, rather than at the first event after the engine said it
        was ready. A store at head is otherwise opened by reads alone."""
        if self.backend != "sqlite":
            return
        async with self._transaction() as conn:
            await conn.execute(_SQLITE_WRITE_LOCK)

    async def close(self) -> None:
        """Close the hot writes' threads and the pool; on SQLite, end what the pool's
        connections still run (``sqlite_leftovers``): work given up on, whose statement would
        otherwise go on after the close, holding SQLite's write lock if it wrote, until its
        connection was closed, which once the event loop had ended nothing did.

        Interrupted first: a hot write waiting behind such a statement for SQLite's lock would
        hold up the close of the writer's thread as long."""
        ending = None if self._connections is None else self._connections.end()
        await self._hot.close()
        await self._engine.dispose()
        if ending is not None:
            left = await ending.wait()
            if left:
                _log.warning(
                    "store closed with statements still running on SQLite; each connection "
                    "is closed when its statement ends",
                    connections=left,
                )

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def backend(self) -> Backend:
        return self._target.backend

    @property
    def schema(self) -> str | None:
        return self._target.schema

    def exposed_files(self) -> str | None:
        """A warning when a SQLite store's files can be read by other users of the machine."""
        return exposed_store_file(self._target)

    @guarded("ping the store")
    async def ping(self) -> None:
        """Raise if the database does not answer; for readiness checks.

        It reads the store's own version table rather than ``SELECT 1``: a PostgreSQL database
        dropped and made again answers ``SELECT 1`` but holds no store (42P01).
        """
        async with self._engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1 FROM alembic_version LIMIT 1")

    @property
    def writes_failing(self) -> str | None:
        """The code of the last write's failure while no write has succeeded since; None while
        writes work (``integrator.store.write_health``)."""
        return self._writes.failing

    @property
    def writes_failing_for_readiness(self) -> str | None:
        """``writes_failing`` as readiness reports it: a full disk on trial is not
        (``WriteHealth.for_readiness``)."""
        return self._writes.for_readiness

    # -- events ------------------------------------------------------------------------------

    async def accept_event(self, event: EventRecord, messages: Sequence[NewMessage]) -> bool:
        """Store the event and its messages in one transaction.

        Returns False, writing nothing, when an event with this id exists already. Raises
        :class:`Conflict` (nothing written) when a message id or control id is taken.
        """
        accepted = await self.accept_events([(event, messages)])
        return accepted[0]

    @guarded("accept events")
    async def accept_events(
        self,
        batch: Sequence[tuple[EventRecord, Sequence[NewMessage]]],
        *,
        judge: HistoryJudge | None = None,
    ) -> list[bool]:
        """Store many events with their messages in ONE transaction; one bool per item.

        An item is False when its event id exists already or came earlier in the batch. Any
        other failure (a taken control id, say) rolls back the whole batch and raises: the
        caller may then retry the items one by one to find the culprit.

        ``judge``: asked once, with the history of the batch's ZD numbers as it is just before
        the insert (on SQLite read in the same transaction, on the writer thread), for the
        warnings each event's messages are stored with (``integrator.store.zd_history``).
        """
        if not batch:
            return []
        first_index: dict[str, int] = {}
        for index, (event, _) in enumerate(batch):
            _require_aware(event.received_at, "received_at")
            EventSource(event.source)
            first_index.setdefault(event.id, index)
        now = self._now()
        # Sorted so that two overlapping batches lock rows in the same order (no deadlock).
        rows = sorted(
            (self._event_row(batch[i][0], unrouted=not batch[i][1]) for i in first_index.values()),
            key=_row_id,
        )
        # Built (and sealed) before the write turn; only the new events' are inserted.
        candidates = [
            (event.id, _message_row(event.id, message, now, self._sealer))
            for index, (event, new_messages) in enumerate(batch)
            if first_index[event.id] == index
            for message in new_messages
        ]
        judged = (
            None
            if judge is None
            else judged_batch((event.zd_number for event, _ in batch), candidates, judge)
        )
        async with self._hot_turn(), self._writes.watch():
            inserted = await self._hot.accept(rows, candidates, judged)
        return [
            event.id in inserted and first_index[event.id] == index
            for index, (event, _) in enumerate(batch)
        ]

    @guarded("prepare the hot writes")
    async def warm_up(self) -> None:
        """Make the first batch of events and of attempts as quick as the ones after: open
        what the hot writes keep open and prepare their statements, writing nothing. The
        engine calls it at start, before it takes in events. The rows below only give the
        statements their shape (the columns), as a batch's first row does."""
        now = self._now()
        sample = "00000000-0000-4000-8000-000000000000"
        event = EventRecord(
            id=sample,
            type="referral",
            action="new",
            zd_number="ZD000000000",
            provider_id="-",
            received_at=now,
            source=EventSource.AMQP,
            payload="{}",
        )
        message = NewMessage(sample, "-", "-", "-", "-", b"")
        attempt = AttemptRecord(sample, 1, now, 0.0, AttemptOutcome.DELIVERED)
        await self._hot.warm_up(
            self._event_row(event, unrouted=False),
            _message_row(sample, message, now, self._sealer),
            self._attempt_update(attempt, MessageStatus.DELIVERED, None, None),
            attempt_row(attempt, self._sealer),
        )

    def _event_row(self, event: EventRecord, *, unrouted: bool) -> dict[str, Any]:
        """``unrouted``: stored without a message (no destination serves it yet), so that
        listing and counting those reads them alone (0030)."""
        return {**event_row(event, self._sealer), "unrouted": unrouted}

    @guarded("add messages", on_foreign_key=UnknownEvent)
    async def add_messages(self, event_id: str, new_messages: Sequence[NewMessage]) -> None:
        """Add messages to an event stored earlier, e.g. a resend as a new message instance."""
        now = self._now()
        rows = [_message_row(event_id, message, now, self._sealer) for message in new_messages]
        if not rows:
            return
        async with self._transaction() as conn:
            await conn.execute(self._insert_messages, rows)
            await conn.execute(_routed(event_id))

    @guarded("store resends", on_foreign_key=UnknownMessage)
    async def add_resends(
        self,
        batch: Sequence[NewResend],
        *,
        recheck: ResendRecheck | None = None,
        guards: Mapping[str, ResendGuard] | None = None,
    ) -> dict[str, Any]:
        """Store resends in ONE transaction: each new message, its resend row and audit entry.

        So a resend is never queued without its audit entry, nor audited without being queued.
        The originals are not touched: their status and attempts stay as they were.

        ``recheck(families)`` is asked inside the transaction, after every earlier resend
        transaction has committed (PostgreSQL: the audit chain's lock, taken first; SQLite: its
        single writer), with the originals' resend families as they are now (each original's
        own link says its status); it answers the originals no longer to resend, each with
        why, and those are left out. A broad resend decided on a read made before is checked so
        against what another person resent or discarded meanwhile. Returns what it left out.

        ``guards``: for an original (by id), asked likewise with its own resends as they are
        now; a guard that answers why leaves it out. A resend confirmed on a preview is so
        checked against one a colleague made since (two people confirming at the same moment
        each read "none since" before either wrote), in this transaction, so across processes.

        A resend to a destination whose last recorded change is its removal is left out too
        (``resend.skip.destination_unknown``, as the plan says of one not configured): the
        resend was planned on the destinations in service, and an operator removed it before
        this commit (another engine's console a moment ago, or this one's while the resend was
        mapped). Stored, it waited queued for a destination no file defines, sent by nothing,
        while the person was told it was resent.
        """
        if not batch:
            return {}
        in_batch = {item.original.id for item in batch}
        checks = {o: guard for o, guard in (guards or {}).items() if o in in_batch}
        dropped: dict[str, Any] = {}
        async with self._transaction() as conn:
            # Before the read of removed destinations below, held to the commit. SQLite: that
            # read must come after a write, so that it is of what every other writer committed
            # (``_transaction``'s rule). PostgreSQL: a removal counts what waits for its
            # destination under the same turn (``recording_destination_revision``'s
            # ``waiting``), so this resend commits before that count (and is dead-lettered by
            # it) or reads the removal; ``recheck`` and ``guards`` need every other resend
            # committed first as well.
            await _writers_turn(conn, self.schema)
            if recheck is not None:
                originals = [item.original.id for item in batch]
                dropped.update(recheck(await _family_links(conn, originals)))
            for original_id, guard in checks.items():
                why = guard(await _resends_of(conn, original_id))
                if why is not None:
                    dropped[original_id] = why
            gone = await _removed_destinations(conn, {i.message.destination_id for i in batch})
            for item in batch:
                target = item.message.destination_id
                if target in gone:  # said first: no other reason counts for a removed one
                    dropped[item.original.id] = destination_not_configured(target)
            batch = [item for item in batch if item.original.id not in dropped]
            if batch:
                await self._insert_resends(conn, batch)
        return dropped

    async def _insert_resends(self, conn: AsyncConnection, batch: Sequence[NewResend]) -> None:
        now = self._now()
        message_rows = [
            _message_row(item.original.event_id, item.message, now, self._sealer) for item in batch
        ]
        resend_rows = [
            {
                "message_id": item.message.id,
                "original_id": item.original.id,
                "at": now,
                "actor": item.actor,
                "reason": item.reason,
                "mode": item.mode,
                "job_id": item.job_id,
            }
            for item in batch
        ]
        audit_rows = [
            {
                "at": now,
                "actor": item.actor,
                "action": RESEND_ACTION,
                "target": item.original.id,
                "reason": item.reason,
                "details": dump_json(
                    {
                        "resend_id": item.message.id,
                        "mode": item.mode,
                        "destination": item.message.destination_id,
                        "version": item.message.version,
                        "control_id": item.message.control_id,
                        "original_status": item.original.status,
                        "job_id": item.job_id,
                    }
                    | ({"source": item.source} if item.source is not None else {})
                ),
            }
            for item in batch
        ]
        roots = await family_roots(conn, [item.original.id for item in batch])
        for row, item in zip(message_rows, batch, strict=True):
            row["family_root"] = roots.get(item.original.id, item.original.id)
        await conn.execute(self._insert_messages, message_rows)
        await conn.execute(insert(resends), resend_rows)
        await append_audit(conn, audit_rows, schema=self.schema)

    @guarded("list resends")
    async def list_resends(self, message_id: str) -> tuple[ResendRecord | None, list[ResendRecord]]:
        """How this message came to be (if it is a resend), and its own resends, oldest first."""
        async with self._engine.connect() as conn:
            own = (
                await conn.execute(select_resends().where(resends.c.message_id == message_id))
            ).first()
            return (
                None if own is None else resend_record(own),
                await _resends_of(conn, message_id),
            )

    @guarded("list resends")
    async def resends_of_each(self, message_ids: Sequence[str]) -> dict[str, list[ResendRecord]]:
        """``list_resends``' own resends for many messages at once (a batch's confirmation
        says of each what one message's preview says): by original id, oldest first; a
        message never resent is left out. One indexed look-up per chunk of ids."""
        ids = sorted(set(message_ids))
        found: dict[str, list[ResendRecord]] = {}
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                chunk = ids[start : start + _IDS_PER_QUERY]
                rows = await conn.execute(
                    select_resends()
                    .where(resends.c.original_id.in_(chunk))
                    .order_by(resends.c.at, resends.c.message_id)
                )
                for row in rows:
                    record = resend_record(row)
                    found.setdefault(record.original_id, []).append(record)
        return found

    @guarded("follow resend links")
    async def resend_family(self, message_ids: Sequence[str]) -> list[ResendLink]:
        """Every message linked to the given ones through resends, both ways and transitively
        (the given ones included), oldest first.

        The resend rules need the whole family: a dead letter is settled by a later resend of
        the same message, and a resend of a resend counts as a resend of the first. Families
        are small, so a few indexed look-ups per generation (``id``, ``resend_of``) suffice.
        """
        async with self._engine.connect() as conn:
            return await _family_links(conn, message_ids)

    @guarded("find where messages went")
    async def destinations_of(self, message_ids: Collection[str]) -> dict[str, str]:
        """The destination of each of these messages (an unknown id is left out): enough to
        tell whether a reader may see a message another one links to, without loading it."""
        ids = sorted(set(message_ids))
        found: dict[str, str] = {}
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                result = await conn.execute(
                    select(messages.c.id, messages.c.destination_id).where(messages.c.id.in_(chunk))
                )
                found.update({row.id: row.destination_id for row in result})
        return found

    @guarded("read an event")
    async def get_event(self, event_id: str) -> EventRecord | None:
        async with self._engine.connect() as conn:
            result = await conn.execute(select(events).where(events.c.id == event_id))
            row = result.first()
        return None if row is None else event_record(row, self._sealer)

    # -- events: listing and routing (``integrator events``) ----------------------------------

    @guarded("list events")
    async def list_events(
        self,
        flt: EventFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        oldest_first: bool = False,
        after: ListedEvent | None = None,
    ) -> list[ListedEvent]:
        """Events matching every given term with their message counts, newest first.

        ``after``: only those listed after this event in the same order (a keyset on
        ``received_at`` and ``id``), so an export reads its selection page by page.

        ``oldest_first`` is the order routing needs: the order the events arrived in, so a
        cancel is queued behind the new event it cancels.
        """
        flt = flt or EventFilter()
        counted = [messages.c.event_id == events.c.id]
        if flt.destination_ids is not None:
            # Within the caller's clusters too: an event with a message to another cluster's
            # destination said "2 messages" where its page showed one.
            counted.append(messages.c.destination_id.in_(sorted(flt.destination_ids)))
        message_count = select(func.count()).select_from(messages).where(*counted).scalar_subquery()
        order = (
            (events.c.received_at, events.c.id)
            if oldest_first
            else (events.c.received_at.desc(), events.c.id.desc())
        )
        query = select(
            events.c.id,
            events.c.type,
            events.c.action,
            events.c.zd_number,
            events.c.provider_id,
            events.c.received_at,
            events.c.source,
            message_count.label("message_count"),
            events.c.unrouted,
            events.c.caller,
            events.c.pruned_at,
        )
        terms = [*self._event_terms(flt), *_event_after(after, oldest_first)]
        if offset:
            # The page chosen first, then its events' messages counted: counted in the same
            # select, every event the offset skipped had its messages counted too (PostgreSQL:
            # 4.6 s for ``offset=500000`` of a million events, a count per skipped event).
            page = select(events.c.id).where(*terms).order_by(*order).limit(limit).offset(offset)
            query = query.where(events.c.id.in_(page.correlate(None))).order_by(*order)
        else:
            query = query.where(*terms).order_by(*order).limit(limit)
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [
                ListedEvent(
                    id=row.id,
                    type=row.type,
                    action=row.action,
                    zd_number=row.zd_number,
                    provider_id=row.provider_id,
                    received_at=row.received_at,
                    source=row.source,
                    message_count=row.message_count,
                    unrouted=bool(row.unrouted) and row.pruned_at is None,
                    caller=row.caller,
                    pruned_at=row.pruned_at,
                )
                for row in result
            ]

    @guarded("count events")
    async def count_events(
        self, flt: EventFilter | None = None, *, at_most: int | None = None
    ) -> int:
        """How many events ``list_events`` would list with ``flt`` and no limit: a CSV of
        ``limit`` rows says nothing of being cut otherwise. With ``at_most``, counted no
        further than that (``listing_totals``: a page's "N of M" on a long table)."""
        terms = self._event_terms(flt or EventFilter())
        if at_most is None:
            query = select(func.count()).select_from(events).where(*terms)
        else:
            found = select(events.c.id).where(*terms).limit(at_most)
            query = select(func.count()).select_from(found.subquery())
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    @guarded("count unrouted events")
    async def count_unrouted_events(
        self,
        *,
        provider_ids: Sequence[str] | None = None,
        event_types: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Events with no message at all, per provider (only providers that have any).

        One grouped query, for the metric and for the warning when a destination starts to
        serve a provider; ``event_types`` counts only what that destination would take.
        """
        query = (
            select(events.c.provider_id, func.count())
            .where(*self._event_terms(EventFilter(unrouted=True)))
            .group_by(events.c.provider_id)
        )
        if provider_ids is not None:
            query = query.where(events.c.provider_id.in_(list(provider_ids)))
        if event_types is not None:
            query = query.where(events.c.type.in_(list(event_types)))
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return {provider_id: count for provider_id, count in result}

    @guarded("read events")
    async def get_events(self, event_ids: Sequence[str]) -> dict[str, EventRecord]:
        """The stored events among these ids (unknown ids are left out), by id."""
        found: dict[str, EventRecord] = {}
        ids = list(dict.fromkeys(event_ids))
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                result = await conn.execute(
                    select(events).where(events.c.id.in_(ids[start : start + 500]))
                )
                for row in result:
                    found[row.id] = event_record(row, self._sealer)
        return found

    @guarded("read ZD numbers' history")
    async def zd_history(self, zd_numbers: Iterable[str]) -> dict[str, list[ZdEvent]]:
        """The accepted events of each of these ZD numbers, oldest first (by ``received_at``,
        then id); a number with none is left out.

        ``events route`` reads this once per chunk (``integrator.zd_sequence.check_stored``);
        intake reads the same inside ``accept_events`` (its ``judge``). Identifiers only, nothing
        unsealed, searched on the ``zd_number`` index (SQLite: a query per 500 numbers);
        on the hot path's driver connection (``sqlite_hot_writes``, ``pg_hot_writes``): through
        SQLAlchemy, reading for a one-event batch (an HTTP POST) took more CPU than committing
        it (``bench/bench_zd_check.py``).
        """
        return history_of(await self._hot.zd_history(list(dict.fromkeys(zd_numbers))))

    @guarded("find routed destinations")
    async def routed_destinations(self, event_ids: Sequence[str]) -> dict[str, set[str]]:
        """For each given event, the destinations that have any message of it."""
        found: dict[str, set[str]] = {event_id: set() for event_id in event_ids}
        ids = list(found)
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                result = await conn.execute(
                    select(messages.c.event_id, messages.c.destination_id)
                    .where(messages.c.event_id.in_(ids[start : start + 500]))
                    .distinct()
                )
                for event_id, destination_id in result:
                    found[event_id].add(destination_id)
        return found

    @guarded("route events", on_foreign_key=UnknownEvent)
    async def add_routed_messages(
        self,
        batch: Sequence[NewRouting],
        *,
        actor: str,
        reason: str,
        details: Mapping[str, Any] | None = None,
    ) -> set[str]:
        """Add messages to stored events, each routed event with its audit entry, in ONE
        transaction; returns the ids of the messages added.

        A message for a destination that already has one of its event (routed meanwhile by
        someone else) is left out: routing twice never sends twice. The first statement takes
        the events' rows (PostgreSQL) or the database (SQLite) for writing, so two routings of
        the same events run one after the other and the second sees what the first added.
        """
        event_ids = list(dict.fromkeys(item.event_id for item in batch))
        if not event_ids:
            return set()
        now = self._now()
        added: set[str] = set()
        async with self._transaction() as conn:
            await conn.execute(
                update(events)
                .where(events.c.id.in_(event_ids))
                .values(provider_id=events.c.provider_id)
            )
            taken = {
                (event_id, destination_id)
                for event_id, destination_id in await conn.execute(
                    select(messages.c.event_id, messages.c.destination_id).where(
                        messages.c.event_id.in_(event_ids)
                    )
                )
            }
            message_rows: list[dict[str, Any]] = []
            audit_rows: list[dict[str, Any]] = []
            for item in batch:
                made = []
                for message in item.messages:
                    if (item.event_id, message.destination_id) in taken:
                        continue
                    taken.add((item.event_id, message.destination_id))
                    message_rows.append(_message_row(item.event_id, message, now, self._sealer))
                    added.add(message.id)
                    made.append(
                        {
                            "message_id": message.id,
                            "destination": message.destination_id,
                            "version": message.version,
                            "control_id": message.control_id,
                            "status": MessageStatus(message.status).value,
                        }
                    )
                if made:
                    audit_rows.append(
                        {
                            "at": now,
                            "actor": actor,
                            "action": ROUTE_ACTION,
                            "target": item.event_id,
                            "reason": reason,
                            "details": dump_json({**(details or {}), "messages": made}),
                        }
                    )
            if message_rows:
                await conn.execute(self._insert_messages, message_rows)
                await conn.execute(_routed(*{row["event_id"] for row in message_rows}))
                await append_audit(conn, audit_rows, schema=self.schema)
        return added

    def _event_terms(self, flt: EventFilter) -> list[ColumnElement[bool]]:
        terms: list[ColumnElement[bool]] = []
        if flt.zd_number is not None:
            terms.append(events.c.zd_number == flt.zd_number)
        if flt.provider_id is not None:
            terms.append(events.c.provider_id == flt.provider_id)
        if flt.event_type is not None:
            terms.append(events.c.type == flt.event_type)
        if flt.since is not None:
            terms.append(events.c.received_at >= _require_aware(flt.since, "since"))
        if flt.until is not None:
            terms.append(events.c.received_at < _require_aware(flt.until, "until"))
        if flt.bsn_hash is not None:
            terms.append(events.c.bsn_hash == flt.bsn_hash)
        if flt.caller is not None:
            terms.append(events.c.caller == flt.caller)
        if flt.unrouted:
            # Marked when stored without a message, cleared when its first is added: the
            # partial index holds these alone (0030), where a NOT EXISTS per event read them all.
            # A pruned one keeps its mark (0039) but waits for nothing.
            terms.extend((events.c.unrouted, events.c.pruned_at.is_(None)))
        if flt.never_routed:
            # Read through the same partial index: those it holds that retention emptied.
            terms.extend((events.c.unrouted, events.c.pruned_at.is_not(None)))
        if flt.event_ids is not None:
            terms.append(events.c.id.in_(list(flt.event_ids)))
        if flt.destination_ids is not None:
            terms.append(
                select(messages.c.id)
                .where(
                    messages.c.event_id == events.c.id,
                    messages.c.destination_id.in_(sorted(flt.destination_ids)),
                )
                .exists()
            )
        return terms

    @guarded("reject an event")
    async def reject_event(
        self,
        raw: bytes,
        source: str,
        reason: Sequence[Mapping[str, str]],
        keys: RejectedKeys | None = None,
        *,
        caller: str | None = None,
    ) -> str:
        """Keep input that failed validation, byte for byte, with why and what it can be found
        by (``keys``: what could be read of it, ``integrator.rejected_keys``); returns its id.

        ``caller`` is who sent it as the front door established it (``Intake.keep_rejected``
        says which), never a name taken from the input."""
        rejected_id = str(uuid.uuid4())
        found_by = keys or RejectedKeys()
        row = {
            "id": rejected_id,
            "received_at": self._now(),
            "source": EventSource(source).value,
            "raw": rejected_raw(raw, rejected_id, self._sealer),
            "reason": reason_text(reason),
            "zd_number": found_by.zd_number,
            "provider_id": found_by.provider_id,
            "bsn_hash": found_by.bsn_hash,
            "caller": caller,
        }
        async with self._bounded_transaction("reject an event") as conn:
            await conn.execute(insert(rejected_events), row)
        return rejected_id

    @guarded("list rejected events")
    async def list_rejected(
        self, flt: RejectedFilter | None = None, *, limit: int = 100
    ) -> list[RejectedSummary]:
        """Newest first, without the bytes (``get_rejected`` has them): a size and a head.

        The period walks the ``received_at`` index, which also gives the order."""
        t = rejected_events.c
        query = (
            select(
                t.id,
                t.received_at,
                t.source,
                t.reason,
                t.zd_number,
                t.provider_id,
                t.caller,
                func.length(t.raw).label("stored_size"),
                func.substr(t.raw, 1, HEAD_BYTES).label("head"),
            )
            .where(*self._rejected_terms(flt or RejectedFilter()))
            .order_by(t.received_at.desc(), t.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [
                RejectedSummary(
                    id=row.id,
                    received_at=row.received_at,
                    source=row.source,
                    size=opened_size(row.stored_size, bytes(row.head or b"")),
                    reason=load_json(row.reason),
                    zd_number=row.zd_number,
                    provider_id=row.provider_id,
                    caller=row.caller,
                )
                for row in result
            ]

    @guarded("count rejected events")
    async def count_rejected(self, flt: RejectedFilter | None = None) -> int:
        """How many pieces of rejected input ``flt`` takes, however many a page shows.

        One ``COUNT`` that reads no body: with a period, a range of the ``received_at`` index
        (the dashboard asks for the last 24 hours every few seconds). A ``source`` is checked
        on the rows of that range; rejected input is rare, so no index of its own is kept. A
        ZD number, provider or BSN hash is a lookup in its own index: an empty message search
        by ZD number asks this to say whether intake refused that referral.
        """
        query = (
            select(func.count())
            .select_from(rejected_events)
            .where(*self._rejected_terms(flt or RejectedFilter()))
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    @staticmethod
    def _rejected_terms(flt: RejectedFilter) -> list[ColumnElement[bool]]:
        t = rejected_events.c
        terms: list[ColumnElement[bool]] = []
        if flt.since is not None:
            terms.append(t.received_at >= flt.since)
        if flt.until is not None:
            terms.append(t.received_at < flt.until)
        if flt.source is not None:
            terms.append(t.source == flt.source)
        if flt.zd_number is not None:
            terms.append(t.zd_number == flt.zd_number)
        if flt.provider_id is not None:
            terms.append(t.provider_id == flt.provider_id)
        if flt.bsn_hash is not None:
            terms.append(t.bsn_hash == flt.bsn_hash)
        return terms

    # -- messages ----------------------------------------------------------------------------

    @guarded("read a message")
    async def get_message(self, message_id: str, *, payload: bool = True) -> MessageRecord | None:
        """``payload=False``: without its HL7 (``b""``), for who needs only where it stands."""
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select_messages(payload=payload).where(messages.c.id == message_id)
            )
            found = message_records(result, self._sealer)
        return found[0] if found else None

    # -- reading what people type, and stores that must already exist --------------------------

    @guarded("find a message by its id")
    async def resolve_message_id(
        self, text: str, *, destinations: Collection[str] | None = None
    ) -> str:
        """The id of the message whose id is ``text``, or of the one message whose id starts so.

        Listings show ids shortened, as git shows commits (``idprefix``). ``destinations``:
        among the messages of these only (None: all), so that neither an answer nor the count
        of candidates says anything of the messages a caller may not see.
        """
        within = None if destinations is None else messages.c.destination_id.in_(destinations)
        return await self._resolve_id(messages.c.id, text, "message", within=within)

    async def resolve_event_id(
        self, text: str, *, destinations: Collection[str] | None = None
    ) -> str:
        """Like ``resolve_message_id``, for an event's id. ``destinations``: among the events
        with a message for one of these only (None: all, unrouted ones too), as an event lies
        in the clusters of the destinations it has messages for."""
        within = None
        if destinations is not None:
            within = (
                select(messages.c.id)
                .where(
                    messages.c.event_id == events.c.id,
                    messages.c.destination_id.in_(sorted(destinations)),
                )
                .exists()
            )
        return await self._resolve_id(events.c.id, text, "event", within=within)

    async def resolve_audit_target(self, text: str) -> str:
        """The audit entries' target that is ``text``, or the one id among them starting so.

        The audit's table shows the ids it names shortened (a message's, an event's), and
        people copy them back into ``--target``; many entries share a target, so each counts
        once among the candidates.
        """
        return await self._resolve_id(audit_log.c.target, text, "audit target", distinct=True)

    async def resolve_rejected_id(self, text: str) -> str:
        """Like ``resolve_message_id``, for the id of rejected input."""
        return await self._resolve_id(rejected_events.c.id, text, "rejected input")

    @guarded("read ids")
    async def unique_prefix_length(self, kind: IdKind, ids: Collection[str]) -> int:
        """The fewest characters that tell each of ``ids`` apart from every other id of its
        kind in the store (not only from those listed with it): one more than the longest
        start it shares with the ids just before and after it, in the index's order. A listing
        shortens its ids to at least this, so that each is taken back as the one it names
        (``idprefix``): among the rows of a filtered listing, an event id shortened to 8
        characters could be the start of another event's id (upstream's time-ordered ids
        share their first characters for a minute)."""
        column = {"message": messages.c.id, "event": events.c.id, "rejected": rejected_events.c.id}[
            kind
        ]
        longest = 0
        async with self._engine.connect() as conn:
            for given in ids:
                before = await conn.execute(select(func.max(column)).where(column < given))
                after = await conn.execute(select(func.min(column)).where(column > given))
                for neighbour in (before.scalar(), after.scalar()):
                    if neighbour is not None:
                        longest = max(longest, _shared_start(given, neighbour))
        return longest + 1

    @guarded("read rejected input")
    async def get_rejected(self, rejected_id: str) -> RejectedEventRecord | None:
        """One piece of rejected input, its bytes unsealed."""
        query = select(rejected_events).where(rejected_events.c.id == rejected_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else rejected_record(row, self._sealer)

    async def _resolve_id(
        self,
        column: ColumnElement[str],
        text: str,
        kind: str,
        *,
        within: ColumnElement[bool] | None = None,
        distinct: bool = False,
    ) -> str:
        """The prefix is read as a range of an indexed column, which both backends answer from
        its index whatever their collation; ``LIKE`` would not use it on SQLite, nor on
        PostgreSQL outside ``C``. ``within``: a condition every answer meets; ``distinct``:
        the column is not unique."""
        from integrator.store import idprefix

        typed = text.strip()
        narrowed = [] if within is None else [within]
        async with self._engine.connect() as conn:
            for exact in dict.fromkeys((typed, idprefix.normalise(typed))):
                found: str | None = (
                    await conn.execute(select(column).where(column == exact, *narrowed))
                ).scalar()
                if found is not None:
                    return found
            prefix = idprefix.checked_prefix(typed, kind)
            low, high = idprefix.bounds(prefix)
            candidates_of = select(column).distinct() if distinct else select(column)
            result = await conn.execute(
                candidates_of.where(column >= low, column < high, *narrowed)
                .where(func.substr(column, 1, len(prefix)) == prefix)
                .order_by(column)
                .limit(idprefix.MAX_CANDIDATES + 1)
            )
            candidates = list(result.scalars())
        return idprefix.the_one(typed, prefix, candidates, kind)

    @classmethod
    async def open_existing(
        cls,
        url: str,
        *,
        clock: Clock = utc_now,
        schema: str | None = None,
        sealer: Sealer | None = None,
        search_check: str | None = None,
        hash_bsn: Callable[[str], str] | None = None,
    ) -> Store:
        """Like :meth:`open`, for commands that only read: never creates a store, and never
        registers a key (a store without the search key's check gets it from the next writer).

        A read command that created an empty store where a setting pointed by mistake would
        answer "nothing found" instead of "wrong store". Raises ``NoStore`` (naming the store,
        without a password) when the SQLite file, the PostgreSQL database or the schema in it
        is not there. An existing store at an older revision is still migrated, as the engine
        would: the code cannot read it otherwise.
        """
        target = resolve(url, schema, create=False)
        connections = PoolConnections() if target.backend == "sqlite" else None
        engine = create_engine(target, connections=connections)
        store = cls(engine, target, clock, sealer, connections=connections)
        try:
            if await require_store(engine, target.display) != HEAD_REVISION:
                await _migrate_when_free(engine, schema)
            await store._check_data_keys(register=False)
            if search_check is not None:
                await store._check_search_key(search_check, register=False, hash_bsn=hash_bsn)
        except BaseException:
            await engine.dispose()
            raise
        return store

    @property
    def location(self) -> str:
        """Which store this is, for people: its URL without password (``Target.display``)."""
        return self._target.display

    @guarded("list pending messages")
    async def pending_refs(self, destination_id: str | None = None) -> list[PendingRef]:
        """Every message a delivery worker still owes (to ``destination_id``, if given), oldest
        first, without its payload.

        For a restart or a resumed destination: 100,000 messages waiting behind a paused
        destination are a few MB as refs, and hundreds of MB (or, with PDFs, far more) with
        their payloads. The embedded transport loads the payloads a window at a time
        (``pending_messages(ids=...)``).
        """
        query = (
            select(
                messages.c.id,
                messages.c.destination_id,
                messages.c.attempt_count,
                func.length(messages.c.payload),
            )
            .where(messages.c.status.in_([s.value for s in PENDING_STATUSES]))
            .order_by(messages.c.seq)
        )
        if destination_id is not None:
            query = query.where(messages.c.destination_id == destination_id)
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [PendingRef(*row) for row in result]

    @guarded("list messages")
    async def list_messages(
        self,
        flt: MessageFilter = ANY_MESSAGE,
        *,
        limit: int = 100,
        offset: int = 0,
        payloads: bool = True,
        after: MessageRecord | None = None,
    ) -> list[MessageRecord]:
        """Messages matching every given term, newest first.

        ``after``: only those listed after this message in the same order (a keyset, on the
        listing's own order: ``seq``, or creation time and ``seq`` with a period), so an export
        reads its selection page by page without ``OFFSET`` walking every page before.

        ``payloads=False``: for listings, which show no HL7; each record's ``payload`` is then
        ``b""`` (``codec.select_messages``).

        With a period the order is by creation time (then ``seq``), which the ``created_at``
        index delivers in order: PostgreSQL would otherwise walk ``seq`` backwards through
        every newer row to reach a period long ago (measured: 180 ms instead of a few on a
        million rows). Both orders agree, since ``seq`` follows creation.
        """
        newest_first = (
            (messages.c.created_at.desc(), messages.c.seq.desc())
            if flt.since is not None or flt.until is not None
            else (messages.c.seq.desc(),)
        )
        terms = _filter_terms(flt)
        if after is not None:
            terms.append(
                messages.c.seq < after.seq
                if flt.since is None and flt.until is None
                else and_(  # the bound alone first, as ``_event_after`` says why
                    messages.c.created_at <= after.created_at,
                    or_(messages.c.created_at < after.created_at, messages.c.seq < after.seq),
                )
            )
        if offset and not _reads_events(terms):
            # The page chosen among the messages alone, then joined: joined first, every row
            # the offset skipped cost a look-up in the events table (PostgreSQL: 2.5 s for
            # ``offset=500000`` on a million messages, half a million such look-ups). Every
            # message has its event (a foreign key; neither is deleted), so the page is the same.
            page = (
                select(messages.c.seq)
                .where(*terms)
                .order_by(*newest_first)
                .limit(limit)
                .offset(offset)
                .correlate(None)
            )
            query = (
                select_messages(payload=payloads)
                .where(messages.c.seq.in_(page))
                .order_by(*newest_first)
            )
        else:
            query = (
                select_messages(payload=payloads)
                .where(*terms)
                .order_by(*newest_first)
                .limit(limit)
                .offset(offset)
            )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return message_records(result, self._sealer)

    @guarded("count messages")
    async def count_made_since(self, since: datetime) -> dict[str, dict[str, int]]:
        """The messages made at or after ``since``, per destination and status (those with
        none left out): the dashboard's "last hour" of every tile in one query.

        Asked as ``count_messages`` per destination and status, each count walked the
        destination's whole history of that status on the ``(destination_id, status, seq)``
        index and read every row's ``created_at``: on a million messages, the delivered ones
        of twenty destinations at every poll of every open dashboard. Here the only term is
        the period, and the period's rows alone are read by the ``created_at`` index; the
        statuses are told apart by the grouping. The period's rows are taken in a subquery
        ordered by ``created_at``: SQLite would otherwise fold it into the grouping and walk the
        ``(destination_id, status, seq)`` index in the grouping's order, every row of it
        (19 s instead of 19 ms on a million messages).
        """
        made = (
            select(messages.c.destination_id, messages.c.status)
            .where(messages.c.created_at >= _require_aware(since, "since"))
            .order_by(messages.c.created_at)
            .subquery()
        )
        query = select(made.c.destination_id, made.c.status, func.count()).group_by(
            made.c.destination_id, made.c.status
        )
        found: dict[str, dict[str, int]] = {}
        async with self._engine.connect() as conn:
            for destination_id, status, count in await conn.execute(query):
                found.setdefault(destination_id, {})[status] = count
        return found

    @guarded("count messages")
    async def count_messages(self, flt: MessageFilter = ANY_MESSAGE) -> int:
        """How many messages ``list_messages`` would list with ``flt`` and no limit: one
        ``COUNT`` that reads no body, so a refusal of "too many" can say how many.

        The events are joined only for a term of theirs (ZD number, event type, BSN): every
        message has its event (a foreign key, and neither is ever deleted), so the join
        changes no count, while it made each counted message cost a look-up in the events
        table (a count of every message, the API's ``X-Total-Count`` of an export without
        terms, read the million events beside the million messages)."""
        terms = _filter_terms(flt)
        query = (
            select(func.count())
            .select_from(
                messages.join(events, messages.c.event_id == events.c.id)
                if _reads_events(terms)
                else messages
            )
            .where(*terms)
        )
        async with self._engine.connect() as conn:
            count: int = (await conn.execute(query)).scalar_one()
            return count

    @guarded("read messages")
    async def get_messages(
        self, ids: Sequence[str], *, payloads: bool = True
    ) -> list[MessageRecord]:
        """The messages of ``ids`` (those that exist), bodies included: a batch that listed
        them without (``list_messages(payloads=False)``) reads a chunk's bodies when it needs
        them, not all of them at once. ``payloads=False``: without (a batch's named ids,
        100,000 of them in one API request, were read whole, one by one)."""
        found: list[MessageRecord] = []
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                chunk = list(ids[start : start + _IDS_PER_QUERY])
                query = select_messages(payload=payloads).where(messages.c.id.in_(chunk))
                result = await conn.execute(query)
                found.extend(message_records(result, self._sealer))
        return found

    @guarded("list pending messages")
    async def pending_messages(
        self,
        destination_id: str | None = None,
        *,
        limit: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[MessageRecord]:
        """Messages a delivery worker still owes (queued, sending, retrying), oldest first.

        ``limit`` lets a worker resume a long backlog in pieces instead of all at once; ``ids``
        keeps to those messages (the embedded transport loads what waits behind its window).
        """
        pending = [s.value for s in PENDING_STATUSES]
        if ids is not None:
            # By primary key only: with the status in the query, SQLite walked the status index
            # through every pending message (100,000 behind a paused destination) per call.
            found = await self.get_messages(ids)
            return sorted(
                (
                    m
                    for m in found
                    if m.status in pending
                    and (destination_id is None or m.destination_id == destination_id)
                ),
                key=lambda m: m.seq,
            )[:limit]
        query = select_messages().where(messages.c.status.in_(pending))
        if destination_id is not None:
            query = query.where(messages.c.destination_id == destination_id)
        if limit is not None:
            query = query.limit(limit)
        async with self._engine.connect() as conn:
            result = await conn.execute(query.order_by(messages.c.seq))
            return message_records(result, self._sealer)

    @guarded("set a message status")
    async def set_status(
        self,
        message_id: str,
        status: str,
        *,
        last_error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Move a message to ``status``; its last_error and next_attempt_at become those given."""
        values = {
            "status": MessageStatus(status).value,
            "last_error": seal_last_error(last_error, message_id, self._sealer),
            "next_attempt_at": _require_aware(next_attempt_at, "next_attempt_at"),
            "updated_at": self._now(),
        }
        async with self._transaction() as conn:
            result = await conn.execute(
                update(messages).where(messages.c.id == message_id).values(values)
            )
            if result.rowcount == 0:
                raise UnknownMessage(message_id)

    @guarded("hold a message")
    async def hold_message(self, message_id: str, note: str) -> bool:
        """Hold a queued or retrying message, ``note`` added to its warnings and its bytes
        dropped, as intake holds one it cannot map: ``release_held`` maps it again, keeping its
        control id. False when it is in neither state (delivered, dead, held already).

        For a message mapped before its version's sunset and still waiting after it: sent, it
        would reach the hospital in the retired format (docs/product.md §3).
        """
        waiting = (MessageStatus.QUEUED.value, MessageStatus.RETRYING.value)
        async with self._transaction() as conn:
            row = (
                await conn.execute(
                    select(messages.c.warnings).where(
                        messages.c.id == message_id, messages.c.status.in_(waiting)
                    )
                )
            ).first()
            if row is None:
                return False
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.status.in_(waiting))
                .values(
                    status=MessageStatus.HELD.value,
                    payload=self._sealer.seal(b"", aad("messages", "payload", message_id)),
                    warnings=dump_json([*load_json(row.warnings), note]),
                    next_attempt_at=None,
                    updated_at=self._now(),
                )
            )
        return True

    @guarded("note on a held message")
    async def note_held(self, message_id: str, note: str) -> bool:
        """Add ``note`` to a held message's warnings, unless they say it already: why a release
        left it held, said once however often releases are tried (every start). False when
        it is not held, or said so already."""
        held = MessageStatus.HELD.value
        async with self._transaction() as conn:
            row = (
                await conn.execute(
                    select(messages.c.warnings).where(
                        messages.c.id == message_id, messages.c.status == held
                    )
                )
            ).first()
            said = load_json(row.warnings) if row is not None else None
            if said is None or note in said:
                return False
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.status == held)
                .values(warnings=dump_json([*said, note]), updated_at=self._now())
            )
        return True

    @guarded("release a held message")
    async def release_held(
        self,
        message_id: str,
        *,
        version: str,
        message_type: str,
        payload: bytes,
        warnings: Sequence[str] = (),
    ) -> datetime | None:
        """Give a held message its (re-)mapped bytes and queue it; returns when (None if it is
        not held).

        The control id reserved when the message was held is kept: it never went on the wire.
        The release time is kept too (``released_at``): the message's ``max_age`` counts from
        it, as the time it waited held could not be used for delivery (destinations.retry).
        It rides on the update that queues the message, so it costs no write of its own.
        """
        now = self._now()
        values = {
            "status": MessageStatus.QUEUED.value,
            "version": version,
            "message_type": message_type,
            "payload": self._sealer.seal(bytes(payload), aad("messages", "payload", message_id)),
            "warnings": dump_json(list(warnings)),
            "last_error": None,
            "next_attempt_at": None,
            "updated_at": now,
            "released_at": now,
        }
        async with self._transaction() as conn:
            result = await conn.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .where(messages.c.status == MessageStatus.HELD.value)
                .values(values)
            )
            return now if result.rowcount == 1 else None

    @guarded("count messages")
    async def count_by_status(self, destination_id: str | None = None) -> dict[str, int]:
        """Message counts for every status (zero included, so the keys never change)."""
        query = select(messages.c.status, func.count()).group_by(messages.c.status)
        if destination_id is not None:
            query = query.where(messages.c.destination_id == destination_id)
        counts = {status.value: 0 for status in MessageStatus}
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            for status, count in result:
                counts[status] = count
        return counts

    # -- attempts ----------------------------------------------------------------------------

    @guarded("record an attempt")
    async def record_attempt(
        self,
        attempt: AttemptRecord,
        *,
        status: str,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
    ) -> None:
        """Store the attempt and update its message in one transaction.

        The message gets ``status``, ``attempt_count = attempt.number`` and the given
        next_attempt_at and last_error.
        """
        update_row = self._attempt_update(attempt, status, next_attempt_at, last_error)
        async with self._transaction() as conn:
            result = await conn.execute(_UPDATE_AFTER_ATTEMPT, update_row)
            if result.rowcount == 0:
                raise UnknownMessage(attempt.message_id)
            await conn.execute(_INSERT_ATTEMPT, attempt_row(attempt, self._sealer))

    @guarded("record attempts", on_foreign_key=UnknownMessage)
    async def record_attempts(self, batch: Sequence[AttemptUpdate], *, again: bool = False) -> None:
        """Many :meth:`record_attempt` calls in one transaction, applied in order.

        ``again``: the batch is written once more after a try that failed, which may have
        committed all the same (on PostgreSQL the connection can break between the server's
        commit and its answer: a cut, a failover). An attempt found stored already (the same
        message, number and start) is then passed over, with its message's update: written
        twice, one attempt showed as two in the message's history. Stored already means the
        same message and start, under the attempt's number or one it was moved up to.

        An attempt whose number is stored already (another engine's attempt of the same
        message) is stored under the next free one, and the batch's later attempts of that
        message after it; ``attempt_count`` is the highest number stored (``attempt_numbers``).
        """
        if not batch:
            return
        updates = [self._attempt_update(*item) for item in batch]
        attempt_rows = [attempt_row(item[0], self._sealer) for item in batch]

        def renumbered(index: int, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
            attempt = batch[index][0]
            if number == attempt.number:
                return updates[index], attempt_rows[index]
            # Sealed again: the number is in the ACK's and error's associated data.
            moved = dataclasses.replace(attempt, number=number)
            return {**updates[index], "b_attempt_count": number}, attempt_row(moved, self._sealer)

        # The foreign key refuses an attempt for an unknown message: all is rolled back.
        async with self._hot_turn(), self._writes.watch():
            await self._hot.record(updates, attempt_rows, again=again, renumbered=renumbered)

    @guarded("list attempts")
    async def list_attempts(self, message_id: str) -> list[AttemptRecord]:
        """Oldest first."""
        query = (
            select(attempts)
            .where(attempts.c.message_id == message_id)
            .order_by(attempts.c.number, attempts.c.id)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [attempt_record(row, self._sealer) for row in result]

    @guarded("list attempts")
    async def attempts_of(self, message_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        """Each message's attempts, oldest first (an id without any maps to ``[]``): what
        :meth:`list_attempts` gives one message, for a listing of many in a query per 500 ids.

        The dead letters listings read a hundred to five hundred letters' attempts; one query
        per letter cost a round trip (and a hand-over to the driver's thread) each.
        """
        found: dict[str, list[AttemptRecord]] = {message_id: [] for message_id in message_ids}
        ids = list(found)
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = (
                    select(attempts)
                    .where(attempts.c.message_id.in_(ids[start : start + 500]))
                    .order_by(attempts.c.message_id, attempts.c.number, attempts.c.id)
                )
                for row in await conn.execute(query):
                    found[row.message_id].append(attempt_record(row, self._sealer))
        return found

    # -- audit -------------------------------------------------------------------------------

    @guarded("write the audit log")
    async def add_audit(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        row = audit_row(self._now(), actor, action, target, reason=reason, details=details)
        async with self._transaction() as conn:
            (audit_id,) = await append_audit(conn, [row], schema=self.schema)
        return audit_id

    @guarded("read the audit log")
    async def newest_audit_about(
        self,
        target: str,
        among: Collection[str],
        concerning: Callable[[AuditRecord], bool] | None = None,
    ) -> AuditRecord | None:
        """The newest entry about ``target`` whose action is one of ``among`` (and that
        ``concerning`` says is about the same thing, when given); None if none."""
        async with self._engine.connect() as conn:
            return await _newest_concerning(conn, target, among, concerning)

    @guarded("read the audit log")
    async def newest_audit_about_each(
        self,
        targets: Sequence[str],
        among: Collection[str],
        concerning: Callable[[str], Callable[[AuditRecord], bool]] | None = None,
    ) -> dict[str, AuditRecord]:
        """``newest_audit_about`` for each of ``targets`` (``concerning(target)`` its check),
        those with none left out: the newest entry of each in one statement, and a target's
        own walk back only where that entry is passed over (rare: a refusal of another file).

        Asked one by one, an engine's start and every reload of the destinations directory
        read the trail once per destination (bench/bench_listing_destinations.py)."""
        if not targets:
            return {}
        wanted = wanted_destinations(list(targets), self._engine.dialect.name)
        newest = (  # per target asked: its newest entry's id, by the ``target`` index
            select(func.max(audit_log.c.id))
            .where(audit_log.c.target == wanted.c.value, audit_log.c.action.in_(list(among)))
            .correlate(wanted)
            .scalar_subquery()
        )
        query = select(audit_log).where(audit_log.c.id.in_(select(newest).select_from(wanted)))
        found: dict[str, AuditRecord] = {}
        async with self._engine.connect() as conn:
            for row in (await conn.execute(query)).all():
                record = audit_record(row)
                check = concerning(record.target) if concerning is not None else None
                if check is None or check(record):
                    found[record.target] = record
                    continue
                older = await _newest_concerning(conn, record.target, among, check, row.id)
                if older is not None:
                    found[record.target] = older
        return found

    @guarded("write the audit log")
    async def add_audit_unless_repeated(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        details: Mapping[str, Any],
        among: Collection[str],
        repeats: Callable[[AuditRecord | None], bool],
        concerning: Callable[[AuditRecord], bool] | None = None,
    ) -> int | None:
        """Add an entry unless it would repeat what the trail last says about ``target``.

        ``repeats`` is shown the newest entry before this one about ``target`` whose action is
        one of ``among`` (None: there is none) and says whether this entry would only repeat
        it; then nothing is written (None). ``concerning`` passes over entries about the same
        target that are about something else (a destination's own file, and another file
        claiming its id, share a target). The entry is appended first and the check made
        after, in its transaction: appends are serialized (SQLite's write lock, PostgreSQL's
        advisory lock, see ``audit_chain``), so of several processes noticing the same thing at
        once, each sees what the one before it wrote, and one entry is written.
        """
        row = audit_row(self._now(), actor, action, target, details=details)
        try:
            async with self._transaction() as conn:
                (audit_id,) = await append_audit(conn, [row], schema=self.schema)
                before = await _newest_concerning(conn, target, among, concerning, audit_id)
                if repeats(before):
                    raise _Repeated
        except _Repeated:
            return None
        return audit_id

    @guarded("change messages with their audit entry")
    async def set_status_audited(
        self,
        message_ids: Sequence[str],
        status: str,
        *,
        last_error: str | None,
        actor: str,
        action: str,
        target: str,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """Move messages to ``status`` and write the audit entry saying why, in ONE transaction.

        Neither is kept without the other: a change nobody can account for, or an entry for a
        change that did not happen, cannot arise. ``UnknownMessage`` (and nothing written) when
        one of the messages does not exist. Returns the audit entry's id.
        """
        now = self._now()
        values = {"status": MessageStatus(status).value, "next_attempt_at": None, "updated_at": now}
        row = audit_row(now, actor, action, target, reason=reason, details=details)
        async with self._transaction() as conn:
            missing = await set_each(conn, message_ids, values, last_error, self._sealer)
            if missing:
                raise UnknownMessage(missing[0])
            (audit_id,) = await append_audit(conn, [row], schema=self.schema)
        return audit_id

    @guarded("change messages with their audit entries")
    async def set_statuses_audited(
        self,
        changes: Sequence[AuditedStatus],
        status: str,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        from_status: str | None = None,
    ) -> list[int]:
        """Move several messages to ``status``, each with an audit entry of its own (target:
        the message), all in ONE transaction: a discard of a resend chain closes every one of
        its dead letters or none, and each entry is found by its message's id. ``UnknownMessage``
        (and nothing written) when one does not exist. Returns the entries' ids in order.

        ``from_status``: only messages still in that status; one that is not (two people
        discarding the same dead letter at once: both were told "discarded", and the trail
        held two entries for one change) is ``StatusChanged``, and nothing is written."""
        now = self._now()
        rows: list[dict[str, Any]] = []
        async with self._transaction() as conn:
            if from_status is not None and conn.dialect.name == "postgresql":
                # Before the status is read: a batch resend rechecking this message in the
                # same moment takes the same turn (``add_resends``), so one sees the other's.
                # (On SQLite the first UPDATE below takes the one write lock already.)
                await _writers_turn(conn, self.schema)
            for change in changes:
                where = messages.c.id == change.message_id
                if from_status is not None:
                    where = where & (messages.c.status == MessageStatus(from_status).value)
                result = await conn.execute(
                    update(messages)
                    .where(where)
                    .values(
                        status=MessageStatus(status).value,
                        last_error=seal_last_error(
                            change.last_error, change.message_id, self._sealer
                        ),
                        next_attempt_at=None,
                        updated_at=now,
                    )
                )
                if result.rowcount == 0:
                    raise await _why_unchanged(conn, change.message_id)
                rows.append(
                    audit_row(
                        now, actor, action, change.message_id, reason=reason, details=change.details
                    )
                )
            return await append_audit(conn, rows, schema=self.schema)

    @guarded("read the audit log")
    async def has_audit_entry(self, entry_id: int) -> bool:
        """Whether the trail holds the entry ``entry_id`` (a page's ``after``, say)."""
        async with self._engine.connect() as conn:
            found = await conn.execute(select(audit_log.c.id).where(audit_log.c.id == entry_id))
            return found.first() is not None

    @guarded("read the audit log")
    async def list_audit(
        self,
        flt: AuditFilter | None = None,
        *,
        target: str | None = None,
        limit: int = 100,
        offset: int = 0,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """Newest first. ``target`` is shorthand for ``AuditFilter(target=...)``.
        ``before_id``: only entries older than that one (a keyset, for an export's pages)."""
        if target is not None:
            flt = dataclasses.replace(flt or AuditFilter(), target=target)
        terms = list(_audit_terms(flt or AuditFilter()))
        if before_id is not None:
            terms.append(audit_log.c.id < before_id)
        query = (
            select(audit_log)
            .where(*terms)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [audit_record(row) for row in result]

    @guarded("read the audit log")
    async def destination_on_record(self, destination_id: str) -> bool:
        """Whether an audit entry is about this destination (its target: a change, a test, the
        removal) or a stored message went to it.

        What an audit search by destination can find, read cheaply: each lookup is one row of
        an index (``audit_log.target``, ``messages.destination_id``), ``LIMIT 1``. The entries
        that name a destination only in their details (an intake, a routing, a resend, a
        discard) are each about a message to it, and message rows are never deleted (retention
        empties their payloads), so the messages answer for them: the details themselves are
        JSON text that no index reads.
        """
        lookups = (
            # The indexed column itself is read, so the index alone answers (no table row).
            select(audit_log.c.target).where(audit_log.c.target == destination_id).limit(1),
            select(messages.c.destination_id)
            .where(messages.c.destination_id == destination_id)
            .limit(1),
        )
        async with self._engine.connect() as conn:
            for lookup in lookups:
                if (await conn.execute(lookup)).first() is not None:
                    return True
        return False

    @guarded("count the audit log")
    async def count_audit(
        self, flt: AuditFilter | None = None, *, at_most: int | None = None
    ) -> int:
        """How many entries ``list_audit`` would list with ``flt``; with ``at_most``, counted
        no further than that (an export of at most so many entries needs to know no more, and
        the trail can be long)."""
        found = select(audit_log.c.id).where(*_audit_terms(flt or AuditFilter()))
        if at_most is not None:
            found = found.order_by(audit_log.c.id.desc()).limit(at_most)
        async with self._engine.connect() as conn:
            result = await conn.execute(select(func.count()).select_from(found.subquery()))
            count: int = result.scalar_one()
            return count

    @guarded("count the audit log")
    async def count_audit_by_actor(
        self,
        actions: Sequence[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[ActorCounts], ActorCounts | None]:
        """Each actor's entries of ``actions`` from ``since`` (inclusive) to ``until`` (not),
        counted per action, with the distinct patients they name (by keyed BSN hash) and their
        first and last time; and the same for all actors together (None when there are no
        such entries). One grouped statement (``audit_counts``): the entries stay in the
        store, however long the trail."""
        if not actions:
            return [], None
        query = counts_statement(
            self._engine.dialect.name,
            actions,
            None if since is None else _require_aware(since, "since"),
            None if until is None else _require_aware(until, "until"),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return read_counts(rows, actions)

    @guarded("verify the audit log")
    async def verify_audit(
        self,
        *,
        batch: int = 1000,
        progress: Callable[[int], None] | None = None,
        anchor: tuple[int, str] | None = None,
        audit_days: int | None = None,
        zone: tzinfo = UTC,
    ) -> AuditCheck:
        """Walk the hash chain oldest first, ``batch`` entries per query; stop at the first
        broken entry. ``progress`` is told how many entries each batch checked.

        The chain starts at the genesis hash or, once its oldest entries were pruned, at the
        anchor they left (``audit_prune``): the first entry kept must link to it. The anchor and
        every page are read in one snapshot of the store (``_one_snapshot``): a prune that runs
        meanwhile deletes entries and moves the anchor, and read as it went, the walk would
        find the chain cut wherever the prune overtook it.

        ``anchor``: an entry's id and the hash it had when noted earlier (kept elsewhere): the
        chain must still hold it, which also catches a chain recomputed after an edit, or cut
        short, up to that entry. One pruned since cannot be checked, and fails saying so; gone
        while the anchor fails its checks, it fails as removed, not pruned.

        ``audit_days``: the audit retention (``INTEGRATOR_RETAIN_AUDIT_DAYS``); given, the
        anchor's time must fit it too (``audit_prune.retention_problem``). ``zone``: where the
        day a prune happened on is said (``INTEGRATOR_TIMEZONE``).
        """
        return await self._walk_audit(batch, progress, anchor, audit_days, zone)

    async def _walk_audit(
        self,
        batch: int,
        progress: Callable[[int], None] | None,
        anchor: tuple[int, str] | None,
        audit_days: int | None,
        zone: tzinfo,
    ) -> AuditCheck:
        checked = 0
        recorded: dict[str, Any] | None = None
        run_done = False  # a prune run's entry, gone to its end, follows the newest recorded
        kept: list[tuple[int, datetime]] = []  # the first two entries kept: id, time
        first_id: int | None = None
        last_id: int | None = None
        noted_pruned: tuple[int, str] | None = None
        async with self._engine.connect() as conn:
            conn = await _one_snapshot(conn)
            start = await read_anchor(conn)
            prev = GENESIS if start is None else start.hash
            anchor_seen = anchor is None
            if anchor is not None and start is not None and anchor[0] <= start.seq:
                if anchor[0] < start.seq:
                    # Pruned, or removed: which one, the anchor's own checks tell at the end.
                    noted_pruned = anchor
                else:
                    problem = noted_entry_problem(anchor, start)
                    if problem is not None:
                        return AuditCheck(
                            0, None, None, broken_id=anchor[0], problem=problem, starts_after=start
                        )
                anchor_seen = True  # the newest entry pruned, with the hash noted
            while True:
                query = (
                    select(audit_log, cast(audit_log.c.at, Text).label("at_stored"))
                    .order_by(audit_log.c.id)
                    .limit(batch)
                )
                if last_id is not None:
                    query = query.where(audit_log.c.id > last_id)
                rows = (await conn.execute(query)).all()
                if not rows:
                    break
                for row in rows:
                    problem = (
                        first_link_problem(row, start)
                        if last_id is None
                        else _link_problem(row, prev)
                    ) or _content_problem(row, conn.dialect.name)
                    if problem is None and anchor is not None and row.id == anchor[0]:
                        anchor_seen = True
                        if row.hash != anchor[1]:
                            problem = (
                                "its hash is not the one noted earlier: the chain was "
                                "recomputed from this entry or before"
                            )
                    if problem is not None:
                        return AuditCheck(
                            checked,
                            last_id,
                            prev,
                            broken_id=row.id,
                            problem=problem,
                            starts_after=start,
                        )
                    if last_id is None:
                        first_id = row.id
                    if len(kept) < 2:
                        kept.append((row.id, row.at))
                    found = recorded_anchor(row.details)
                    if found is not None:
                        recorded, run_done = found, False
                    ended = run_ended(row.action, row.details)
                    if ended is not None:
                        run_done = ended
                    checked += 1
                    prev = row.hash
                    last_id = row.id
                if progress is not None:
                    progress(len(rows))
        last_hash = None if last_id is None else prev
        if start is not None and last_id is None:
            return AuditCheck(
                0,
                None,
                None,
                broken_id=start.seq,
                problem=f"no entry follows the pruned ones (up to {start.seq}): "
                "entries were removed",
                starts_after=start,
            )
        problem = anchor_problem(start, recorded)
        if problem is None and start is not None and audit_days is not None and run_done:
            problem = retention_problem(start, kept, audit_days)
        if noted_pruned is not None:
            assert start is not None
            noted = noted_entry_problem(noted_pruned, start, problem, zone)
            assert noted is not None  # older than the anchor: it always has something to say
            return AuditCheck(
                0, None, None, broken_id=noted_pruned[0], problem=noted, starts_after=start
            )
        if problem is not None:
            assert first_id is not None  # only an entry of the chain records an anchor
            # Where the chain starts is in doubt, so nothing after it counts as checked.
            return AuditCheck(
                0, None, None, broken_id=first_id, problem=problem, starts_after=start
            )
        if not anchor_seen:
            assert anchor is not None
            return AuditCheck(
                checked,
                last_id,
                last_hash,
                broken_id=anchor[0],
                problem="the entry noted earlier is gone: entries were removed from the end",
                starts_after=start,
            )
        return AuditCheck(checked, last_id, last_hash, starts_after=start)

    # -- internals ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self, *, grows: bool = True) -> AsyncIterator[AsyncConnection]:
        """A write transaction. Rule: its FIRST statement must write. ``grows=False``: it only
        changes rows in place (``WriteHealth.watch``).

        SQLite then takes its single write lock at that statement, waiting up to the busy
        timeout for another writer, and holds it to the commit (which is also what keeps
        ``max(seq)`` stable). A transaction that read first and wrote later would instead fail
        at once (SQLITE_BUSY_SNAPSHOT) whenever another connection had written in between.
        """
        watched = self._writes.watch(grows=grows)
        if self._write_turn is None:
            async with watched, self._engine.begin() as conn:
                yield conn
            return
        async with self._write_turn.exclusive(), watched, self._engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _bounded_transaction(
        self, operation: str, *, budget_s: float | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """:meth:`_transaction`, waiting for this process's other writers and SQLite's lock
        together at most ``budget_s`` (by default the busy timeout,
        ``engine.SQLITE_BUSY_TIMEOUT_MS``), then ``StoreUnavailable``; on PostgreSQL,
        :meth:`_transaction` itself.

        For keeping rejected input, which a request waits for: with another process holding
        SQLite's lock, the pooled writers of this process queued at the write turn fail one
        after the other, each after its own busy timeout, and a refused event behind two of
        them was answered 503 after 45 s, where a valid one (a hot write) got its 503 after
        15 s. What is left of the wait once the turn is had is the connection's busy timeout
        for this transaction (set before its first statement, which must still be the write:
        a pragma reads nothing), and the usual one again after it."""
        if self._write_turn is None:
            async with self._transaction() as conn:
                yield conn
            return
        budget = sqlite_engine.SQLITE_BUSY_TIMEOUT_MS / 1000 if budget_s is None else budget_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        async with AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(budget):
                    await stack.enter_async_context(self._write_turn.exclusive())
            except TimeoutError:
                failure = StoreUnavailable(
                    f"{operation} failed (SQLITE_BUSY: this engine's other writers waited "
                    f"{budget:g} s for the store's write lock before it)"
                )
                failure.code = "SQLITE_BUSY"
                raise failure from None
            left_ms = max(1, round((deadline - loop.time()) * 1000))
            async with self._engine.connect() as conn:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={left_ms}")
                await conn.commit()  # SQLAlchemy's own begin only: the pragma took no lock
                try:
                    async with self._writes.watch(), conn.begin():
                        yield conn
                finally:
                    try:
                        await conn.exec_driver_sql(
                            f"PRAGMA busy_timeout={sqlite_engine.SQLITE_BUSY_TIMEOUT_MS}"
                        )
                        await conn.commit()
                    except Exception:  # never back to the pool with a shorter wait
                        await conn.invalidate()

    def _hot_turn(self) -> AbstractAsyncContextManager[None]:
        """A hot write's turn: shared with the other hot writes (``write_turn``)."""
        return nullcontext() if self._write_turn is None else self._write_turn.shared()

    def _attempt_update(
        self,
        attempt: AttemptRecord,
        status: str,
        next_attempt_at: datetime | None,
        last_error: str | None,
    ) -> dict[str, Any]:
        _require_aware(attempt.started_at, "started_at")
        return {
            "b_id": attempt.message_id,
            "b_status": MessageStatus(status).value,
            "b_attempt_count": attempt.number,
            "b_updated_at": self._now(),
            "b_next_attempt_at": _require_aware(next_attempt_at, "next_attempt_at"),
            "b_last_error": seal_last_error(last_error, attempt.message_id, self._sealer),
        }

    def _now(self) -> datetime:
        now = _require_aware(self._clock(), "the clock's time")
        assert now is not None
        return now


_SQLITE_WRITE_LOCK = text("UPDATE messages SET seq = seq WHERE 0")
"""Writes nothing, but as a write it takes SQLite's one write lock (waiting its turn)."""


def _postgres_hot_writes(engine: AsyncEngine) -> PostgresHotWrites:
    """PostgreSQL's hot writes, imported with the backend: asyncpg (about 25 ms to import) is
    not loaded by a command that reads an embedded store."""
    from integrator.store.pg_hot_writes import PostgresHotWrites

    return PostgresHotWrites(engine)


async def _writers_turn(conn: AsyncConnection, schema: str | None) -> None:
    """Wait for every other writer of this kind to commit, and hold the turn to the commit, so
    that what this transaction reads next is what they left (a check, then a write on it).

    PostgreSQL: the audit chain's lock, which every audited change takes before it appends
    (``append_audit``), taken first. SQLite: a write as the transaction's first statement
    (``_transaction``'s rule), so that its read is not of a snapshot another process's
    commit then makes stale; with one engine the store's own turn serialises it already.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(lock_key(schema))))
    else:
        await conn.execute(_SQLITE_WRITE_LOCK)


async def _removed_destinations(conn: AsyncConnection, destination_ids: set[str]) -> set[str]:
    """Those of ``destination_ids`` whose newest recorded revision is their removal (a
    destination with no history recorded is taken as it is configured: in service)."""
    newest = (
        select(
            destination_revisions.c.destination_id,
            func.max(destination_revisions.c.revision).label("revision"),
        )
        .where(destination_revisions.c.destination_id.in_(sorted(destination_ids)))
        .group_by(destination_revisions.c.destination_id)
        .subquery()
    )
    rows = await conn.execute(
        select(destination_revisions.c.destination_id)
        .join(
            newest,
            and_(
                destination_revisions.c.destination_id == newest.c.destination_id,
                destination_revisions.c.revision == newest.c.revision,
            ),
        )
        .where(destination_revisions.c.action == history_actions.REMOVE)
    )
    return {row.destination_id for row in rows}


async def _resends_of(conn: AsyncConnection, message_id: str) -> list[ResendRecord]:
    """The resends made of ``message_id``, oldest first: one order for the listing and for the
    check at a resend's commit (``add_resends``' guards), so what a person was shown as the
    newest is what the check takes for it."""
    rows = await conn.execute(
        select_resends()
        .where(resends.c.original_id == message_id)
        .order_by(resends.c.at, resends.c.message_id)
    )
    return [resend_record(row) for row in rows]


async def _family_links(conn: AsyncConnection, message_ids: Sequence[str]) -> list[ResendLink]:
    """``Store.resend_family`` on a connection (also inside a write transaction)."""
    found: dict[str, ResendLink] = {}
    asked: set[str] = set()
    frontier = set(message_ids)
    while frontier:
        asked |= frontier
        ids = sorted(frontier)
        following: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            result = await conn.execute(
                select(
                    messages.c.id,
                    messages.c.seq,
                    messages.c.resend_of,
                    messages.c.destination_id,
                    messages.c.status,
                ).where(messages.c.id.in_(chunk) | messages.c.resend_of.in_(chunk))
            )
            for row in result:
                if row.id in found:
                    continue
                found[row.id] = ResendLink(
                    row.id, row.seq, row.resend_of, row.destination_id, row.status
                )
                following.add(row.id)
                if row.resend_of is not None:
                    following.add(row.resend_of)
        frontier = following - asked
    return sorted(found.values(), key=lambda link: link.seq)


async def _why_unchanged(conn: AsyncConnection, message_id: str) -> StoreError:
    """Why an update of one message by id changed no row: it is unknown, or (with a status
    condition) it is in another status now."""
    found = await conn.execute(select(messages.c.status).where(messages.c.id == message_id))
    status = found.scalar_one_or_none()
    return UnknownMessage(message_id) if status is None else StatusChanged(message_id, status)


MIGRATE_TRIES = 6


async def _migrate_when_free(engine: AsyncEngine, schema: str | None) -> bool:
    """Migrate, trying again when SQLite answers busy without waiting; True when the store was
    made now, in an empty database.

    SQLite skips its busy handler in a few cases (a fresh file switching to WAL while another
    process opens it, WAL recovery), so processes starting together can see SQLITE_BUSY at once.
    """
    for attempt in range(MIGRATE_TRIES):
        try:
            return await _migrate(engine, schema)
        except StoreUnavailable as exc:
            if attempt == MIGRATE_TRIES - 1 or not waiting_helps(exc.code):
                raise
            await asyncio.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


@guarded("migrate the store schema")
async def _migrate(engine: AsyncEngine, schema: str | None) -> bool:
    """Upgrade unless the store is at head already, which a plain read tells without Alembic;
    True when the database was empty and the store is made now.

    An empty database gets the head schema in one transaction instead
    (``integrator.store.sqlite_head``, ``integrator.store.postgres_head``).

    The read needs no lock: a migration commits its schema and its revision in one transaction,
    so a store that reads as at head has all of it. Any other revision (none, older, unknown) takes
    the locked upgrade, which looks again under the lock.
    """
    async with engine.connect() as conn:
        revision = await stored_revision(conn)
    if revision == HEAD_REVISION:
        return False
    if revision is None and await _create_if_empty(engine, schema):
        return True
    if revision is not None and PRESENCE_SINCE <= revision < HEAD_REVISION:
        await _refuse_while_engines_run(engine, revision)
    from alembic.util import CommandError

    from integrator.store.migrate import upgrade_to_head

    try:
        before = await upgrade_to_head(engine, schema)
    except CommandError:
        # E.g. the database was migrated by newer code: this code does not know its revision.
        raise StoreError(
            f"the database schema is at a revision this version does not know ({revision}; "
            f"this version knows up to {HEAD_REVISION}): a newer version migrated it. Run that "
            "version, or restore the backup made before the upgrade (docs/deploy.md, Going back)"
        ) from None
    if before is not None and before != HEAD_REVISION:
        # When the store changed shape, and by which command: the line of the process that did.
        # A warning, so that a command says it too (commands log warnings only): a read or a dry
        # run of a new version migrated a restored old store without a word.
        _log.warning("store schema migrated", from_revision=before, to_revision=HEAD_REVISION)
    return False


async def _refuse_while_engines_run(engine: AsyncEngine, revision: str) -> None:
    """Refuse to migrate an older store while an engine runs on it (its heartbeat is fresh).

    Any command of a newer version migrates the store it opens, a read too. With an engine of
    the old version still running, that engine went on writing rows of the old shape into the
    new schema (a resend without its family root, which a migration had filled in for the rows
    there were), and the new version's own counts then disagreed for good.
    """
    async with engine.connect() as conn:
        running = await engines_running_at(conn, datetime.now(UTC), revision=revision)
    if running:
        who = "; ".join(running)
        raise EnginesStillRunning(
            f"the store is at revision {revision} and this version migrates it to "
            f"{HEAD_REVISION}, but {counted(len(running), 'engine')} still "
            f"{'runs' if len(running) == 1 else 'run'} on it ({who}): "
            "stop every engine of the old version first, then start one of this version "
            "(docs/deploy.md, Upgrades); an engine that crashed stops counting "
            f"{int(FRESH_FOR.total_seconds())} s after its last heartbeat (on this machine, "
            "at once)"
        )


async def _create_if_empty(engine: AsyncEngine, schema: str | None) -> bool:
    """The head schema made at once in an empty database; False when it is not empty."""
    if engine.dialect.name == "sqlite":
        from integrator.store import sqlite_head

        return await sqlite_head.create_if_empty(engine)
    from integrator.store import postgres_head

    return await postgres_head.create_if_empty(engine, schema)


def _message_row(
    event_id: str, message: NewMessage, now: datetime, sealer: Sealer
) -> dict[str, Any]:
    return {
        "id": message.id,
        "event_id": event_id,
        "destination_id": message.destination_id,
        "version": message.version,
        "message_type": message.message_type,
        "control_id": message.control_id,
        "payload": sealer.seal(bytes(message.payload), aad("messages", "payload", message.id)),
        "status": MessageStatus(message.status).value,
        "attempt_count": 0,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": None,
        "last_error": None,
        # Most messages have none: "[]" is what dump_json gives, without the encoder's set-up.
        "warnings": dump_json(list(message.warnings)) if message.warnings else "[]",
        "is_test": message.is_test,
        "resend_of": message.resend_of,
    }


def _filter_terms(flt: MessageFilter) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if flt.zd_number is not None:
        terms.append(events.c.zd_number == flt.zd_number)
    if flt.event_id is not None:
        terms.append(messages.c.event_id == flt.event_id)
    if flt.destination_id is not None:
        terms.append(messages.c.destination_id == flt.destination_id)
    if flt.status is not None:
        terms.append(messages.c.status == MessageStatus(flt.status).value)
    if flt.version is not None:
        terms.append(messages.c.version == flt.version)
    if flt.control_id is not None:
        terms.append(messages.c.control_id == flt.control_id)
    if flt.since is not None:
        terms.append(messages.c.created_at >= _require_aware(flt.since, "since"))
    if flt.until is not None:
        terms.append(messages.c.created_at < _require_aware(flt.until, "until"))
    if flt.changed_since is not None:
        terms.append(messages.c.updated_at >= _require_aware(flt.changed_since, "changed_since"))
    if flt.changed_until is not None:
        terms.append(messages.c.updated_at < _require_aware(flt.changed_until, "changed_until"))
    if flt.event_type is not None:
        terms.append(events.c.type == flt.event_type)
    if flt.bsn_hash is not None:
        terms.append(events.c.bsn_hash == flt.bsn_hash)
    if flt.originals_only:
        terms.append(messages.c.resend_of.is_(None))
    if flt.statuses is not None:
        terms.append(messages.c.status.in_([MessageStatus(s).value for s in flt.statuses]))
    if flt.destination_ids is not None:
        terms.append(messages.c.destination_id.in_(sorted(flt.destination_ids)))
    if flt.unresolved_only:
        terms.append(no_later_member_delivered())
    return terms


def _routed(*event_ids: str) -> Update:
    """Clear the unrouted mark of these events, in the transaction that adds their messages:
    an event with a message is routed (``EventFilter.unrouted``). Only marked rows are
    written."""
    return (
        update(events)
        .where(events.c.id.in_(sorted(event_ids)), events.c.unrouted)
        .values(unrouted=False)
    )


def _reads_events(terms: Sequence[ColumnElement[bool]]) -> bool:
    """Whether any of these terms names a column of ``events`` (then it must be joined)."""
    return any(
        isinstance(element, Column) and element.table is events
        for term in terms
        for element in visitors.iterate(term)
    )


def _require_aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value


def _row_id(row: dict[str, Any]) -> str:
    identifier: str = row["id"]
    return identifier


def _event_after(after: ListedEvent | None, oldest_first: bool) -> list[ColumnElement[bool]]:
    """The keyset term of ``list_events``: the events that come after ``after`` in its order."""
    if after is None:
        return []
    at, event_id = events.c.received_at, events.c.id
    # The bound on ``received_at`` alone first: an index range the planner can start from (an
    # OR of the two alone made SQLite walk the index from the newest event on every page).
    if oldest_first:
        return [at >= after.received_at, or_(at > after.received_at, event_id > after.id)]
    return [at <= after.received_at, or_(at < after.received_at, event_id < after.id)]


async def _one_snapshot(conn: AsyncConnection) -> AsyncConnection:
    """``conn`` with every read from here on in one snapshot of the store, until it closes.

    PostgreSQL reads committed data per statement unless the transaction is REPEATABLE READ
    (its snapshot is taken at the first statement); SQLite's driver begins no transaction for
    a SELECT, so each statement reads the newest state unless one is begun (in WAL mode a read
    transaction's snapshot is taken at its first read). Neither blocks a writer: a prune goes
    on deleting, the walk keeps seeing the trail as it was. The price, for as long as a walk
    lasts: PostgreSQL's vacuum keeps the rows deleted meanwhile, and SQLite's checkpoint stops
    at the snapshot (the WAL file grows until the walk ends).
    """
    if conn.dialect.name == "postgresql":
        return await conn.execution_options(isolation_level="REPEATABLE READ")
    await conn.exec_driver_sql("BEGIN")
    return conn


def _link_problem(row: Any, prev: str) -> str | None:
    """Why this entry does not follow the entry whose hash is ``prev``, if it does not."""
    if row.prev_hash != prev:
        return (
            "its link to the entry before does not match: "
            "an entry was removed, inserted or moved here"
        )
    return None


def _content_problem(row: Any, dialect: str) -> str | None:
    """Why this entry's content does not match its hash, if it does not."""
    digest = entry_hash(
        row.prev_hash, row.id, row.at, row.actor, row.action, row.target, row.reason, row.details
    )
    if digest != row.hash:
        return "its content does not match its hash: the entry was edited (or renumbered)"
    if dialect == "sqlite" and not _SQLITE_TIME.fullmatch(row.at_stored):
        # The hash is of the moment, so the same moment written with an offset hashed alike;
        # but the periods (--since, the NEN 7513 summary) compare the stored text, and such
        # an entry moved out of the day it happened on.
        return "its time is not written as the store writes times (UTC, no offset): edited"
    return None


_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{6})?")
"""A time as a SQLite store holds it (``UTCDateTime``): UTC, without an offset, fixed width."""


def _details_have(key: str, value: str) -> ColumnElement[bool]:
    """Details (compact JSON, see ``dump_json``) holding ``"key":"value"`` somewhere."""
    return _details_contain(dump_json({key: value})[1:-1])


def _details_name(value: str) -> ColumnElement[bool]:
    """Details naming ``value`` as a JSON string anywhere: under any key, or in a list.

    For a message id, which is unique, so whatever names it is about it: a resend names its new
    message (``resend_id``), a routing each message it made (``message_id``), a try-now the
    retries it moved (a list under ``messages``)."""
    return _details_contain(dump_json(value))


def _details_contain(needle: str) -> ColumnElement[bool]:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return audit_log.c.details.like(f"%{escaped}%", escape="\\")


def _audit_terms(flt: AuditFilter) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if flt.actor is not None:
        terms.append(audit_log.c.actor == flt.actor)
    if flt.action is not None:
        terms.append(audit_log.c.action == flt.action)
    if flt.target is not None:
        terms.append(audit_log.c.target == flt.target)
    if flt.message is not None:
        terms.append(or_(audit_log.c.target == flt.message, _details_name(flt.message)))
    if flt.destination is not None:
        terms.append(
            or_(
                audit_log.c.target == flt.destination,
                _details_have("destination", flt.destination),
            )
        )
    if flt.bsn_hash is not None:
        patient_events = select(events.c.id).where(events.c.bsn_hash == flt.bsn_hash)
        patient_messages = select(messages.c.id).where(messages.c.event_id.in_(patient_events))
        terms.append(
            or_(
                _details_have("bsn_hash", flt.bsn_hash),
                audit_log.c.target.in_(patient_events),
                audit_log.c.target.in_(patient_messages),
            )
        )
    if flt.since is not None:
        terms.append(audit_log.c.at >= _require_aware(flt.since, "since"))
    if flt.until is not None:
        terms.append(audit_log.c.at < _require_aware(flt.until, "until"))
    return terms


def _newest_about(
    target: str, among: Collection[str], before: int | None = None, limit: int = 1
) -> Any:
    """The newest entries about ``target`` among these actions (before entry ``before``)."""
    terms = [audit_log.c.target == target, audit_log.c.action.in_(list(among))]
    if before is not None:
        terms.append(audit_log.c.id < before)
    return select(audit_log).where(*terms).order_by(audit_log.c.id.desc()).limit(limit)


_CONCERNING_PAGE = 20
"""Entries read at a time while passing over those ``concerning`` leaves out: usually the
first is the one, and the entries it leaves out are few (one per distinct refused file)."""


async def _newest_concerning(
    conn: AsyncConnection,
    target: str,
    among: Collection[str],
    concerning: Callable[[AuditRecord], bool] | None,
    before: int | None = None,
) -> AuditRecord | None:
    """The newest entry about ``target`` among these actions that ``concerning`` keeps."""
    while True:
        page = _CONCERNING_PAGE if concerning is not None else 1
        rows = (await conn.execute(_newest_about(target, among, before, page))).all()
        for row in rows:
            record = audit_record(row)
            if concerning is None or concerning(record):
                return record
        if len(rows) < page:
            return None
        before = rows[-1].id


class _Repeated(Exception):
    """Rolls back an audit entry that would only repeat the one before it."""


IdKind = Literal["message", "event", "rejected"]
"""The ids a listing shortens that ``Store.unique_prefix_length`` knows."""


def _shared_start(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` start with alike."""
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared
