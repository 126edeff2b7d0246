"""Dead letters: messages the engine gave up on, for support staff to read and settle.

A message is *dead* when its retries are exhausted (``max_attempts`` or ``max_age``), when the
receiver rejected it (``AR``/``CR``, or ``AE``/``CE`` with ``on_error: deadletter``), or when it
can never be sent (a payload that cannot be framed). Its record keeps the last reason, every
attempt and the last ACK. ``discard`` closes a dead letter as ``cancelled`` (audited, history
kept). Resending arrives with the resend issue.
"""

from deadletter.letters import (
    DeadLetter,
    DeadLetterError,
    MissingReason,
    NotADeadLetter,
    UnknownDeadLetter,
    discard,
    get_dead_letter,
    list_dead_letters,
)

__all__ = [
    "DeadLetter",
    "DeadLetterError",
    "MissingReason",
    "NotADeadLetter",
    "UnknownDeadLetter",
    "discard",
    "get_dead_letter",
    "list_dead_letters",
]
