"""Dead letters: messages the engine gave up on, for support staff to read and settle.

A message is *dead* when its retries are exhausted (``max_attempts`` or ``max_age``), when the
receiver rejected it (``AR``/``CR``, or ``AE``/``CE`` with ``on_error: deadletter``), or when it
can never be sent (a payload that cannot be framed). Its record keeps the last reason, every
attempt and the last ACK. ``discard`` closes a dead letter as ``cancelled`` (audited, history
kept), with the rest of its resend chain (``plan_discard`` says which first). ``resend`` makes
a linked new message for it (see ``deadletter.resend``); once a later
resend was delivered the dead letter is *resolved* (see ``deadletter.family``).
"""

from deadletter.discard_batch import discard_entries, left_open
from deadletter.family import LIVE_STATUSES, Families, Resolution
from deadletter.letters import (
    AlreadyResolved,
    DeadLetter,
    DeadLetterError,
    Discarded,
    DiscardPlan,
    EachDiscarded,
    MissingReason,
    NotADeadLetter,
    ReasonTooLong,
    RefusedValue,
    StaysOpen,
    UnknownDeadLetter,
    chain_of,
    checked_reason,
    count_open_dead_letters,
    discard,
    discard_each,
    get_dead_letter,
    list_dead_letters,
    plan_discard,
)
from deadletter.resend import (
    LeftOut,
    NeedsRemap,
    NoDeadLetterSelector,
    NoSelector,
    Renderer,
    ResendRefused,
    ResendRequest,
    ResendResult,
    Selection,
    TargetNotConfigured,
    TermsRefused,
    TooManyMatches,
    UnknownMessageId,
    UnknownMode,
    names_messages,
    refusals,
    resend,
    select_dead_letters,
    select_for_resend,
)

__all__ = [
    "LIVE_STATUSES",
    "AlreadyResolved",
    "DeadLetter",
    "DeadLetterError",
    "DiscardPlan",
    "Discarded",
    "EachDiscarded",
    "Families",
    "LeftOut",
    "MissingReason",
    "NeedsRemap",
    "NoDeadLetterSelector",
    "NoSelector",
    "NotADeadLetter",
    "ReasonTooLong",
    "RefusedValue",
    "Renderer",
    "ResendRefused",
    "ResendRequest",
    "ResendResult",
    "Resolution",
    "Selection",
    "StaysOpen",
    "TargetNotConfigured",
    "TermsRefused",
    "TooManyMatches",
    "UnknownDeadLetter",
    "UnknownMessageId",
    "UnknownMode",
    "chain_of",
    "checked_reason",
    "count_open_dead_letters",
    "discard",
    "discard_each",
    "discard_entries",
    "get_dead_letter",
    "left_open",
    "list_dead_letters",
    "names_messages",
    "plan_discard",
    "refusals",
    "resend",
    "select_dead_letters",
    "select_for_resend",
]
