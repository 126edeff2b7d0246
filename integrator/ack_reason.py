"""A delivery error without the receiver's own words: what listings, reports and logs show.

A negative ACK is recorded with the receiver's free text (MSA-3, ERR), which can name the
patient; it is shown in full only where patient data may be (``messages show``, the API's
message detail). Everywhere else the error is cut to the ACK code. Engines before this one also
quoted a wrong MSA-2 in the error (``AckControlIdMismatch``), and a receiver may put anything
there; such a stored error is shown with MSA-2's length instead, as errors are written now. A
module of its own, with nothing but ``re`` and ``shapes``, because the CLI's listings and the
engine's delivery log both use it and the CLI must start without loading the engine
(``tests/integrator/test_cli_startup.py``); the sentence of a wrong MSA-2 is imported from
``destinations.errors`` when such an error is met.
"""

from __future__ import annotations

import re

from shapes import Shape

RECEIVER_TEXT_WITHHELD = "receiver's text withheld"
_ACK_CODE = r"[A-Z]{2}|None"
"""An ACK's code as the delivery worker writes a negative ACK (``destinations.worker``'s
``NEGATIVE_ACK``): two letters, or ``None`` as its shape allows, so no error it can write
escapes being cut (``None`` is never written now: an answer without MSA-1 is no ACK)."""
WITHHELD = Shape(
    "delivery.negative_ack_withheld", f"ACK {{ack}} ({RECEIVER_TEXT_WITHHELD})", ack=_ACK_CODE
)
"""A negative ACK cut short (``shapes``): the console words it in the person's language."""
_ACK_REASON = re.compile(rf"ACK (?P<code>{_ACK_CODE})(?P<text>: .*)?", re.DOTALL)
_EARLIER_MISMATCH = re.compile(
    r"(?P<kind>AckControlIdMismatch: )MSA-2 (?P<received>'.*'|\".*\") does not match the "
    r"MSH-10 sent (?P<expected>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")",
    re.DOTALL,
)
"""A wrong MSA-2 as engines before this one wrote it, quoted (``repr``, cut at 40 characters)."""
_EARLIER_CUT = 40
_GAVE_UP = re.compile(
    r"; gave up after \d+ attempts "
    r"\((?:max_attempts \d+|max_age [^()]*s reached(?:, counted from [^()]*)?)\)\Z"
)


def short_reason(error: str | None) -> str | None:
    """``error`` without the receiver's own words: ``ACK AE (receiver's text withheld)``.

    A negative ACK is recorded as ``ACK <code>: <MSA-3>: <ERR>`` (``destinations.worker``),
    perhaps followed by why the engine gave up. A wrong MSA-2 quoted by an earlier engine is
    said by its length (``_earlier_mismatch``). Every other error is the engine's own words
    (connection, timeout, a malformed answer, a wrong MSA-2 by its length, which never quote
    the receiver) and is shown as it is.
    """
    if error is None:
        return None
    head, tail = _gave_up(error)
    ack = _ACK_REASON.fullmatch(head)
    if ack is not None:
        short = WITHHELD(ack=ack["code"]) if ack["text"] else f"ACK {ack['code']}"
        return short + tail
    mismatch = _EARLIER_MISMATCH.fullmatch(head)
    if mismatch is not None:
        return _earlier_mismatch(mismatch) + tail
    return error


def from_receiver(error: str | None) -> bool:
    """Whether ``error`` is what the receiver answered: a negative ACK, with the receiver's
    words (MSA-3, ERR), by its code alone, or cut to its code already (``short_reason``'s
    form, which retention stores). Such a reason is a message's fact, shown only to who may
    read the destination's messages, even cut: the ACK's words are the receiver's, and what
    it rejects is the message's content. Every other error is the engine's own words about
    the connection, the timing or the form of an answer (refused, timed out, a TLS handshake,
    no MSA, a wrong MSA-2 by its length), which name no patient and are what an operator
    needs to fix a destination (``integrator.last_attempt``)."""
    if error is None:
        return False
    head, _tail = _gave_up(error)
    return _ACK_REASON.fullmatch(head) is not None or WITHHELD.read(head) is not None


def _gave_up(error: str) -> tuple[str, str]:
    """``error`` as the attempt failed, and why the engine gave up after it (``; gave up
    after …``, the last thing in it), or ``""``."""
    gave_up = _GAVE_UP.search(error)
    return (error[: gave_up.start()], gave_up.group(0)) if gave_up else (error, "")


def _earlier_mismatch(found: re.Match[str]) -> str:
    """An earlier engine's ``MSA-2 'what came back' does not match …`` as this one writes it:
    ``MSA-2 (length 22) does not match …``, or ``(length 41+)`` where that engine had cut
    the value (to 40 characters and ``...``)."""
    from destinations.errors import CONTROL_ID_MISMATCH

    received = _unquoted(found["received"])
    cut = len(received) == _EARLIER_CUT + 3 and received.endswith("...")
    length = f"{_EARLIER_CUT + 1}+" if cut else str(len(received))
    return found["kind"] + CONTROL_ID_MISMATCH(length=length, expected=_unquoted(found["expected"]))


def _unquoted(quoted: str) -> str:
    """The string a ``repr`` wrote; a text no ``repr`` wrote (none this module should see)
    without its quotes, as it stands."""
    import ast

    try:
        value = ast.literal_eval(quoted)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return quoted[1:-1]
    return value if isinstance(value, str) else quoted[1:-1]
