"""Everything that can go wrong while delivering one message, as one tree.

Callers (the delivery worker, the CLI's ``destinations test``) catch ``DeliveryError`` once and
read ``retryable`` to decide between "try again later" and "give up", the way httpx has a single
root for every transport problem. Foreign exceptions (``OSError``, ``ssl.SSLError``,
``TimeoutError``, ``asyncio.IncompleteReadError``) are translated at the client boundary and kept
as ``__cause__``, so nothing outside this package has to know about sockets.

::

    DeliveryError                    retryable
    ├── ConnectFailed                yes   no connection (refused, unreachable, TLS handshake)
    ├── ConnectionLost               yes   closed mid-send or before the ACK arrived
    ├── AckTimeout                   yes   no ACK within ack_timeout
    ├── SendStalled                  yes   receiver stopped reading: no byte taken in ack_timeout
    ├── InvalidAck                   yes   an answer came, but it cannot be trusted
    │   ├── MalformedAck                   not HL7, no MSH/MSA, unknown MSA-1
    │   └── AckControlIdMismatch           MSA-2 is not the MSH-10 that was sent
    ├── FrameTooLarge                yes   the peer sent a frame over the size limit
    ├── TlsSetupError                yes   CA/certificate/key files could not be loaded
    └── InvalidPayload               no    the message itself cannot be framed

    MalformedMessage (ValueError)          an incoming message has no usable MSH (receiver side)

Messages name what is wrong, never message content: they end up in logs and in the attempt
history that support staff read, and message content is patient data.
"""

from __future__ import annotations

import re

from shapes import ANY, NUMBER, Shape

# The texts of the errors below that the console words (``shapes``); the attempt's error is
# ``<class name>: <text>`` (``destinations.worker.FAILED``).
CONTROL_ID_MISMATCH = Shape(
    "delivery.control_id_mismatch",
    "MSA-2 (length {length}) does not match the MSH-10 sent {expected!r}",
    length=r"\d+\+?",  # "41+": an error of an earlier engine, which cut MSA-2 at 40
    expected=ANY,
)
_ENGINE_CONTROL_ID_FORM = r"[0-9A-F]{19}"
"""The form of the MSH-10s the engine mints (``integrator.ids.new_control_id``: milliseconds
since the epoch in 11 hex digits, 32 random bits in 8): a receiver's MSA-2 of this form is no
patient data, and may be named."""
ENGINE_CONTROL_ID = re.compile(_ENGINE_CONTROL_ID_FORM)
CONTROL_ID_OF_ANOTHER = Shape(
    "delivery.control_id_of_another",
    "MSA-2 {received} is not the MSH-10 sent {expected!r}, but has the form of the MSH-10s "
    "this engine sends: the answer to another message (an earlier one, likely)",
    received=_ENGINE_CONTROL_ID_FORM,
    expected=ANY,
)
FRAME_TOO_LARGE = Shape(
    "delivery.frame_too_large", "MLLP frame larger than the limit of {limit} bytes", limit=NUMBER
)


class DeliveryError(Exception):
    """Root of every delivery failure; ``retryable`` says whether trying again can help."""

    retryable: bool = True
    # Answer frames that did arrive before the failure (enhanced mode: a commit ACK whose
    # application ACK never came); set by the client, kept for the attempt history.
    answers: tuple[bytes, ...] = ()


class ConnectFailed(DeliveryError):
    """The connection could not be opened (nothing was sent)."""


class ConnectionLost(DeliveryError):
    """The peer closed the connection while sending or before the ACK came.

    The message may or may not have been processed by the receiver; a retry is the only safe
    option and the receiver's duplicate detection (MSH-10) has to cope.
    """


class AckTimeout(DeliveryError):
    """No complete ACK within the destination's ``ack_timeout``."""


class SendStalled(DeliveryError):
    """The receiver stopped reading: no byte of the message was taken for ``ack_timeout``.

    Sending a large message is bounded by its progress, not by its size (a slow link may take
    minutes), and ``ack_timeout`` starts only once it is all sent; this is what bounds a
    receiver that never reads it. Part of it may have reached the receiver.
    """


class InvalidAck(DeliveryError):
    """An answer arrived but cannot count as an acknowledgement of this message."""


class MalformedAck(InvalidAck):
    """The answer is not an HL7 ACK we can read (missing MSH or MSA, unknown MSA-1, ...)."""


class AckControlIdMismatch(InvalidAck):
    """MSA-2 names another message than the one just sent.

    The MSH-10 sent is this engine's own control id and is named (cut short). What came back
    in MSA-2 is not: the receiver decides what it holds, and a receiver that answers with the
    wrong field there (``MSA|AA|BSN999990019-JanvdBerg``) would put patient data into the
    attempt's error, the engine's log and every listing. Its length says whether it was empty;
    the ACK as received stays with the attempt, shown only where views of patient data are
    audited (``messages show``, ``deadletter show``, the API's message detail).
    """

    def __init__(self, expected: str, received: str) -> None:
        self.expected = expected
        self.received_length = len(received)
        if ENGINE_CONTROL_ID.fullmatch(received):  # off by one: named, it says so at once
            said = CONTROL_ID_OF_ANOTHER(received=received, expected=_short(expected))
        else:
            said = CONTROL_ID_MISMATCH(length=len(received), expected=_short(expected))
        super().__init__(said)


class FrameTooLarge(DeliveryError):
    """A frame exceeded the decoder's limit; the stream can no longer be trusted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(FRAME_TOO_LARGE(limit=limit))


class TlsSetupError(DeliveryError):
    """The TLS context could not be built from the configured files.

    Retryable because the operator fixes it by correcting the destination, after which queued
    messages must still go out.
    """


class InvalidPayload(DeliveryError):
    """The payload contains MLLP control bytes, so framing it would corrupt the stream."""

    retryable = False


class MalformedMessage(ValueError):
    """An incoming message (receiver side) has no MSH segment we can read."""


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
