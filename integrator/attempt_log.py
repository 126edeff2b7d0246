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

import re

from destinations.worker import AttemptResult, AttemptSink
from integrator.logging import get_logger

log = get_logger("integrator.delivery")

RECEIVER_TEXT_WITHHELD = "receiver's text withheld"
_ACK_REASON = re.compile(r"ACK (?P<code>[A-Z]{2})(?P<text>: .*)?", re.DOTALL)
_GAVE_UP = re.compile(
    r"; gave up after \d+ attempts \((?:max_attempts \d+|max_age [^()]*s reached)\)\Z"
)


def short_reason(error: str | None) -> str | None:
    """``error`` without the receiver's own words: ``ACK AE (receiver's text withheld)``.

    A negative ACK is recorded as ``ACK <code>: <MSA-3>: <ERR>`` (``destinations.worker``),
    perhaps followed by why the engine gave up; every other error is the engine's own words
    (connection, timeout, a malformed answer, which never quote it) and is shown as it is.
    """
    if error is None:
        return None
    gave_up = _GAVE_UP.search(error)
    head = error[: gave_up.start()] if gave_up else error
    ack = _ACK_REASON.fullmatch(head)
    if ack is None:
        return error
    short = f"ACK {ack['code']}"
    if ack["text"]:
        short += f" ({RECEIVER_TEXT_WITHHELD})"
    return short + (gave_up.group(0) if gave_up else "")


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
