"""Batches committed together when they arrive together: one store transaction for the
events of several concurrent intake calls.

Why: an HTTP caller posts one event per request. Each in a transaction of its own costs the
SQLite writer about three times per event what a transaction of ten does (its BEGIN, its
commit, its hand-over to the writer thread and back), and concurrent requests wait for each
other's commits anyway: there is one writer. So while one commit runs, the batches that arrive
queue, and the next commit takes them all (up to ``GROUP_MOST`` events).

Nothing waits for company: a batch that finds no commit running is committed at once, by its
caller, so a lone caller's answer costs what it did (no task, no extra turn of the loop); the
calls that arrive meanwhile are committed by a task once it is done. Only calls without a turn
come here: a turn orders commits by the order the batches were taken
(``integrator.turnstile``), which a merged commit would not keep.

Each group is judged against its ZD numbers' history as one batch, in the order its calls
arrived (``zd_sequence.BatchCheck``): a cancel that arrives just after its referral is judged
with the referral before it, as if both came in one request. When the merged commit fails, each
call's batch is committed again alone: a failure stays with the call whose events caused it,
and the others are accepted as if they had come alone. Not when the store is away
(``StoreUnavailable``): that is no call's doing, and every call of the group is told so at once.

A call cancelled while its batch still waits for the next group takes it out: nothing of it is
stored. One cancelled once its group is committing is stored all the same (as a lone commit is:
the writer finishes a transaction it has begun), and recovery publishes its messages.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass

from integrator.store import EventRecord, NewMessage, Store
from integrator.store.errors import StoreUnavailable
from integrator.zd_sequence import BatchCheck, ZdCheck

__all__ = ["GROUP_MOST", "Accepted", "GroupCommit", "accepted_alone"]

#: The most events one group commits (a call's own batch is never split, and may be larger):
#: a transaction of a few hundred events is already near the cheapest per event, and a longer one
#: keeps the writer, and every other caller, waiting longer.
GROUP_MOST = 200

Batch = Sequence[tuple[EventRecord, Sequence[NewMessage]]]


@dataclass(frozen=True, slots=True)
class Accepted:
    """One call's part of a group's commit: per event, whether it is new (as
    ``Store.accept_events`` answers), and the group's ZD findings (``ZdCheck.report``)."""

    new: list[bool]
    zd: ZdCheck


@dataclass(slots=True)
class _Call:
    batch: Batch
    answer: asyncio.Future[Accepted]


class GroupCommit:
    """Commits the batches of concurrent calls together (see the module's docstring)."""

    def __init__(self, store: Store, *, most: int = GROUP_MOST) -> None:
        self._store = store
        self._most = most
        self._waiting: list[_Call] = []
        self._committing = False  # a lone call's own commit, or a group's, is running
        self._group_task: asyncio.Task[None] | None = None

    async def accept(self, batch: Batch) -> Accepted:
        """Store ``batch`` (events with their messages), in this call's group."""
        if not batch:
            return Accepted([], ZdCheck())
        if not self._committing:
            # Nobody to wait for: committed at once, by the caller itself (no task, no hop).
            self._committing = True
            try:
                return await accepted_alone(self._store, batch)
            finally:
                self._next()
        call = _Call(batch, asyncio.get_running_loop().create_future())
        self._waiting.append(call)
        try:
            return await asyncio.shield(call.answer)
        except asyncio.CancelledError:
            if call in self._waiting:
                self._waiting.remove(call)  # not taken yet: nothing of it is stored
            else:
                call.answer.add_done_callback(_seen)  # its failure is no one's to report now
            raise

    def _next(self) -> None:
        """A commit is done: the calls that arrived meanwhile are committed next, together."""
        if not self._waiting:
            self._committing = False
            return
        # A context of its own: the group's work is no one caller's (their log context).
        self._group_task = asyncio.get_running_loop().create_task(
            self._commit_group(), name="intake-group-commit", context=contextvars.Context()
        )

    async def _commit_group(self) -> None:
        group = self._take()
        try:
            await self._commit(group)
        except asyncio.CancelledError:  # the loop is ending: nobody gets an answer now
            for call in (*group, *self._waiting):
                call.answer.cancel()
            self._waiting.clear()
            self._committing = False
            raise
        self._next()

    def _take(self) -> list[_Call]:
        """The calls waiting longest, up to ``most`` events (at least one call)."""
        events = 0
        for taken, call in enumerate(self._waiting):
            if taken and events + len(call.batch) > self._most:
                break
            events += len(call.batch)
        else:
            taken = len(self._waiting)
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return group

    async def _commit(self, group: list[_Call]) -> None:
        try:
            answers = await accepted_alone(
                self._store, [item for call in group for item in call.batch]
            )
        except StoreUnavailable as error:
            # The store is away (locked, full, unreachable): no call's events are to blame, and
            # each alone would wait for it again (SQLite's busy timeout, say), one after another.
            for call in group:
                call.answer.set_exception(error)
            return
        except Exception as error:
            if len(group) == 1:
                group[0].answer.set_exception(error)
                return
            for call in group:  # each alone: the failure is the one call's whose events fail
                try:
                    call.answer.set_result(await accepted_alone(self._store, call.batch))
                except Exception as alone:
                    call.answer.set_exception(alone)
            return
        start = 0
        for call in group:
            end = start + len(call.batch)
            call.answer.set_result(Accepted(answers.new[start:end], answers.zd))
            start = end


async def accepted_alone(store: Store, batch: Batch) -> Accepted:
    """``batch`` committed in a transaction of its own, judged against its ZD numbers' history
    by the store as it accepts it (``zd_sequence.BatchCheck``): for a group, and for a batch
    whose turn orders its commit (``integrator.turnstile``)."""
    if not batch:
        return Accepted([], ZdCheck())
    check = BatchCheck([event for event, _ in batch])
    new = await store.accept_events(batch, judge=check)
    return Accepted(new, check.check)


def _seen(answer: asyncio.Future[Accepted]) -> None:
    if not answer.cancelled():
        answer.exception()
