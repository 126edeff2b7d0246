"""How often an outage is told in the log: its first failures each, then one line a minute.

A dependency that is away makes the same failure again and again: the broker link retries every
5 s, every HTTP request meets the store that is down. A line for each drowned the on-call
operator (53 ``http request failed`` in two minutes with two pollers) and said nothing the first
lines had not said. So an outage is told by its first ``first`` failures, each in full; then by
at most one line per ``every`` seconds, which counts the failures since the line before it and
says how long it has lasted; and once more when it ends. A stream whose failures may stop
without an end to tell (a burst of like events) asks for the count not yet told (``unsaid``) on
a timer of its own. Which words each line has is the
caller's; this decides only whether a failure gets a line, and carries the counts. The
background loops that fail and recover alike (the heartbeat, the recovery leader's question,
the unrouted count, the intake's retries) tell both through ``tell_failed`` and ``tell_ended``.

The clock is a plain ``() -> float`` of seconds (``time.monotonic`` by default), so a test moves
time forward by a minute without waiting one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

Clock = Callable[[], float]

#: Seconds between two summary lines of one outage.
EVERY: Final = 60.0


@dataclass(frozen=True)
class Line:
    """A failure that gets a line: one of the outage's first (``full``), or a summary."""

    full: bool
    failures: int
    """Failures in this outage so far, this one included."""
    since_last: int
    """Failures since the outage's previous line, this one included (1 for a full line)."""
    down_for: float
    """Seconds since the outage's first failure."""


@dataclass(frozen=True)
class Outage:
    """An outage that ended: how many failures it had, and how long it lasted."""

    failures: int
    down_for: float


class LogThrottle:
    """Whether a failure of one ongoing outage gets a log line (``failed``), and the outage's
    counts when it ends (``ended``). One per stream of like failures: a link's reconnects, one
    route's requests failing one way."""

    def __init__(self, *, first: int, every: float = EVERY, clock: Clock = time.monotonic) -> None:
        if first < 1:
            raise ValueError("first must be 1 or more: an outage's first failure is always told")
        self._first = first
        self._every = every
        self._clock = clock
        self._since: float | None = None  # the outage's first failure; None: no outage
        self._said_at = 0.0
        self._failures = 0
        self._unsaid = 0

    @property
    def failing(self) -> bool:
        """Whether an outage is going on (a failure since the last ``ended``)."""
        return self._since is not None

    def failed(self) -> Line | None:
        """Count a failure; the line to log for it, or None when it goes uncounted in words
        until the next summary."""
        now = self._clock()
        if self._since is None:
            self._since = now
        self._failures += 1
        self._unsaid += 1
        full = self._failures <= self._first
        if not full and now - self._said_at < self._every:
            return None
        line = Line(full, self._failures, self._unsaid, now - self._since)
        self._said_at = now
        self._unsaid = 0
        return line

    def unsaid(self) -> Line | None:
        """The summary line of the failures not told yet, now; None when every one was told.

        For a stream whose next failure may never come to carry the count: a burst of like
        events that stops (duplicate copies of a backlog, skipped) would otherwise leave all but
        its first untold. The caller asks on its own timer, a minute after the last line."""
        if self._since is None or self._unsaid == 0:
            return None
        now = self._clock()
        line = Line(False, self._failures, self._unsaid, now - self._since)
        self._said_at = now
        self._unsaid = 0
        return line

    def ended(self) -> Outage | None:
        """End the outage going on; its counts, or None when there was none."""
        if self._since is None:
            return None
        outage = Outage(self._failures, self._clock() - self._since)
        self._since = None
        self._failures = self._unsaid = 0
        return outage


def still(line: Line) -> dict[str, int]:
    """A summary line's counts, in the words the engine's background loops log them with:
    ``failures`` since the line before, and ``failing_for_s`` since the first."""
    return {"failures": line.since_last, "failing_for_s": round(line.down_for)}


def tell_failed(throttle: LogThrottle, logger: Any, first: str, again: str, **fields: Any) -> None:
    """Log one failure of an outage as ``throttle`` allows: ``first`` with ``fields`` for its
    first lines, then ``again`` with them and the counts (``still``) at most once a minute."""
    line = throttle.failed()
    if line is not None:
        logger.warning(
            first if line.full else again, **fields, **({} if line.full else still(line))
        )


def tell_ended(throttle: LogThrottle, logger: Any, event: str) -> None:
    """Log ``event`` when an outage of ``throttle`` ends, with how many failures it had and how
    long it lasted; nothing when there was none."""
    outage = throttle.ended()
    if outage is not None:
        logger.info(event, failures=outage.failures, failed_for_s=round(outage.down_for))
