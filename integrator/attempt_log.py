"""One log line per delivery attempt that did not deliver, saying why in words safe for a log.

An operator who mistyped a hospital's port, or whose hospital is down, tails the engine's log
first; before this the log said only "message goes to the back of the queue until its retry",
and the cause was in the store (``messages show``, ``last_error``) or ``destinations test``.

What the line may say is narrower than what the store keeps. The receiver's own words about a
negative ACK (MSA-3, ERR) are written by another system and can echo the message's content,
so a negative ACK is named by its code only (``short_reason``, which listings and reports use
too). Every other failure is described by this engine's own exceptions
(``destinations.errors``: the address it could not reach, the timeout it waited, the rule an
answer broke), which carry no message content.

What a destination's attempts say together (``DestinationTrouble``, one per destination,
shared by its connections): a receiver that cannot be connected to is said at warning once
when it begins and once when it ends, under either ordering (under ``fifo`` neither was said:
the only lines were one per attempt at info, so an engine logging warnings said nothing of a
hospital down for hours); and a run of failed attempts is told attempt by attempt for its
first ``FIRST_TOLD``, then in one line a minute that counts them (a receiver answering AE to
everything made one line per message per retry: 6,000 for 300 queued messages).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Final, Literal

from destinations.worker import AttemptResult, AttemptSink, CountsLateAnswers, LateAnswer
from integrator.ack_reason import short_reason
from integrator.log_throttle import Clock, Line, LogThrottle, still
from integrator.logging import get_logger

log = get_logger("integrator.delivery")

FIRST_TOLD: Final = 10
"""Failed attempts of a run (up to a delivery) told each in full before one line a minute."""

QUIET_ENDS_RUN_S: Final = 600.0
"""A run of failed attempts without a failure for this long has ended, delivered or not."""

MEANWHILE: Final = {
    "fifo": "the messages behind it wait for it",
    "rotate": "no other message is tried before this one's next attempt",
}
"""What the destination's other messages do while it cannot be connected to, by ordering
(``integrator.delivery``: a ``fifo`` message holds the queue with its retries; under
``rotate`` the message that found it down is tried again alone, ``_probe``)."""


def attempt_reason(result: AttemptResult) -> str:
    """Why ``result`` did not deliver, for the log (see the module's docstring)."""
    return short_reason(result.error) or result.outcome


class DestinationTrouble:
    """One destination's failed attempts, as the log tells them (see the module)."""

    def __init__(
        self,
        destination_id: str,
        ordering: Literal["fifo", "rotate"],
        clock: Clock = time.monotonic,
    ) -> None:
        self._id = destination_id
        self._meanwhile = MEANWHILE[ordering]
        self._clock = clock
        self._failures = LogThrottle(first=FIRST_TOLD, clock=clock)
        self._failed_at = 0.0  # the last failed attempt (``clock``)
        self._down_since: datetime | None = None
        """When the first attempt that could not connect started; None while it connects."""
        self._calm = True
        """Nothing going on: no connection cut off, no run of failures (a delivery then says
        nothing, and costs no more than this look)."""
        self._cut_off: set[object] = set()
        """The connections whose last attempt could not connect: the destination is reachable
        again once none is (one connection that connects while another cannot, a receiver
        taking one connection at a time, said both lines at each pair of attempts)."""

    def attempted(
        self, result: AttemptResult, *, unreachable: bool, connection: object = None
    ) -> None:
        """``connection``: which of the destination's connections made the attempt."""
        if self._calm and result.status == "delivered" and not unreachable:
            return  # the delivery path's usual case: nothing going on, nothing to say
        self._said(result, unreachable=unreachable, connection=connection)
        self._calm = self._down_since is None and not self._cut_off and not self._failures.failing

    def connected_again(self, probe: AttemptResult) -> None:
        """The destination's probe got a connection (``delivery._probe``, under ``rotate``):
        the other connections, which waited for it and made no attempt, are not cut off any
        more. Their last attempts' failures kept it said unreachable until each attempted
        again, which on a quiet queue may never come; and then the next outage went unsaid.
        ``probe``: the attempt that connected."""
        if self._cut_off:
            self._cut_off.clear()
            if self._down_since is not None:
                self._back(probe)
        self._calm = not self._failures.failing

    def _back(self, connected: AttemptResult) -> None:
        """Say the destination reachable again, ``connected`` being the attempt that says so."""
        assert self._down_since is not None
        down_for = (connected.started_at - self._down_since).total_seconds()
        self._down_since = None
        log.warning(
            "destination reachable again",
            destination=self._id,
            down_for_s=round(down_for),
            outcome=connected.outcome,
        )

    def _said(self, result: AttemptResult, *, unreachable: bool, connection: object) -> None:
        if unreachable:
            self._cut_off.add(connection)
        else:
            self._cut_off.discard(connection)
        if unreachable and self._down_since is None:
            self._down_since = result.started_at
            log.warning(
                "destination unreachable",
                destination=self._id,
                reason=attempt_reason(result),
                retry_at=_at(result.next_attempt_at),
                meanwhile=self._meanwhile,
            )
        elif not unreachable and self._down_since is not None and not self._cut_off:
            self._back(result)
        now = self._clock()
        if result.status == "delivered":
            self._end_run(delivered=True)
            return
        if now - self._failed_at > QUIET_ENDS_RUN_S:
            # A quiet spell ends a run too (its messages dead-lettered, the queue empty), or a
            # failure days later would be told as one of that run.
            self._end_run(delivered=False)
        self._failed_at = now
        line = self._failures.failed()
        if line is not None and not line.full:
            self._keep_failing(line, result)
        about = {
            "message_id": result.message_id,
            "control_id": result.control_id,
            "attempt": result.number,
            "reason": attempt_reason(result),
        }
        if result.status == "dead":
            # Every dead letter, with why: never held back by the run's count.
            log.warning("message dead-lettered", **about)
        elif line is not None and line.full:
            log.info("delivery attempt failed", **about, retry_at=_at(result.next_attempt_at))

    def _keep_failing(self, line: Line, result: AttemptResult) -> None:
        log.warning(
            "delivery attempts keep failing",
            destination=self._id,
            reason=attempt_reason(result),
            **still(line),
        )

    def _end_run(self, *, delivered: bool) -> None:
        """End the run of failures going on: what it did not tell yet is counted (``unsaid``),
        and a run told in summaries says when a delivery ended it."""
        unsaid = self._failures.unsaid()
        if unsaid is not None and not delivered:
            log.warning("delivery attempts kept failing", destination=self._id, **still(unsaid))
        outage = self._failures.ended()
        if delivered and outage is not None and outage.failures > FIRST_TOLD:
            log.warning(
                "destination delivers again",
                destination=self._id,
                failures=outage.failures,
                failed_for_s=round(outage.down_for),
            )


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


class LoggedAttempts:
    """The attempt sink (the recorder) of one connection's worker, telling its destination's
    ``DestinationTrouble`` of each attempt: whether it could connect is ``unreachable``'s to
    say (the connection's sender knows).

    Logged after the attempt is recorded, so a line never tells of an attempt the store lacks.
    """

    def __init__(
        self,
        sink: AttemptSink,
        trouble: DestinationTrouble,
        unreachable: Callable[[], bool],
    ) -> None:
        self._sink = sink
        self._trouble = trouble
        self._unreachable = unreachable

    def late_answer(self, answer: LateAnswer) -> None:
        """Passed on to the sink when it takes late answers (``CountsLateAnswers``: the
        engine's meter). Without this the worker, which looks for it on the sink it is given,
        found none here, and a running engine neither counted nor kept any late answer."""
        if isinstance(self._sink, CountsLateAnswers):
            self._sink.late_answer(answer)

    async def record(self, result: AttemptResult) -> None:
        await self._sink.record(result)
        self._trouble.attempted(result, unreachable=self._unreachable(), connection=self)
