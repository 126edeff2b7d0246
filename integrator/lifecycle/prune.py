"""Pruning: which data is past its retention period, and emptying it in batches.

One decision for the dry run and the real run: both walk the same candidates in the same
batches and apply the same rules; the real run then writes each batch in one transaction,
the dry run only counts. What is never pruned:

- a message that may still be sent: queued, sending, retrying or held;
- a message with a resend still in delivery (the resend carries its own copy, but support
  follows the link while it is under way);
- a dead letter that is neither resolved (a later resend was delivered) nor discarded: support
  still needs it;
- an event with any message not pruned, or with no message at all (it waits to be routed)
  until its own period (``unrouted_days``) ends: then its JSON goes and it leaves the unrouted
  list;
- an audit entry after one that is not past its period, and the newest entry (the chain is
  only ever cut at its start: ``integrator.store.audit_prune``);
- anything at all while a running engine keeps some kind longer than these periods
  (``integrator.lifecycle.agreement``): the run is refused before it starts. The dry run
  changes nothing, so it goes ahead and counts by these periods, and its report names those
  engines (``kept_longer``, ``warning``): the real run would be refused.

The console's one-time confirmations (``console_confirmations``) and its kept searches by BSN
(``console_searches``) and answers to form posts (``console_answers``) have no retention
period: each expires by itself (a confirmation 12 hours after its form was shown, a search or
an answer minutes after it was made), nor have the API's
idempotency keys (``idempotency_keys``, a day after their request): every run deletes the
expired ones, whatever the periods say. Console sessions (``sessions``) go the same way, whatever
the periods, ``SESSION_DAYS`` after they ended (``retention.SESSION_DAYS`` says why); a live one
is never touched.

Audit entries go last, after the data they describe. A real run that finds anything to look at
is audited before its first batch (``data.prune_start``, with how many rows it will look at and
the periods) and at its end (``data.prune``, with its counts); one that finds nothing, only at
its end, and the daily run not at all then. The first entry is what a run killed outright
(SIGKILL, the machine going down) leaves: its committed batches are gone, and the trail says
who began pruning them, when and by which periods. Each batch of
audit entries deleted also writes, in its own transaction, a ``data.prune_audit`` entry with
the anchor it left (``integrator.store.audit_prune``), so the chain covers the anchor from the
moment it moves.

A run can be asked to stop (``stop``: the command's signals, ``integrator.interruptions``) or
be cancelled (the engine's daily run at shutdown). It stops between two batches, each already
committed, and still writes its ``data.prune`` entry, with the counts so far and
``"stopped": true``: nothing is pruned without the audit trail saying so, and a run after it
prunes (and counts) the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from deadletter.family import Families
from integrator.errors import IntegratorError
from integrator.lifecycle.agreement import (
    KeptLonger,
    dry_run_warning,
    engines_keeping_longer,
    refuse_if_engines_keep_longer,
)
from integrator.lifecycle.retention import SESSION_DAYS, Retention
from integrator.lifecycle.room import free_on, is_full, sized
from integrator.presenters import iso_time
from integrator.store import Store
from integrator.store.audit_prune import RUN_ACTION
from integrator.store.errors import StoreError

PRUNE_ACTION = RUN_ACTION
START_ACTION = "data.prune_start"
BATCH = 500
KINDS = (
    "messages",
    "dead_letters",
    "events",
    "unrouted",
    "rejected",
    "jobs",
    "confirmations",
    "searches",
    "answers",
    "idempotency_keys",
    "sessions",
    "audit",
)
"""What a prune counts: delivered messages' payloads; dead letters' payloads, once resolved (a
later resend was delivered) or discarded (``cancelled``); event payloads; the payloads of
events no destination served (``unrouted``, by their own period); rejected input
and finished batch jobs (both deleted; jobs after the payload period); expired console
confirmations, kept searches and kept answers to form posts, and the API's expired
idempotency keys (all deleted); console sessions ended ``SESSION_DAYS`` ago (deleted); audit
entries (deleted, oldest first)."""

Progress = Callable[[int, int], None]


class _Stopped(Exception):
    """Raised between two batches once ``stop`` says so; ``prune`` catches it."""


@dataclass
class PruneReport:
    dry_run: bool
    retention: Retention
    at: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    space: str | None = None
    file_bytes: tuple[int, int] | None = None
    """The SQLite store file's size before and after the space was given back: what a prune
    said it did ("incremental_vacuum") read as bytes freed, where emptied payloads that leave
    part-filled pages free none. None on PostgreSQL, or when nothing was given back."""
    free_bytes: int | None = None
    """Bytes free on the store file's disk after the run: what ``--vacuum`` would need."""
    old_pages_left: bool = False
    """A reader (a backup, an export) kept the SQLite store's checkpoint from finishing: the
    pruned values may stay in its files until the engine's own checkpoints, or the next prune
    (every real run ends with one), copy the pages back."""
    stopped: bool = False
    """Asked to stop (or cancelled) before the end: ``counts`` is what was pruned until then."""
    kept_longer: tuple[KeptLonger, ...] = ()
    """A dry run's: the running engines that keep some kind longer, for which the real run
    would be refused (a real run is refused instead, so its report never has any)."""

    @property
    def warning(self) -> str | None:
        """The dry run's warning that the real run would be refused; None when it would not."""
        return dry_run_warning(self.kept_longer)

    @property
    def space_said(self) -> str | None:
        """What was given back, in bytes; when nothing was, that ``--vacuum`` rewrites the file
        and how much room that needs and has. PostgreSQL reuses the space itself."""
        if self.space is None:
            return None
        if self.file_bytes is None:
            return f"{self.space} (the database reuses the space of pruned rows)"
        before, after = self.file_bytes
        if after < before:
            return f"{self.space}: gave back {sized(before - after)} (store file {sized(after)})"
        free = "" if self.free_bytes is None else f"; {sized(self.free_bytes)} free there now"
        return (
            f"{self.space}: gave back nothing (store file {sized(after)}): pruned values left "
            "part-filled pages. `integrator prune --vacuum` rewrites the file, needing about "
            f"{sized(after)} free on its disk{free}"
        )

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """``at`` in ``zone`` if given (the CLI gives the engine's, as for every time it prints)."""
        return {
            "dry_run": self.dry_run,
            "at": iso_time(self.at, zone),
            "retention": self.retention.to_json(),
            "counts": dict(self.counts),
            "space": self.space,
            "file_bytes_before": None if self.file_bytes is None else self.file_bytes[0],
            "file_bytes_after": None if self.file_bytes is None else self.file_bytes[1],
            "space_said": self.space_said,
            "old_pages_left": self.old_pages_left,
            "stopped": self.stopped,
            "warning": self.warning,
            "kept_longer": [kept.to_json(zone) for kept in self.kept_longer],
        }


async def prune(
    store: Store,
    retention: Retention,
    *,
    now: datetime,
    actor: str,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
    audit_empty: bool = True,
    vacuum: bool = False,
    stop: Callable[[], bool] | None = None,
    zone: tzinfo | None = None,
) -> PruneReport:
    """Prune (or, with ``dry_run``, count) what is past its period at ``now``.

    ``audit_empty``: audit a run that pruned nothing too (an operator's run is worth a line;
    the daily run's empty days are not). ``vacuum``: give space back with a full ``VACUUM``
    (SQLite) instead of the incremental one. ``stop``: asked before each batch; once it says
    True the run ends there, audits what it did with ``"stopped": true`` and returns a report
    saying ``stopped``. Cancelled (``asyncio``), it audits the same before it ends. ``zone``:
    the one a refusal or warning says a time in (the command line's, ``INTEGRATOR_TIMEZONE``).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    # Before anything is counted or changed: a running engine keeping a kind longer refuses
    # the real run; the dry run, which changes nothing, counts and says so.
    kept: list[KeptLonger] = []
    if dry_run:
        kept = await engines_keeping_longer(store, retention, zone=zone)
    else:
        await refuse_if_engines_keep_longer(store, retention, zone=zone)
    report = PruneReport(dry_run=dry_run, retention=retention, at=now, kept_longer=tuple(kept))
    walk = _Walk(store, report, batch=batch, now=now, progress=progress, stop=stop)
    try:
        await _walk_all(store, retention, walk, now=now, actor=actor)
    except _Stopped:
        report.stopped = True
    except asyncio.CancelledError:
        # The engine stopping: what the committed batches pruned is still said, then it ends.
        report.stopped = True
        if not dry_run and (report.total or walk.started):
            await _record(store, report, actor=actor, retention=retention)
        raise
    if dry_run:
        return report
    path = store.sqlite_file()
    before = _file_size(path)
    no_room: VacuumNeedsRoom | None = None
    if (report.total or vacuum) and not report.stopped:
        try:
            report.space = await store.reclaim_space(full=vacuum)
        except StoreError as exc:
            if not (vacuum and path is not None and is_full(exc, path.parent)):
                raise
            # The pruned rows are committed: recorded below, then the rewrite is said.
            no_room = VacuumNeedsRoom(path, before)
            report.space = "none: the disk is full"
    if not report.stopped:
        # Every real run, also one that found nothing: a run after a reader kept the last
        # one's checkpoint short finishes it (the pruned values out of the files too).
        report.old_pages_left = not await store.without_old_pages()
    after = _file_size(path)
    if report.space is not None and path is not None and before is not None and after is not None:
        # Measured after the checkpoint: in WAL mode the file shrinks only then.
        report.file_bytes = (before, after)
        report.free_bytes = free_on(path.parent)
    # A run that said it began always says how it ended, so a start alone means it was killed.
    if report.total or audit_empty or walk.started:
        await _record(store, report, actor=actor, retention=retention)
    if no_room is not None:
        raise no_room
    return report


class VacuumNeedsRoom(IntegratorError):
    """``--vacuum`` could not rewrite a SQLite store for lack of room on its disk (exit 1).

    SQLite's "database or disk is full" said neither how much room the rewrite needs (about the
    file's size, for the copy it writes beside it) nor how much there is. What the run pruned
    is committed and recorded all the same."""

    def __init__(self, path: Path, size: int | None) -> None:
        free = free_on(path.parent)
        needs = "about the store file's size" if size is None else f"about {sized(size)}"
        has = "" if free is None else f"; {sized(free)} free there now"
        super().__init__(
            f"--vacuum rewrites the store file {path} and needs {needs} free on the disk of "
            f"{path.parent}{has}: free some space there (or move the store to a larger disk) "
            "and run `integrator prune --vacuum` again; what this run pruned is kept and "
            "recorded"
        )


def _file_size(path: Path | None) -> int | None:
    try:
        return None if path is None else path.stat().st_size
    except OSError:
        return None


async def _walk_all(
    store: Store, retention: Retention, walk: _Walk, *, now: datetime, actor: str
) -> None:
    payload_before = retention.cutoff(retention.payload_days, now)
    dead_before = retention.cutoff(retention.dead_letter_days, now)
    rejected_before = retention.cutoff(retention.rejected_days, now)
    unrouted_before = retention.cutoff(retention.unrouted_days, now)
    audit_before = retention.cutoff(retention.audit_days, now)
    walk.total = await store.count_past_retention(
        payload_before=payload_before,
        dead_before=dead_before,
        rejected_before=rejected_before,
        unrouted_before=unrouted_before,
    )
    walk.total += await store.count_expired_confirmations(now=now)
    walk.total += await store.count_expired_console_searches(now=now)
    walk.total += await store.count_expired_console_answers(now=now)
    walk.total += await store.count_expired_idempotency_keys(now=now)
    walk.total += await store.count_ended_sessions(before=sessions_before(now))
    if audit_before is not None:
        walk.total += await store.count_old_audit(before=audit_before)
    # The trail as the run found it: neither its start entry nor its batches' own entries make
    # the newest entry it found prunable, so the dry run counts what the real run prunes.
    newest = await store.newest_audit_id() if audit_before is not None else None
    if walk.total and not walk.dry_run:
        await _record_start(store, walk, actor=actor, retention=retention)
    if payload_before is not None:
        await walk.messages(payload_before)
    if dead_before is not None:
        await walk.dead_letters(dead_before)
    if payload_before is not None:
        await walk.events(payload_before)
    if unrouted_before is not None:
        await walk.unrouted(unrouted_before)
    if rejected_before is not None:
        await walk.rejected(rejected_before)
    if payload_before is not None:
        await walk.jobs(payload_before)
    await walk.confirmations()
    await walk.searches()
    await walk.answers()
    await walk.idempotency_keys()
    await walk.sessions(sessions_before(now))
    if audit_before is not None:
        await walk.audit(audit_before, actor=actor, newest=newest)


def sessions_before(now: datetime) -> datetime:
    """A console session that ended before this time is pruned (``SESSION_DAYS``)."""
    return now - timedelta(days=SESSION_DAYS)


async def _record_start(store: Store, walk: _Walk, *, actor: str, retention: Retention) -> None:
    """The run's ``data.prune_start`` entry, before its first batch: all a run killed outright
    leaves of it in the trail."""
    details: dict[str, Any] = {"candidates": walk.total, "retention": retention.to_json()}
    await store.add_audit(actor, START_ACTION, "store", reason="retention", details=details)
    walk.started = True


async def _record(store: Store, report: PruneReport, *, actor: str, retention: Retention) -> None:
    """The run's ``data.prune`` entry. The anchor is recorded by each audit batch's own entry,
    in its transaction; read here, apart, it could be one another prune has moved since."""
    details: dict[str, Any] = {"counts": report.counts, "retention": retention.to_json()}
    if report.stopped:
        details["stopped"] = True
    await store.add_audit(actor, PRUNE_ACTION, "store", reason="retention", details=details)


class _Walk:
    """One pass over the candidates of each kind, batch by batch, keyed so it never repeats."""

    def __init__(
        self,
        store: Store,
        report: PruneReport,
        *,
        batch: int,
        now: datetime,
        progress: Progress | None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        self._store = store
        self._stop = stop
        self._report = report
        self._batch = batch
        self._now = now
        self._progress = progress
        self._seen = 0
        self.total = 0
        self.started = False  # its ``data.prune_start`` entry is written
        # The dry run prunes no message, yet an event is decided as if it had.
        self._would_prune: set[str] = set()

    @property
    def dry_run(self) -> bool:
        return self._report.dry_run

    async def messages(self, before: datetime) -> None:
        after = 0
        while True:
            found = await self._store.retention_candidates(
                ("delivered",), before=before, after_seq=after, limit=self._batch
            )
            if not found:
                return
            await self._apply("messages", [c.id for c in found])
            self._advance(len(found))
            after = found[-1].seq

    async def dead_letters(self, before: datetime) -> None:
        after = 0
        while True:
            found = await self._store.retention_candidates(
                ("dead", "cancelled"), before=before, after_seq=after, limit=self._batch
            )
            if not found:
                return
            # Discarded (cancelled): closed by support when it was discarded, its last change.
            due = [c.id for c in found if c.status == "cancelled"]
            dead = [c.id for c in found if c.status == "dead"]
            families = await Families.load(self._store, dead)
            resolved_by = {
                dead_id: resolution.resolved_by
                for dead_id in dead
                if (resolution := families.resolution(dead_id)).resolved_by is not None
            }
            delivered_at = await self._store.updated_times(list(resolved_by.values()))
            due += [
                dead_id
                for dead_id, by in resolved_by.items()
                if by in delivered_at and delivered_at[by] < before
            ]
            await self._apply("dead_letters", due)
            self._advance(len(found))
            after = found[-1].seq

    async def events(self, before: datetime) -> None:
        after = ""
        while True:
            found = await self._store.events_before(
                before=before, after_id=after, limit=self._batch
            )
            if not found:
                return
            due = [
                event_id
                for event_id, members in found.items()
                if all(pruned or m in self._would_prune for m, pruned in members)
            ]
            if due:
                if self._report.dry_run:
                    self._report.counts["events"] += len(due)
                else:
                    self._report.counts["events"] += await self._store.prune_events(due, self._now)
            self._advance(len(found))
            after = next(reversed(found))

    async def unrouted(self, before: datetime) -> None:
        await self._by_id(
            "unrouted",
            lambda after: self._store.unrouted_before(
                before=before, after_id=after, limit=self._batch
            ),
            lambda found: self._store.prune_unrouted(found, self._now),
        )

    async def rejected(self, before: datetime) -> None:
        await self._by_id(
            "rejected",
            lambda after: self._store.old_rejected(
                before=before, after_id=after, limit=self._batch
            ),
            lambda found: self._store.delete_rejected(found, before=before),
        )

    async def jobs(self, before: datetime) -> None:
        await self._by_id(
            "jobs",
            lambda after: self._store.old_jobs(before=before, after_id=after, limit=self._batch),
            lambda found: self._store.delete_jobs(found, before=before),
        )

    async def _by_id(
        self,
        kind: str,
        find: Callable[[str], Awaitable[list[str]]],
        apply: Callable[[list[str]], Awaitable[int]],
    ) -> None:
        """A kind whose rows are found a batch at a time by id (``find``, after the last id
        of the batch before) and pruned or deleted by id (``apply``; the dry run counts)."""
        after = ""
        while True:
            found = await find(after)
            if not found:
                return
            if self._report.dry_run:
                self._report.counts[kind] += len(found)
            else:
                self._report.counts[kind] += await apply(found)
            self._advance(len(found))
            after = found[-1]

    async def confirmations(self) -> None:
        """The console's confirmations expired by now: no period of their own, each has its
        expiry. Few rows (the forms of the last hours), so one statement, not batches."""
        if self._report.dry_run:
            count = await self._store.count_expired_confirmations(now=self._now)
        else:
            count = await self._store.delete_expired_confirmations(now=self._now)
        self._report.counts["confirmations"] += count
        self._advance(count)

    async def searches(self) -> None:
        """The console's kept searches by BSN expired by now: as the confirmations, each has
        its expiry and no period; the rows of minutes, so one statement."""
        if self._report.dry_run:
            count = await self._store.count_expired_console_searches(now=self._now)
        else:
            count = await self._store.delete_expired_console_searches(now=self._now)
        self._report.counts["searches"] += count
        self._advance(count)

    async def answers(self) -> None:
        """The console's kept answers to form posts expired by now: as the kept searches, each
        has its expiry (minutes) and no period, so one statement."""
        if self._report.dry_run:
            count = await self._store.count_expired_console_answers(now=self._now)
        else:
            count = await self._store.delete_expired_console_answers(now=self._now)
        self._report.counts["answers"] += count
        self._advance(count)

    async def idempotency_keys(self) -> None:
        """The API's idempotency keys expired by now (``integrator.idempotency``): as the
        confirmations, each has its expiry and no period; a day's keyed requests, one statement."""
        if self._report.dry_run:
            count = await self._store.count_expired_idempotency_keys(now=self._now)
        else:
            count = await self._store.delete_expired_idempotency_keys(now=self._now)
        self._report.counts["idempotency_keys"] += count
        self._advance(count)

    async def sessions(self, before: datetime) -> None:
        """Console sessions that ended before ``before``: in batches, as their first prune
        finds every session ever opened (a few a day a person, for years)."""
        await self._by_id(
            "sessions",
            lambda after: self._store.ended_sessions(
                before=before, after_id=after, limit=self._batch
            ),
            lambda found: self._store.delete_ended_sessions(found, before=before),
        )

    async def audit(self, before: datetime, *, actor: str, newest: int | None) -> None:
        after = 0
        while True:
            found = await self._store.old_audit(
                before=before, after_id=after, limit=self._batch, newest=newest
            )
            if not found:
                return
            if self._report.dry_run:
                self._report.counts["audit"] += len(found)
            else:
                self._report.counts["audit"] += await self._store.prune_audit(
                    found, self._now, actor=actor
                )
            self._advance(len(found))
            if len(found) < self._batch:  # the run of old entries ended here
                return
            after = found[-1]

    async def _apply(self, kind: str, message_ids: list[str]) -> None:
        if not message_ids:
            return
        if self._report.dry_run:
            self._would_prune.update(message_ids)
            self._report.counts[kind] += len(message_ids)
        else:
            self._report.counts[kind] += await self._store.prune_messages(message_ids, self._now)

    def _advance(self, rows: int) -> None:
        """After each batch (committed): tell the progress bar, then stop here if asked."""
        self._seen += rows
        if self._progress is not None:
            self._progress(self._seen, max(self.total, self._seen))
        if self._stop is not None and self._stop():
            raise _Stopped
