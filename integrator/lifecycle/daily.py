"""The engine's daily prune, run by one engine when several share a store.

Each engine looks every ``CHECK_EVERY`` seconds (and once at start) whether a day has passed
since the last prune, by its clock; to run it, it must first move the ``prune`` lease row
forward with a compare-and-set (``Store.claim_lease``), which only one engine can win. So
engines sharing a PostgreSQL store prune once a day between them, whichever is up, and an
engine restarted often still prunes daily. A failed run is logged and tried again the next day.

An engine that made its store at this start (an empty database) skips the look at start:
nothing in a store made a moment ago is past any retention, and the look, some twenty
statements, cost a new engine about as much CPU as its start (every test's engine among them).
Its next look, ``CHECK_EVERY`` later, takes the day's turn as usual.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta

from integrator.clock import Clock
from integrator.eventloop import stop_task
from integrator.lifecycle.prune import PruneReport, prune
from integrator.lifecycle.retention import Retention
from integrator.logging import get_logger
from integrator.store import Store

log = get_logger("integrator.lifecycle")

LEASE = "prune"
EVERY = timedelta(days=1)
CHECK_EVERY = 15 * 60.0  # seconds between looks at the lease
ENGINE_ACTOR = "engine:retention"


def engine_name() -> str:
    """Which engine took a turn, for operators reading the lease row: host, process, run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DailyPrune:
    def __init__(
        self,
        store: Store,
        retention: Retention,
        clock: Clock,
        *,
        holder: str | None = None,
        check_every: float = CHECK_EVERY,
        store_made_now: bool = False,
    ) -> None:
        self._store = store
        self._retention = retention
        self._clock = clock
        self.holder = holder or engine_name()
        self._check_every = check_every
        self._skip_first = store_made_now  # ``Store.made_now``: nothing to look for yet
        self._task: asyncio.Task[None] | None = None
        self.first_tick = asyncio.Event()
        """Set once the first check after ``start`` has ended, pruned or not (or failed): what
        waits for the engine to be quiet after its start, a test most of all, waits on it."""

    async def tick(self) -> PruneReport | None:
        """Prune if it is this engine's turn; the report, or None when it was not."""
        now = self._clock.now()
        if not await self._store.claim_lease(LEASE, now=now, every=EVERY, holder=self.holder):
            return None
        report = await prune(
            self._store, self._retention, now=now, actor=ENGINE_ACTOR, audit_empty=False
        )
        log.info("daily prune", **report.counts, space=report.space)
        return report

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="daily-prune")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                if not self._skip_first:
                    await self.tick()
            except Exception as exc:  # the store may be down for a while; try again later
                log.error("daily prune failed", error_type=type(exc).__name__, error=str(exc))
            self._skip_first = False
            self.first_tick.set()
            await asyncio.sleep(self._check_every)
