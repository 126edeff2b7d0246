"""The turn of this process's writers at an embedded (SQLite) store's one write lock.

SQLite lets one connection write at a time. The store writes on two kinds of connection: the
hot writes (accepting events, recording attempts) run whole on the store's one writer thread
(``sqlite_writer``), which runs them one after another in the order they were handed over;
every other write is a transaction on a pooled SQLAlchemy connection. Two pooled writers, or a
pooled writer and the writer thread, would meet at SQLite's lock, whose busy handler sleeps in
steps of up to 100 ms; so they take turns here first.

Two hot writes need no turn from each other: the writer thread already runs them in order. With
one lock for all, a hot write waited on the event loop for the one before it to come back from
the thread before it could even be handed over: each hand-over then cost a turn of the loop,
and intake's commit, queued behind a few of the recorder's, waited for a turn of the loop per
transaction ahead of it: after a pooled write (the daily prune's, say), up to 10 ms of a paced
run's 99th percentile (bench/results/perf.md; at the steady state no difference was measured).
So hot writes share the turn (``shared``), and a pooled write takes it alone (``exclusive``),
once the hot writes handed over before it are done.

Turns are given in the order asked for: a hot write asking after a pooled one waits for it, so
a steady stream of hot writes cannot keep a pooled one (a resend, a destination's change) out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteTurn:
    """A turn shared by the hot writes and taken alone by any other write, first come first."""

    def __init__(self) -> None:
        self._sharing = 0  # hot writes holding the turn (handed over, not yet answered)
        self._alone = False  # a pooled write holds it
        self._waiting: deque[tuple[bool, asyncio.Future[None]]] = deque()  # (alone?, grant)

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        """Around a hot write: at once, unless a pooled write holds the turn or waits for it."""
        if self._alone or self._waiting:
            await self._wait(alone=False)
        else:
            self._sharing += 1
        try:
            yield
        finally:
            self._sharing -= 1
            self._grant()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Around any other write: once nobody holds the turn and those before it had theirs."""
        if self._alone or self._sharing or self._waiting:
            await self._wait(alone=True)
        else:
            self._alone = True
        try:
            yield
        finally:
            self._alone = False
            self._grant()

    async def _wait(self, *, alone: bool) -> None:
        grant: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (alone, grant)
        self._waiting.append(entry)
        try:
            await grant
        except asyncio.CancelledError:
            if grant.done() and not grant.cancelled():  # given just as it was cancelled
                if alone:
                    self._alone = False
                else:
                    self._sharing -= 1
            elif entry in self._waiting:  # else taken out already, as cancelled, by a grant
                self._waiting.remove(entry)
            self._grant()  # those behind it may go now
            raise

    def _grant(self) -> None:
        """Give the turn to those waiting at the front, as far as they can share it."""
        while self._waiting:
            alone, grant = self._waiting[0]
            if grant.done():  # cancelled, not yet taken out
                self._waiting.popleft()
                continue
            if self._alone or (alone and self._sharing):
                return
            self._waiting.popleft()
            if alone:
                self._alone = True
                grant.set_result(None)
                return
            self._sharing += 1
            grant.set_result(None)
