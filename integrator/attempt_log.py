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
"""

from __future__ import annotations

from destinations.worker import AttemptResult, AttemptSink, CountsLateAnswers, LateAnswer
from integrator.ack_reason import short_reason
from integrator.logging import get_logger

log = get_logger("integrator.delivery")


def attempt_reason(result: AttemptResult) -> str:
    """Why ``result`` did not deliver, for the log (see the module's docstring)."""
    return short_reason(result.error) or result.outcome


class LoggedAttempts:
    """The attempt sink (the recorder), with a line for each attempt that did not deliver.

    Logged after the attempt is recorded, so a line never tells of an attempt the store lacks.
    The destination comes from the delivery loop's bound context.
    """

    def __init__(self, sink: AttemptSink) -> None:
        self._sink = sink

    def late_answer(self, answer: LateAnswer) -> None:
        """Passed on to the sink when it takes late answers (``CountsLateAnswers``: the
        engine's meter). Without this the worker, which looks for it on the sink it is given,
        found none here, and a running engine neither counted nor kept any late answer."""
        if isinstance(self._sink, CountsLateAnswers):
            self._sink.late_answer(answer)

    async def record(self, result: AttemptResult) -> None:
        await self._sink.record(result)
        if result.status == "delivered":
            return
        log.info(
            "delivery attempt failed",
            message_id=result.message_id,
            attempt=result.number,
            reason=attempt_reason(result),
            then="dead-lettered" if result.status == "dead" else "retried later",
            retry_at=(
                result.next_attempt_at.isoformat(timespec="seconds")
                if result.next_attempt_at is not None
                else None
            ),
        )
