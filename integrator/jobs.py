"""Batch jobs of the running engine (``POST /api/v1/resend``), with progress for the caller.

Jobs and their progress are rows in the store, so ``GET /api/v1/jobs/{id}`` answers after a
restart, and on any engine of a shared PostgreSQL store. A job is not resumed: one that was
running when its engine stopped or died is marked ``interrupted``, its ``done`` being how far
it got: what its stopping engine counted after its last committed chunk, or, for an engine that
died, its work as the store counts it, since the progress it wrote every ``PROGRESS_EVERY``
seconds may lag behind its commits. A resend job's ``done`` is then the resends it made: queued
messages already (each with its audit entry), published chunk by chunk, that go out as usual;
the rest of the selection was not resent, and running the same selection again skips what the
interrupted job did (the resend rules see the live resends). A discard job's is the dead
letters it discarded, by their audit entries (each names the job), or its progress when that
says more (it also counts those it skipped): never less than it said while it ran.

While a job runs, its engine writes the progress (at most every ``PROGRESS_EVERY`` seconds)
and a heartbeat. Each job names its engine by that engine's presence row
(``integrator.presence``): a ``running`` job whose engine is gone (its row removed or stale, or
that of a process gone from this machine: killed, and restarted at once) belonged to an engine
that died, and is shown, and at the next engine start marked, as interrupted, at once. So is
one whose heartbeat is older than ``STALE_AFTER`` (a job kept from before engines were named).
A store only one engine runs on (SQLite, or the embedded transport, whose queues are in its
engine's memory: ``presence.refuse_disagreeing`` admits no other engine beside it) has no
other engine's jobs, so its start marks every job still running.

Without a store (``JobRegistry()``) the registry keeps jobs in memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from integrator.access.permissions import Permission
from integrator.clock import Clock, SystemClock
from integrator.errors import IntegratorError
from integrator.logging import get_logger
from integrator.presence import engines_seen
from integrator.store.jobs import DISCARD_JOB, RESEND_JOB, ROUTE_JOB, interrupted_because

if TYPE_CHECKING:
    from integrator.store import Store
    from integrator.store.jobs import JobRow

log = get_logger("integrator.jobs")

JOB_PERMISSIONS: dict[str, Permission] = {
    RESEND_JOB: Permission.MESSAGES_RESEND,
    ROUTE_JOB: Permission.EVENTS_ROUTE,
    DISCARD_JOB: Permission.DEADLETTERS_DISCARD,
}
"""The permission a job's work needs, in each of its clusters: who may read the job. A kind
missing here is read by nobody (``GET /api/v1/jobs/{id}``), rather than by everyone."""
KEEP = 200  # finished jobs kept in memory; the store keeps them all
PROGRESS_EVERY = 1.0  # seconds between progress writes of a running job
HEARTBEAT_EVERY = 30.0  # seconds between heartbeats of a job that makes no progress
STALE_AFTER = timedelta(minutes=5)


@dataclass
class Job:
    id: str
    kind: str
    total: int
    done: int = 0
    state: str = "running"  # running | done | failed | interrupted
    error: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The clusters of the destinations the job works on: only who holds the permission in all
    # of them sees the job (``GET /api/v1/jobs/{id}``). None stands for "no cluster".
    clusters: frozenset[str | None] = frozenset()
    # The ZD number a resend job selected nothing by: ``GET /api/v1/jobs/{id}`` says where
    # that referral went instead, for its reader. None for every other job.
    unmatched_zd: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "results": self.results if self.state != "running" else [],
        }


def _from_row(row: JobRow, *, orphaned: bool) -> Job:
    """The job a row says; ``orphaned``: it is ``running`` and no engine runs it any more."""
    state, error, done = row.state, row.error, row.done
    if orphaned:
        state, error = "interrupted", interrupted_because(row.kind)
    return Job(
        id=row.id,
        kind=row.kind,
        total=row.total,
        done=done,
        state=state,
        error=error,
        results=row.results,
        created_at=row.created_at,
        clusters=row.clusters,
        unmatched_zd=row.unmatched_zd,
    )


def failure_said(exc: Exception) -> str:
    """Why a job failed, as ``GET /api/v1/jobs/{id}`` says it: the engine's own errors name
    fields, keys and rules only, so their text is said; a foreign one's text may quote what it
    was working on (a driver's parameters, a payload's value: patient data), so only its type
    is, as the API's answer to an unexpected error says nothing of it."""
    if isinstance(exc, IntegratorError):
        return f"{type(exc).__name__}: {exc}"
    return f"internal error ({type(exc).__name__})"


class JobStopped(IntegratorError):
    """A job's work ended early on purpose, with what it did: the job is ``interrupted`` with
    this text as its error and ``results`` (the steps done) as its results, as a job whose
    engine stopped is. Raised when whoever started it may no longer do what it does (a token
    revoked meanwhile): the rest is not done under their name."""

    def __init__(self, why: str, results: list[dict[str, Any]]) -> None:
        super().__init__(why)
        self.results = results


class JobRegistry:
    """The jobs of one engine; ``store`` is asked for lazily (the engine opens it at start),
    as is ``engine``: the presence id of the engine (None: it has none), which each job it
    starts records, and whose jobs ``recover`` leaves alone."""

    def __init__(
        self,
        store: Callable[[], Store] | None = None,
        clock: Clock | None = None,
        engine: Callable[[], str | None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock or SystemClock()
        self._engine = engine or (lambda: None)
        self._jobs: dict[str, Job] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def get(self, job_id: str) -> Job | None:
        """This engine's own running or recent job, else the store's row."""
        job = self._jobs.get(job_id)
        if job is not None or self._store is None:
            return job
        store = self._store()
        row = await store.get_job(job_id)
        if row is None:
            return None
        job = _from_row(row, orphaned=await self._orphaned(store, row))
        if job.state == "interrupted" and row.state == "running":
            # Its engine died: the progress it last wrote may lag behind what it committed
            # (written every PROGRESS_EVERY seconds, not with each chunk), so count its work in
            # the store, as the next start's ``interrupt_jobs`` will.
            job.done = await _committed(store, job, row.created_at)
        return job

    async def _orphaned(self, store: Store, row: JobRow) -> bool:
        """Whether ``row`` is a ``running`` job that no engine runs: its heartbeat is stale,
        or the engine it names is gone (``integrator.presence.engines_seen``)."""
        if row.state != "running":
            return False
        if row.heartbeat_at < self._clock.now() - STALE_AFTER:
            return True
        if row.engine_id is None or row.engine_id == self._engine():
            return False
        return (await engines_seen(store)).gone(row.engine_id)

    async def start(
        self,
        kind: str,
        total: int,
        work: Callable[[Job], Awaitable[list[dict[str, Any]]]],
        *,
        clusters: frozenset[str | None] = frozenset({None}),
        unmatched_zd: str | None = None,
    ) -> Job:
        """Store the job, then run ``work`` in the background; the job as it starts.
        ``unmatched_zd``: the ZD number a resend job's selection found nothing by."""
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind,
            total=total,
            clusters=clusters,
            created_at=self._clock.now(),
            unmatched_zd=unmatched_zd,
        )
        if self._store is not None:
            await self._store().add_job(
                job.id,
                kind=kind,
                total=total,
                clusters=clusters,
                now=job.created_at,
                engine_id=self._engine(),
                unmatched_zd=unmatched_zd,
            )
        self._jobs[job.id] = job
        self._forget_old()
        task = asyncio.create_task(self._run(job, work), name=f"job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))
        return job

    async def recover(self, *, single_engine: bool) -> int:
        """Mark jobs left running by an engine that stopped without finishing them, with
        ``done`` as the store counts their work (``Store.interrupt_jobs``).

        ``single_engine`` (SQLite, or the embedded transport): every running job but this
        engine's own is such a job. Otherwise other engines' jobs run on, and only those whose
        engine is gone (``integrator.presence.engines_seen``) or whose heartbeat is stale are.
        """
        if self._store is None:
            return 0
        store = self._store()
        now = self._clock.now()
        own = self._engine()
        if single_engine:
            marked = await store.interrupt_jobs(
                now=now, stale_before=now, every=True, own_engine=own
            )
        else:
            seen = await engines_seen(store)
            marked = await store.interrupt_jobs(
                now=now,
                stale_before=now - STALE_AFTER,
                engines_seen_since=seen.seen_since,
                dead_engines=seen.crashed,
                own_engine=own,
            )
        if marked:
            log.warning("jobs interrupted by an engine stop marked", jobs=marked)
        return marked

    async def wait(self) -> None:
        """Wait for running jobs (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop running jobs, marking them interrupted with what they did (engine stop)."""
        running = list(self._tasks.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _run(self, job: Job, work: Callable[[Job], Awaitable[list[dict[str, Any]]]]) -> None:
        beat = asyncio.create_task(self._beat(job), name=f"job-{job.id}-progress")
        try:
            job.results = await work(job)
            job.state = "done"
        except JobStopped as stopped:
            job.state, job.error, job.results = "interrupted", str(stopped), stopped.results
            log.warning("job stopped", job_id=job.id, kind=job.kind, done=job.done)
        except asyncio.CancelledError:
            job.state, job.error = "interrupted", interrupted_because(job.kind)
            if self._store is not None:
                # Its progress moves after a chunk is handed on and its starter asked again;
                # stopped in between, the chunk is committed and ``done`` lagged behind it:
                # "done 0" after 200 resends, which a person would then make again.
                with contextlib.suppress(Exception):  # the next start counts it then
                    job.done = await _committed(self._store(), job, job.created_at)
            await self._finish(job, beat)
            raise
        except Exception as exc:  # the caller reads why from the job
            job.state = "failed"
            job.error = failure_said(exc)
            log.error("job failed", job_id=job.id, kind=job.kind, error_type=type(exc).__name__)
        await self._finish(job, beat)

    async def _finish(self, job: Job, beat: asyncio.Task[None]) -> None:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        if self._store is None:
            return
        try:
            await self._store().finish_job(
                job.id,
                state=job.state,
                done=job.done,
                results=job.results,
                error=job.error,
                now=self._clock.now(),
            )
        except Exception as exc:  # the next start marks it interrupted
            log.error("job result not stored", job_id=job.id, error_type=type(exc).__name__)

    async def _beat(self, job: Job) -> None:
        """Write the job's progress when it moved, and a heartbeat now and then."""
        if self._store is None:
            return
        written, quiet = 0, 0.0
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            quiet += PROGRESS_EVERY
            if job.done == written and quiet < HEARTBEAT_EVERY:
                continue
            try:
                await self._store().job_progress(job.id, done=job.done, now=self._clock.now())
                written, quiet = job.done, 0.0
            except Exception as exc:  # progress is advisory; the work goes on
                log.warning("job progress not stored", job_id=job.id, error=type(exc).__name__)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[job.id]


async def _committed(store: Store, job: Job, created_at: datetime) -> int:
    """How far ``job`` got by what it committed, which its progress may lag behind: the resends
    it made, the dead letters it discarded, never fewer than its progress said (which counts
    what it skipped too); another kind keeps its progress."""
    if job.kind == RESEND_JOB:
        return max(job.done, await store.job_resends(job.id))
    if job.kind == DISCARD_JOB:
        return max(job.done, await store.job_discards(job.id, created_at))
    return job.done
