"""How long a reason may be: one bound for every front door, and its check for every service.

A reason (why a message is resent, a dead letter discarded, a destination paused, a token
revoked) goes into the append-only audit trail and stays there. The API's bodies and its
``X-Integrator-Reason`` header, the console's forms and the server's command line take at most
``MAX_REASON`` characters, so that no door accepts what another refuses and nobody can fill the
audit trail with a document. The services that record a reason refuse a longer one themselves
(``bounded``, ``required``; ``deadletter.checked_reason``), before they change anything; the
doors' own checks only say it earlier, in their own way.

Each service refuses in its own exception type (the API, the console and the CLI already know
how to answer those), with the same rule text and refusal code: ``reason: at most 1000
characters``, ``reason.too_long`` with ``max_length``, which the console words in Dutch too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from integrator.errors import IntegratorError

MAX_REASON: Final = 1000
"""The most characters (not bytes) a reason may have."""

TOO_LONG: Final = f"at most {MAX_REASON} characters"
"""The rule a longer reason breaks, as every service and front door words it."""

TOO_LONG_CODE: Final = "reason.too_long"
"""Its refusal code (``integrator.refusal``), with the value ``max_length``."""

REQUIRED_CODE: Final = "reason.required"
"""The refusal code of a blank reason where one is required."""

HOLDS_BSN: Final = (
    "this looks like a BSN: leave it out (a reason stays in the audit trail for years, read by "
    "people who may not see patient data; the message or event it is about names the patient)"
)
"""The rule a reason that writes out a BSN breaks (``search.writes_bsn``), as every service
and front door words it. Never with the reason: it is what must not be repeated."""

HOLDS_BSN_CODE: Final = "reason.holds_bsn"
"""Its refusal code (``integrator.refusal``), which the console words in Dutch too."""

Refusal = Callable[[str], "IntegratorError"]
"""A service's refusal of its reason, made from the rule broken: its own exception type, so
that each front door keeps answering it as it did (``BadAccessInput``, ``EventsRefused``)."""


def too_long(reason: str) -> bool:
    """Whether ``reason``, as given, is longer than a reason may be."""
    return len(reason) > MAX_REASON


def bounded(reason: str | None, refused: Refusal) -> str | None:
    """``reason`` as given (a service that takes none keeps it so), or ``refused(TOO_LONG)``
    raised, coded ``reason.too_long``, when it is longer than ``MAX_REASON`` characters, and
    ``refused(HOLDS_BSN)``, coded ``reason.holds_bsn``, when it writes out a BSN.

    Counted as given, outer blanks included, as the API's bodies and the console's forms
    count it, so a reason one door takes no other refuses. An empty one is none (None), as the
    console's forms give it: ``--reason ""`` and a body's ``"reason": ""`` were recorded as an
    empty text, which an audit CSV cannot tell from none, so such a row could not be checked
    against its hash (docs/access.md, "Checking an exported entry")."""
    if reason is not None and too_long(reason):
        raise refused(TOO_LONG).coded(TOO_LONG_CODE, max_length=MAX_REASON)
    if reason is not None and holds_bsn(reason):
        raise refused(HOLDS_BSN).coded(HOLDS_BSN_CODE)
    return reason or None


def holds_bsn(reason: str) -> bool:
    """Whether ``reason`` writes out a patient's BSN (``search.writes_bsn``).

    A reason is shown to whoever reads the audit trail (admins, reports), who may not see
    patient data, kept longer than any payload, and never pruned with it; a BSN in it would
    also escape ``audit list --bsn``, which finds a patient by keyed hash. Names cannot be
    told from other words; a BSN can, so it is refused by every service that takes a reason."""
    from integrator.search import writes_bsn

    return writes_bsn(reason)


def required(reason: str | None, refused: Refusal, *, missing: str) -> str:
    """``reason`` without its outer blanks, for a change that must say why: ``bounded`` first,
    then ``refused(missing)``, coded ``reason.required``, when it is blank. ``missing`` is the
    service's own wording of that rule, kept as its callers know it."""
    text = (bounded(reason, refused) or "").strip()
    if not text:
        raise refused(missing).coded(REQUIRED_CODE)
    return text
