"""The store's side of destination versioning: one row per change, numbered per destination.

Kept apart from the message tables' code because it changes for other reasons (operators, not
delivery). The whole definition is stored with each revision, so any revision can be restored.

Recording a change is also where the revision check of ``DestinationAdmin`` is decided, for
every process at once. A change is made to revision N (the one a form or an API client read,
or the last one) and records N + 1, and the unique (destination_id, revision) index (there
since migration 0002) lets only one row be N + 1: of two changes made to N, by one engine, two
CLIs or engines on two hosts, one records N + 1 and the other is refused (``RevisionTaken``).
``recording_destination_revision`` inserts that row as the first statement of its transaction
and keeps the transaction open while the caller writes the destination's file, committing
after. A second change made to N meanwhile waits at its own insert (PostgreSQL for the
uncommitted key, SQLite for its single write lock) until the first has committed, and fails
then, before it has written anything. So a destination's file is written by one change at a
time, only by the change that holds the next revision, and its row commits after the file is
written or not at all.

Why here and not a lock on the file: the file and the store are the two things a change writes,
and only the store is certainly shared by everything that changes destinations. Engines on
several hosts share the destinations directory over a network file system, where file locks are
not to be relied on (docs/deploy.md, "Scaling out"), and they already share one database. The
index makes the check and the write one step at the point both must agree on, without a lock
anyone could forget to take or leave behind after a crash.

A hand edit the engine records (``add_destination_revision_if_changed``) is written with its
audit entry in the one transaction that records its revision: the unique index that lets one
engine record it also lets one engine audit it, however many watch the same directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.counting import counted
from integrator.store.audit_chain import append_audit, audit_row, lock_key
from integrator.store.codec import dump_json, load_json
from integrator.store.errors import RevisionTaken, StoreError
from integrator.store.failures import diagnose, guarded, translate
from integrator.store.last_attempts import wanted_destinations
from integrator.store.sealing import Sealer
from integrator.store.status_writes import set_each
from integrator.store.tables import destination_revisions, messages


@dataclass(frozen=True, slots=True)
class DestinationRevision:
    destination_id: str
    revision: int
    at: datetime
    actor: str
    action: str
    config: dict[str, Any] | None  # None: the destination was removed
    diff: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class RevisionAudit:
    """The audit entry a revision is recorded with, in the revision's own transaction.

    Its target is the destination and its ``details`` get the revision's number (``revision``),
    which only that transaction knows.
    """

    actor: str
    action: str
    details: Mapping[str, Any]


@dataclass(slots=True)
class WaitingDeadLettered:
    """What a removal does with the messages still waiting for its destination (in
    ``statuses``), in the transaction that records it: each becomes a dead letter with
    ``last_error`` (``force``; else one waiting refuses the removal, :class:`MessagesWaiting`),
    and the audit entry ``action`` says so (target the destination; ``details`` after
    ``revision`` and ``dead_lettered``). Counted there, and not before: a resend committed
    between a count made earlier and the removal's commit waited for a destination no file
    defines, sent by nothing; now one committed before the count is counted, and one after it
    waits for the removal's commit and is skipped (``Store.add_resends``).

    ``dead_lettered``: how many, set by the store when the removal is recorded."""

    statuses: tuple[str, ...]
    last_error: str
    force: bool
    actor: str
    action: str
    reason: str | None
    details: Mapping[str, Any]
    dead_lettered: int = 0


class MessagesWaiting(Exception):
    """A removal without ``force`` found messages waiting for its destination in its own
    transaction (committed since it was checked): nothing was recorded."""

    def __init__(self, destination_id: str, count: int) -> None:
        wait = "waits" if count == 1 else "wait"
        super().__init__(f"{counted(count, 'message')} {wait} for destination {destination_id}")
        self.destination_id = destination_id
        self.count = count


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer

    @property
    def schema(self) -> str | None: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def _now(self) -> datetime: ...


class DestinationHistoryMixin:
    @asynccontextmanager
    async def recording_destination_revision(
        self: _StoreParts,
        destination_id: str,
        *,
        after: int,
        actor: str,
        action: str,
        config: dict[str, Any] | None,
        diff: str,
        reason: str | None = None,
        keep: bool = True,
        waiting: WaitingDeadLettered | None = None,
    ) -> AsyncIterator[int]:
        """Record revision ``after + 1`` for the length of the ``async with`` block; yields it.

        ``after`` is the revision the change was made to (0: none yet). ``RevisionTaken`` at
        the start, having recorded nothing, when that is not the last one recorded any more
        (another change was recorded since), or when another change made to it is being
        recorded this moment (raised once that one has committed). The block is where the
        caller writes the destination's file: the row commits when the block ends, or is rolled
        back if the block raises, so the file and the history say the same. ``keep=False``
        rolls the row back at the end anyway: a file rewritten without a new definition (a
        refused file put right) is written under the same turn and records nothing.

        ``waiting`` (a removal): the messages waiting for the destination are counted and
        dead-lettered, with their audit entry, in this transaction, before the block; see
        :class:`WaitingDeadLettered`. ``MessagesWaiting`` (nothing recorded) when one waits and
        the removal is not forced.
        """
        number = after + 1
        row = {
            "destination_id": destination_id,
            "revision": number,
            "at": self._now(),
            "actor": actor,
            "action": action,
            "config": None if config is None else dump_json(config),
            "diff": diff,
            "reason": reason,
        }
        in_block: BaseException | None = None
        failure: StoreError | None = None
        try:
            async with self._transaction() as conn:
                if not await _claim(conn, row):
                    raise RevisionTaken(destination_id, number)
                if waiting is not None:
                    await _dead_letter_waiting(self, conn, destination_id, number, waiting)
                try:
                    yield number
                except BaseException as error:
                    in_block = error
                    raise
                if not keep:
                    raise _RollBack
        except _RollBack:
            pass
        except (sa_exc.SQLAlchemyError, OSError) as error:
            if error is in_block:
                raise  # the caller's own failure (its file), not the store's
            failure = translate("record a destination change", error)
        if failure is not None:
            raise failure  # outside the except block: driver text is never chained

    @guarded("read destination history")
    async def has_destination_history(self: _StoreParts) -> bool:
        """Whether any destination was ever recorded: a store in use, not a new one."""
        query = select(destination_revisions.c.revision).limit(1)
        async with self._engine.connect() as conn:
            return (await conn.scalar(query)) is not None

    @guarded("read destination history")
    async def count_destination_revisions(self: _StoreParts) -> int:
        """How many revisions are recorded, of all destinations. Rows are only ever added, so
        a reader of :meth:`providers_in_destination_history` knows by this count alone that
        nothing was recorded since its last read, without reading every definition again."""
        async with self._engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(destination_revisions))
        return int(count or 0)

    @guarded("read destination history")
    async def providers_in_destination_history(self: _StoreParts) -> frozenset[str]:
        """Every provider id a recorded revision of any destination names, a removed one's
        too: ids an operator wrote, not ones upstream sent, which is what may become a label of
        the unrouted-events metric (``integrator.metrics.provider_label``)."""
        query = select(destination_revisions.c.config).where(
            destination_revisions.c.config.is_not(None)
        )
        async with self._engine.connect() as conn:
            configs = (await conn.scalars(query)).all()
        named: set[str] = set()
        for config in configs:
            providers = load_json(config).get("providers")
            if isinstance(providers, list):
                named.update(p for p in providers if isinstance(p, str))
        return frozenset(named)

    @guarded("read destination history")
    async def last_destination_revision(self: _StoreParts, destination_id: str) -> int:
        """The number of the last revision recorded; 0 when there is none."""
        query = select(func.coalesce(func.max(destination_revisions.c.revision), 0)).where(
            destination_revisions.c.destination_id == destination_id
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    @guarded("record a destination change")
    async def add_destination_revision_if_changed(
        self: _StoreParts,
        destination_id: str,
        *,
        actor: str,
        action: str,
        config: dict[str, Any] | None,
        diff: str,
        audit: RevisionAudit | None = None,
        reason: str | None = None,
    ) -> int | None:
        """Append a revision unless the last one holds this exact definition (None then).

        ``config`` None records the destination's removal: nothing (None) when it has no
        revision or its last one removed it already. ``audit``: the entry written with the
        revision, in its transaction, so that it is written exactly when the revision is.

        The check and the insert share one transaction, so engines recording the same file at
        once record it once: the later one sees the earlier's row, or loses on the unique
        (destination, revision) index and gets ``Conflict``; so does a recording that meets a
        change being recorded (``recording_destination_revision``) from another process.
        """
        async with self._transaction() as conn:
            last = (
                await conn.execute(
                    select(destination_revisions.c.revision, destination_revisions.c.config)
                    .where(destination_revisions.c.destination_id == destination_id)
                    .order_by(destination_revisions.c.revision.desc())
                    .limit(1)
                )
            ).first()
            last_config = None if last is None or last.config is None else load_json(last.config)
            if last_config == config:  # None == None: nothing recorded, or removed already
                return None
            number = 1 if last is None else int(last.revision) + 1
            at = self._now()
            await conn.execute(
                insert(destination_revisions).values(
                    destination_id=destination_id,
                    revision=number,
                    at=at,
                    actor=actor,
                    action=action,
                    config=None if config is None else dump_json(config),
                    diff=diff,
                    reason=reason,
                )
            )
            if audit is not None:
                entry = audit_row(
                    at,
                    audit.actor,
                    audit.action,
                    destination_id,
                    reason=reason,
                    details={**audit.details, "revision": number},
                )
                await append_audit(conn, [entry], schema=self.schema)
        return number

    @guarded("read destination history")
    async def last_destination_definitions(self: _StoreParts) -> dict[str, dict[str, Any]]:
        """The last recorded definition of every destination whose last revision did not
        remove it: what the store says is in service, to tell a file deleted by hand."""
        last = (
            select(
                destination_revisions.c.destination_id,
                func.max(destination_revisions.c.revision).label("revision"),
            )
            .group_by(destination_revisions.c.destination_id)
            .subquery()
        )
        query = select(destination_revisions.c.destination_id, destination_revisions.c.config).join(
            last,
            and_(
                destination_revisions.c.destination_id == last.c.destination_id,
                destination_revisions.c.revision == last.c.revision,
            ),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.destination_id: load_json(row.config) for row in rows if row.config is not None}

    @guarded("read destination history")
    async def list_destination_revisions(
        self: _StoreParts, destination_id: str
    ) -> list[DestinationRevision]:
        """Oldest first."""
        query = (
            select(destination_revisions)
            .where(destination_revisions.c.destination_id == destination_id)
            .order_by(destination_revisions.c.revision)
        )
        async with self._engine.connect() as conn:
            return [_record(row) for row in await conn.execute(query)]

    @guarded("read destination history")
    async def newest_destination_revisions_while(
        self: _StoreParts,
        destination_id: str,
        keep_going: Callable[[DestinationRevision], bool],
        *,
        page: int = 8,
    ) -> list[DestinationRevision]:
        """The newest revisions, oldest first, back to the first one ``keep_going`` refuses
        (included) or the first of all: read ``page`` at a time from the newest, along the
        ``(destination_id, revision)`` index, for a question about the end of a history (who
        paused a destination that is paused now) that reading every revision at every view of
        the destination answered too (one paused and resumed daily gains two a day)."""
        table = destination_revisions
        found: list[DestinationRevision] = []
        below: int | None = None
        async with self._engine.connect() as conn:
            while True:
                query = select(table).where(table.c.destination_id == destination_id)
                if below is not None:
                    query = query.where(table.c.revision < below)
                rows = (
                    await conn.execute(query.order_by(table.c.revision.desc()).limit(page))
                ).all()
                for row in rows:
                    revision = _record(row)
                    found.append(revision)
                    if not keep_going(revision):
                        return found[::-1]
                if len(rows) < page:
                    return found[::-1]
                below = rows[-1].revision

    @guarded("read destination history")
    async def last_destination_revisions(
        self: _StoreParts, destination_ids: Sequence[str]
    ) -> dict[str, DestinationRevision]:
        """The last revision of each of ``destination_ids`` that has one (also one that
        removed it): what ``list_destination_revisions(d)[-1]`` gives, for them all in one
        statement, each the last entry of its range of the ``(destination_id, revision)``
        index. Reading the catalog asked each destination for its whole history, one
        round trip a destination (a destination paused and resumed daily gains two a day)."""
        if not destination_ids:
            return {}
        wanted = wanted_destinations(list(destination_ids), self._engine.dialect.name)
        last = (
            select(
                destination_revisions.c.destination_id,
                func.max(destination_revisions.c.revision).label("revision"),
            )
            .where(destination_revisions.c.destination_id.in_(select(wanted.c.value)))
            .group_by(destination_revisions.c.destination_id)
            .subquery()
        )
        query = select(destination_revisions).join(
            last,
            and_(
                destination_revisions.c.destination_id == last.c.destination_id,
                destination_revisions.c.revision == last.c.revision,
            ),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.destination_id: _record(row) for row in rows}

    @guarded("read destination history")
    async def last_clusters_outside(
        self: _StoreParts, in_service: Collection[str]
    ) -> dict[str, str | None]:
        """The cluster of the last recorded definition of every destination with a history
        that is not one of ``in_service`` (removed through the tools, or its file deleted by
        hand), by id; None for a definition without a cluster.

        Its messages and dead letters stay in the store, and lie in that cluster
        (``integrator.clusters``): support of that cluster reads them, as the removal's
        result page promises. One statement; only the definitions of the destinations outside
        ``in_service`` are read and parsed (a removed one's are few)."""
        columns = destination_revisions.c
        last = (
            select(columns.destination_id, func.max(columns.revision).label("revision"))
            .where(columns.config.is_not(None))
            .group_by(columns.destination_id)
        )
        if in_service:
            kept = wanted_destinations(sorted(in_service), self._engine.dialect.name)
            last = last.where(columns.destination_id.not_in(select(kept.c.value)))
        defined = last.subquery()
        query = select(columns.destination_id, columns.config).join(
            defined,
            and_(
                columns.destination_id == defined.c.destination_id,
                columns.revision == defined.c.revision,
            ),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        clusters: dict[str, str | None] = {}
        for row in sorted(rows, key=lambda r: str(r.destination_id)):
            cluster = load_json(row.config).get("cluster")
            clusters[row.destination_id] = cluster if isinstance(cluster, str) else None
        return clusters

    @guarded("read destination history")
    async def get_destination_revision(
        self: _StoreParts, destination_id: str, revision: int
    ) -> DestinationRevision | None:
        query = select(destination_revisions).where(
            destination_revisions.c.destination_id == destination_id,
            destination_revisions.c.revision == revision,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _record(row)


class _RollBack(Exception):
    """Ends a recording's transaction without committing it (``keep=False``)."""


async def _dead_letter_waiting(
    store: _StoreParts,
    conn: AsyncConnection,
    destination_id: str,
    revision: int,
    waiting: WaitingDeadLettered,
) -> None:
    """Count the messages waiting for a destination being removed and dead-letter them, with
    the entry saying so, in the removal's transaction (:class:`WaitingDeadLettered`)."""
    if conn.dialect.name == "postgresql":
        # The writers' turn (the audit chain's lock), held to the commit: a resend takes it
        # before it reads whether its destination was removed (``add_resends``), so one that
        # has it commits before this count, and one after waits and then sees the removal.
        # SQLite: the revision's insert took the one write lock already.
        await conn.execute(select(func.pg_advisory_xact_lock(lock_key(store.schema))))
    ids = list(
        await conn.scalars(
            select(messages.c.id)
            .where(
                messages.c.destination_id == destination_id,
                messages.c.status.in_(waiting.statuses),
            )
            .order_by(messages.c.id)
        )
    )
    if ids and not waiting.force:
        raise MessagesWaiting(destination_id, len(ids))
    now = store._now()
    dead = {"status": "dead", "next_attempt_at": None, "updated_at": now}
    await set_each(conn, ids, dead, waiting.last_error, store._sealer)
    entry = audit_row(
        now,
        waiting.actor,
        waiting.action,
        destination_id,
        reason=waiting.reason,
        details={"revision": revision, "dead_lettered": len(ids), **waiting.details},
    )
    await append_audit(conn, [entry], schema=store.schema)
    waiting.dead_lettered = len(ids)


async def _claim(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Insert ``row`` if its revision is the next one: False if it is not, nothing inserted.

    The insert is the transaction's first statement, so it also takes SQLite's write lock. It
    fails on the unique index when the revision is recorded already, or, after waiting for it,
    when another transaction has just recorded it. The max below then checks that it follows
    the last one recorded: a change made to a revision the history does not end at (there are
    later ones, or it is ahead of the last) never records one either.
    """
    try:
        await conn.execute(insert(destination_revisions).values(**row))
    except sa_exc.IntegrityError as error:
        if diagnose(error).kind != "unique":
            raise
        return False
    before = await conn.scalar(
        select(func.coalesce(func.max(destination_revisions.c.revision), 0)).where(
            destination_revisions.c.destination_id == row["destination_id"],
            destination_revisions.c.revision != row["revision"],
        )
    )
    follows: bool = int(before or 0) == row["revision"] - 1
    return follows


def _record(row: Any) -> DestinationRevision:
    return DestinationRevision(
        destination_id=row.destination_id,
        revision=row.revision,
        at=row.at,
        actor=row.actor,
        action=row.action,
        config=None if row.config is None else load_json(row.config),
        diff=row.diff,
        reason=row.reason,
    )
