"""How a delivery queue's duplicate copies, skipped, are told in the log: a count, not a line each.

Copies come in bursts: the recovery leader re-publishes every pending message when an engine
leaves, and a backlog re-published twice is two copies of each. A line per copy made 156 lines
for one engine stopped with 156 messages waiting, and 601 for a 300-message backlog, each
saying what the first said. So a destination's copies are told as an outage is
(``integrator.log_throttle``): the first in full (``duplicate delivery skipped``, with its
message id and why), then one line a minute at most counting those since (``duplicate
deliveries skipped``, with ``skipped``, ``why`` by reason, and ``for_s`` since the first). A
burst stops without an end to tell, so a timer tells its count a minute after the line before
it; a minute with no copy ends the burst, and the next copy is told in full again. Each copy
still gets its own line at debug level, with its id.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Final

from integrator.log_throttle import EVERY, Clock, Line, LogThrottle
from integrator.logging import get_logger

log = get_logger("integrator.transport.rabbitmq")

SKIPPED: Final = "duplicate delivery skipped"
SKIPPED_SINCE: Final = "duplicate deliveries skipped"


class SkippedCopies:
    """The copies one destination's consumer skipped, for the log."""

    def __init__(
        self, destination_id: str, *, every: float = EVERY, clock: Clock = time.monotonic
    ) -> None:
        self._destination_id = destination_id
        self._every = every
        self._copies = LogThrottle(first=1, every=every, clock=clock)
        self._why: Counter[str] = Counter()  # since the last line
        self._timer: asyncio.TimerHandle | None = None

    def skipped(self, message_id: str, why: str) -> None:
        """Count a copy skipped; tell it as the rule above has it."""
        self._why[why] += 1
        line = self._copies.failed()
        if line is not None and line.full:
            log.info(SKIPPED, destination=self._destination_id, message_id=message_id, why=why)
            self._why.clear()
        else:
            log.debug(SKIPPED, destination=self._destination_id, message_id=message_id, why=why)
            if line is not None:
                self._tell(line)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._every, self._due)

    def close(self) -> None:
        """Stop the timer (the consumer is gone); what was not told yet stays untold."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _due(self) -> None:
        """A minute after the line before: the count since, or the burst's end."""
        self._timer = None
        line = self._copies.unsaid()
        if line is None:
            self._copies.ended()
            return
        self._tell(line)
        self._timer = asyncio.get_running_loop().call_later(self._every, self._due)

    def _tell(self, line: Line) -> None:
        log.info(
            SKIPPED_SINCE,
            destination=self._destination_id,
            skipped=line.since_last,
            why=dict(self._why),
            for_s=round(line.down_for),
        )
        self._why.clear()
