"""A destination's waiting retries, which a person can make due early ("try now").

A runner waits out a retry's backoff in two places: a fifo worker before its next attempt (the
messages behind it wait too), and the runner's rotate schedule before the message goes back on
the queue. Both wait here: until their time, or until the store says the message is due
earlier, because someone asked to try it now (``integrator.try_now``), in this engine or another
one sharing the store. A fifo worker awaits :meth:`RetryWaits.wait`; a rotate retry is only
*held* (:meth:`RetryWaits.hold`: an entry and a callback, no coroutine, no timer of its own), as
a receiver that answers AE to everything can leave 100,000 of them waiting.

While anything waits, one poller per destination asks the store every :data:`POLL_SECONDS` which
of the destination's retries are due (one indexed query for all of them, not one per message);
:meth:`RetryWaits.nudge` makes it ask at once, so in the engine that took the request the
attempt starts without that delay. While the store does not answer, the waits run to their own
time, and the failed asks are told as the engine's other loops tell an outage
(``log_throttle``): the first, then at most a line a minute, then one when an ask works again
(a line per ask was a line every 5 s per destination for as long as the store was away).

A message counts as due early only when the store shows it due with the attempts the waiter has
made: until the recorder has committed the attempt that started this wait, the store still
shows the previous attempt's time, already past, and that is nobody's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias

from integrator.eventloop import stop_task
from integrator.log_throttle import Clock, LogThrottle, tell_failed
from integrator.logging import get_logger

log = get_logger("integrator.retry_waits")

POLL_SECONDS = 5.0
"""How often a destination with waiting retries asks the store whether any was made due."""

DueRetries = Callable[[str], Awaitable[Mapping[str, int]]]
"""The destination's retries due now, each with its attempt count (``Store.due_retries``)."""


Woken: TypeAlias = Callable[[], object]
"""Called once when the store says a held retry is due (``RetryWaits.hold``)."""


class RetryWaits:
    def __init__(
        self, destination_id: str, due: DueRetries, *, log_clock: Clock = time.monotonic
    ) -> None:
        self._destination_id = destination_id
        self._unanswered = LogThrottle(first=1, clock=log_clock)  # asks failing: lines told
        self._due = due
        self._waiters: dict[str, list[tuple[int, Woken]]] = {}
        self._nudged = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None

    async def wait(self, message_id: str, attempts_made: int, seconds: float) -> bool:
        """Wait ``seconds`` before the attempt after ``attempts_made`` of ``message_id``, or
        until the store says it is due; True in that case (it was made due early)."""
        if seconds <= 0:
            return False
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake = _Wake(woken)
        self.hold(message_id, attempts_made, wake)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken, seconds)
            return woken.done() and not woken.cancelled()
        finally:
            self.let_go(message_id, wake)

    def hold(self, message_id: str, attempts_made: int, woken: Woken) -> None:
        """Have ``woken`` called when the store says ``message_id`` is due with
        ``attempts_made`` attempts made; it counts as waiting until then, or until
        :meth:`let_go`. The caller keeps the time itself (the rotate schedule: one timer for all
        its retries, where a :meth:`wait` each cost a task, its coroutines and a timer)."""
        self._waiters.setdefault(message_id, []).append((attempts_made, woken))
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(
                self._poll(), name=f"retry-waits:{self._destination_id}"
            )

    def let_go(self, message_id: str, woken: Woken) -> None:
        """The hold of ``message_id`` with ``woken`` (compared with ``==``) ends, if it has not
        ended already (woken, or let go)."""
        waiting = self._waiters.get(message_id)
        if waiting is None:
            return
        for n, (_, held) in enumerate(waiting):
            if held == woken:
                del waiting[n]
                break
        if not waiting:
            del self._waiters[message_id]

    @property
    def waiting(self) -> int:
        """How many retries wait here now."""
        return sum(len(entries) for entries in self._waiters.values())

    def nudge(self) -> None:
        """Ask the store now (a retry of this destination was made due in this engine)."""
        self._nudged.set()

    async def close(self) -> None:
        await stop_task(self._poller)
        self._poller = None

    async def _poll(self) -> None:
        while self._waiters:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), POLL_SECONDS)
            self._nudged.clear()
            if not self._waiters:
                return
            try:
                due = await self._due(self._destination_id)
            except Exception as exc:  # the waits run to their own time meanwhile
                tell_failed(
                    self._unanswered,
                    log,
                    "could not ask the store which retries are due; asking again",
                    "still cannot ask the store which retries are due; asking again",
                    destination=self._destination_id,
                    error_type=type(exc).__name__,
                )
                continue
            outage = self._unanswered.ended()
            if outage is not None:
                log.info(
                    "can ask the store which retries are due again",
                    destination=self._destination_id,
                    failures=outage.failures,
                    failed_for_s=round(outage.down_for),
                )
            for message_id, attempts in due.items():
                self._wake(message_id, attempts)

    def _wake(self, message_id: str, attempts: int) -> None:
        """Wake (once: they stop waiting) the holds of ``message_id`` that the store's
        ``attempts`` shows due; the others (the recorder not caught up) go on waiting."""
        waiting = self._waiters.get(message_id)
        if waiting is None:
            return
        woken = [w for made, w in waiting if attempts >= made]
        if not woken:
            return
        kept = [(made, w) for made, w in waiting if attempts < made]
        if kept:
            self._waiters[message_id] = kept
        else:
            del self._waiters[message_id]
        for wake in woken:
            wake()


class _Wake:
    """A :meth:`RetryWaits.wait`'s callback: resolves its future."""

    __slots__ = ("_woken",)

    def __init__(self, woken: asyncio.Future[None]) -> None:
        self._woken = woken

    def __call__(self) -> None:
        if not self._woken.done():
            self._woken.set_result(None)
