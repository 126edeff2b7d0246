"""Dead letters: messages the engine gave up on, for support staff to read and settle.

A message is *dead* when its retries are exhausted (``max_attempts`` or ``max_age``), when the
receiver rejected it (``AR``/``CR``, or ``AE``/``CE`` with ``on_error: deadletter``), or when it
can never be sent (a payload that cannot be framed). Its record keeps the last reason, every
attempt and the last ACK. ``discard`` closes a dead letter as ``cancelled`` (audited, history
kept). ``resend`` makes a linked new message for it (see ``deadletter.resend``).
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
from deadletter.resend import (
    NoSelector,
    Renderer,
    ResendRefused,
    ResendRequest,
    ResendResult,
    UnknownMessageId,
    resend,
    select_for_resend,
)

__all__ = [
    "DeadLetter",
    "DeadLetterError",
    "MissingReason",
    "NoSelector",
    "NotADeadLetter",
    "Renderer",
    "ResendRefused",
    "ResendRequest",
    "ResendResult",
    "UnknownDeadLetter",
    "UnknownMessageId",
    "discard",
    "get_dead_letter",
    "list_dead_letters",
    "resend",
    "select_for_resend",
]
