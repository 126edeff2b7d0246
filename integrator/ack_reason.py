"""A delivery error without the receiver's own words: what listings, reports and logs show.

A negative ACK is recorded with the receiver's free text (MSA-3, ERR), which can name the
patient; it is shown in full only where patient data may be (``messages show``, the API's
message detail). Everywhere else the error is cut to the ACK code. A module of its own, with
nothing but ``re`` and ``shapes``, because the CLI's listings and the engine's delivery log
both use it and the CLI must start without loading the engine
(``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

import re

from shapes import Shape

RECEIVER_TEXT_WITHHELD = "receiver's text withheld"
WITHHELD = Shape(
    "delivery.negative_ack_withheld", f"ACK {{ack}} ({RECEIVER_TEXT_WITHHELD})", ack=r"[A-Z]{2}"
)
"""A negative ACK cut short (``shapes``): the console words it in the person's language."""
_ACK_REASON = re.compile(r"ACK (?P<code>[A-Z]{2})(?P<text>: .*)?", re.DOTALL)
_GAVE_UP = re.compile(
    r"; gave up after \d+ attempts "
    r"\((?:max_attempts \d+|max_age [^()]*s reached(?:, counted from [^()]*)?)\)\Z"
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
    short = WITHHELD(ack=ack["code"]) if ack["text"] else f"ACK {ack['code']}"
    return short + (gave_up.group(0) if gave_up else "")
