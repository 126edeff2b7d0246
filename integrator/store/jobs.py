"""The store's side of batch jobs: a row per job with its progress, read after a restart.

A job's work (each resend) is written by its own transactions; these rows only tell the caller
how far it got. ``heartbeat_at`` moves while the job's engine lives, so a job still marked
``running`` whose heartbeat stopped belonged to an engine that died. ``engine_id`` names that
engine by its presence row (``integrator.store.presence``), so a job whose engine is gone is
known at once, without waiting for its heartbeat to age.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.failures import guarded
from integrator.store.tables import audit_log, engine_presence, jobs, resends

RESEND_JOB = "resend"
"""The kind of job whose work is resends (``resends.job_id``)."""
ROUTE_JOB = "route"
"""Routing events to the destinations that serve them now (``POST /api/v1/events/route``)."""
DISCARD_JOB = "discard"
"""Discarding dead letters in bulk (``POST /api/v1/deadletters/discard``)."""
DISCARD_ACTION = "deadletter.discard"
"""The audit action of a discarded dead letter (``deadletter.letters``): one entry each,
written in the transaction that discards it."""
JOB_DETAIL = "job"
"""The key of a discard's audit details that names the discard job doing it: on the entry of
each dead letter the job was asked to discard, so the store counts what the job did."""

_STOPPED = "the engine stopped while the job ran; "
INTERRUPTED_BECAUSE: dict[str, str] = {
    RESEND_JOB: _STOPPED + "the resends it made stay queued",
    ROUTE_JOB: _STOPPED + "the messages it made stay queued",
    DISCARD_JOB: _STOPPED
    + "the dead letters it discarded stay discarded, each audited; the same request again "
    "discards the rest",
}
"""What an interrupted job of each kind says about the work it did before it stopped."""


def interrupted_because(kind: str) -> str:
    return INTERRUPTED_BECAUSE.get(kind, _STOPPED + "what it did before stays done")


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    kind: str
    state: str  # running | done | failed | interrupted
    total: int
    done: int
    error: str | None
    results: list[dict[str, Any]]
    clusters: frozenset[str | None]
    created_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    engine_id: str | None = None
    """The presence id of the engine running it; None for a job from before that was kept."""
    unmatched_zd: str | None = None
    """The ZD number a resend job selected nothing by; None for every other job."""


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def _discards(job_id: ColumnElement[str], created_at: ColumnElement[datetime]) -> ScalarSelect[int]:
    """How many dead letters the job discarded, each by its audit entry naming it
    (``JOB_DETAIL``, compact JSON as the store writes details: ``"job":"<id>"``). Written in the
    transaction of each discard, so none is missed and none counted twice. A JSON string's own
    quotes are escaped (``\\"``), so only the key itself matches; job ids are UUIDs, with
    nothing ``LIKE`` reads as a wildcard. Only the entries from the job's start on are read
    (``ix_audit_log_at``), not the whole trail: both times are the engine's clock."""
    key = f'"{JOB_DETAIL}":"'  # dump_json writes no space after the colon
    return (
        select(func.count())
        .select_from(audit_log)
        .where(
            audit_log.c.action == DISCARD_ACTION,
            audit_log.c.at >= created_at,
            audit_log.c.details.like(literal("%" + key) + job_id + literal('"%')),
        )
        .scalar_subquery()
    )


def _clusters_json(clusters: frozenset[str | None]) -> str:
    # None ("no cluster") sorts first; JSON keeps it as null.
    return json.dumps(sorted(clusters, key=lambda c: (c is not None, c or "")))


class JobsMixin:
    @guarded("store a job")
    async def add_job(
        self: _StoreParts,
        job_id: str,
        *,
        kind: str,
        total: int,
        clusters: frozenset[str | None],
        now: datetime,
        engine_id: str | None = None,
        unmatched_zd: str | None = None,
    ) -> None:
        """``engine_id``: the presence id of the engine that runs it (None: an engine without
        a presence row, as in tests, whose job only its heartbeat tells dead).
        ``unmatched_zd``: the ZD number a resend job's selection was made by, when it found
        nothing (``JobRow.unmatched_zd``)."""
        async with self._transaction() as conn:
            await conn.execute(
                insert(jobs).values(
                    id=job_id,
                    kind=kind,
                    state="running",
                    total=total,
                    done=0,
                    error=None,
                    results="[]",
                    clusters=_clusters_json(clusters),
                    created_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                    engine_id=engine_id,
                    unmatched_zd=unmatched_zd,
                )
            )

    @guarded("record a job's progress")
    async def job_progress(self: _StoreParts, job_id: str, *, done: int, now: datetime) -> None:
        """Note progress (and that the job's engine lives) while the job runs."""
        async with self._transaction() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state == "running")
                .values(done=done, heartbeat_at=now)
            )

    @guarded("finish a job")
    async def finish_job(
        self: _StoreParts,
        job_id: str,
        *,
        state: str,
        done: int,
        results: Sequence[dict[str, Any]],
        error: str | None,
        now: datetime,
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    state=state,
                    done=done,
                    results=json.dumps(list(results), ensure_ascii=False, default=str),
                    error=error,
                    heartbeat_at=now,
                    finished_at=now,
                )
            )

    @guarded("read a job")
    async def get_job(self: _StoreParts, job_id: str) -> JobRow | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
        if row is None:
            return None
        return JobRow(
            id=row.id,
            kind=row.kind,
            state=row.state,
            total=row.total,
            done=row.done,
            error=row.error,
            results=json.loads(row.results),
            clusters=frozenset(json.loads(row.clusters)),
            created_at=row.created_at,
            heartbeat_at=row.heartbeat_at,
            finished_at=row.finished_at,
            engine_id=row.engine_id,
            unmatched_zd=row.unmatched_zd,
        )

    @guarded("count a job's resends")
    async def job_resends(self: _StoreParts, job_id: str) -> int:
        """The resends a job made: each one committed with its ``job_id`` (queued messages).

        What an interrupted resend job's ``done`` is: its own progress row is written now and
        then, not with each chunk, so it may lag behind what the job committed.
        """
        query = select(func.count()).select_from(resends).where(resends.c.job_id == job_id)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    @guarded("count a job's discards")
    async def job_discards(self: _StoreParts, job_id: str, created_at: datetime) -> int:
        """The dead letters a discard job (begun at ``created_at``) discarded as asked, counted
        by their audit entries: its progress row may lag behind them, as a resend job's."""
        query = select(_discards(literal(job_id), literal(created_at, jobs.c.created_at.type)))
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    @guarded("mark interrupted jobs")
    async def interrupt_jobs(
        self: _StoreParts,
        *,
        now: datetime,
        stale_before: datetime,
        every: bool = False,
        engines_seen_since: datetime | None = None,
        dead_engines: Collection[str] = (),
        own_engine: str | None = None,
    ) -> int:
        """Mark the ``running`` jobs no engine runs any more interrupted: a resend job's
        ``done`` set to the resends it made (each of those is a queued message); a discard
        job's to the dead letters it discarded, by their audit entries, unless its progress
        says more (it also counts those it skipped, or found closed by an earlier one's chain);
        another kind (routing) keeps the progress it wrote.

        A job of ``own_engine`` (the caller's) is never one of them. Of the others: with
        ``every`` (a store only one engine runs on), each one; otherwise one whose heartbeat
        is older than ``stale_before``, or whose engine is gone: named in ``dead_engines``, or
        with no presence row seen at or after ``engines_seen_since``. The engine's presence is
        read in the same statement as the jobs, so a job that an engine started after
        registering is never taken for one of a gone engine.
        """
        made = (
            select(func.count())
            .select_from(resends)
            .where(resends.c.job_id == jobs.c.id)
            .scalar_subquery()
        )
        discarded = _discards(jobs.c.id, jobs.c.created_at)
        orphaned: ColumnElement[bool] = jobs.c.heartbeat_at < stale_before
        if every:
            orphaned = true()
        if dead_engines:
            orphaned = or_(orphaned, jobs.c.engine_id.in_(sorted(dead_engines)))
        if engines_seen_since is not None:
            present = exists().where(
                engine_presence.c.id == jobs.c.engine_id,
                engine_presence.c.heartbeat_at >= engines_seen_since,
            )
            orphaned = or_(orphaned, jobs.c.engine_id.is_not(None) & ~present)
        where = [jobs.c.state == "running", orphaned]
        if own_engine is not None:
            where.append(or_(jobs.c.engine_id.is_(None), jobs.c.engine_id != own_engine))
        async with self._transaction() as conn:
            result = await conn.execute(
                update(jobs)
                .where(*where)
                .values(
                    state="interrupted",
                    done=case(
                        (jobs.c.kind == RESEND_JOB, made),
                        (and_(jobs.c.kind == DISCARD_JOB, discarded > jobs.c.done), discarded),
                        else_=jobs.c.done,
                    ),
                    error=case(
                        *(
                            (jobs.c.kind == kind, text)
                            for kind, text in INTERRUPTED_BECAUSE.items()
                        ),
                        else_=interrupted_because(""),
                    ),
                    finished_at=now,
                )
            )
            return int(result.rowcount)

    @guarded("find old jobs")
    async def old_jobs(
        self: _StoreParts, *, before: datetime, after_id: str, limit: int
    ) -> list[str]:
        """Jobs that ended before ``before``, by id after ``after_id`` (retention)."""
        query = (
            select(jobs.c.id)
            .where(jobs.c.state != "running", jobs.c.finished_at < before, jobs.c.id > after_id)
            .order_by(jobs.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    @guarded("delete old jobs")
    async def delete_jobs(self: _StoreParts, job_ids: Sequence[str], *, before: datetime) -> int:
        if not job_ids:
            return 0
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(jobs).where(
                    jobs.c.id.in_(list(job_ids)),
                    jobs.c.state != "running",
                    jobs.c.finished_at < before,
                )
            )
            return int(result.rowcount)
