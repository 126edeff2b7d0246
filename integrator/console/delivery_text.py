"""A delivery's error, said to the person in their language.

What the engine records when an attempt fails (``attempts.error``) and keeps as the message's
last error (``messages.last_error``, which the dead-letter pages group by) is English, as the
CLI and the API show it. Each sentence is a ``shapes.Shape`` beside the code that writes it:
the class and text of an error raised while delivering (``destinations.worker.FAILED``, with
the texts of ``destinations.client``, ``.errors``, ``.ack``, ``.mllp``, ``.tls``), a negative
ACK with the receiver's words or cut short (``integrator.ack_reason``), why the engine gave up
(``destinations.retry``), a removed destination (``integrator.operators``). The receiver's
words, the system's words about a socket, and the reason a person typed are shown as they
are, quoted; a text no shape reads is shown as stored (``integrator.console.shaped``).
"""

from __future__ import annotations

from typing import Final

from destinations import ack, client, errors, mllp, retry, tls, worker
from integrator import ack_reason, operators, recorder
from integrator.console.shaped import Family

ERRORS: Final = Family(
    (
        worker.GAVE_UP,
        worker.NEGATIVE_ACK_CUT,  # before the uncut one, whose words would read it whole
        worker.NEGATIVE_ACK_SAYING,
        worker.NEGATIVE_ACK,
        ack_reason.WITHHELD,
        retry.OUT_OF_ATTEMPTS,
        retry.OUT_OF_TIME_SINCE_RELEASE,
        retry.OUT_OF_TIME_SINCE_RESUME,
        retry.OUT_OF_TIME,
        operators.REMOVED_BECAUSE,
        operators.REMOVED,
        recorder.NOT_KEPT,
        worker.FAILED,
        worker.SECOND_COMMIT_ACK,
        client.CONNECT_TIMED_OUT,
        client.HANDSHAKE_UNANSWERED,
        client.CONNECT_FAILED,
        client.CONNECTION_CLOSED,
        client.CLOSED_IN_FRAME,
        client.CLOSED_AFTER_UNFRAMED,
        client.SKIPPED,
        client.UNFRAMED_ANSWER,
        client.UNFINISHED_FRAME,
        client.NO_ACK,
        client.SEND_STALLED,
        client.NO_APPLICATION_ACK,
        client.REFUSED,
        client.TLS_UNVERIFIED,
        client.TLS_FAILED,
        client.TLS_HANDSHAKE_CLOSED,
        client.TLS_CLOSED,
        client.TLS_CLOSED_SAYING,
        errors.CONTROL_ID_MISMATCH,
        errors.CONTROL_ID_OF_ANOTHER,
        errors.FRAME_TOO_LARGE,
        *ack.UNREADABLE_ACK.values(),
        ack.ACK_NO_MSA,
        ack.ACK_NO_CODE,
        ack.ACK_UNKNOWN_CODE_NAMED,
        ack.ACK_UNKNOWN_CODE,
        mllp.HAS_START_BYTE,
        mllp.HAS_END_BYTE,
        tls.NOT_LOADED,
        client.SOCKET_ERROR,  # last: it reads any "<class>: <words>"
    ),
    nested=frozenset({"error", "why", "cause"}),
    words={"ack": lambda lang, code: _ack_meant(lang, code)},
)
"""Every sentence the engine writes as a delivery's error, the most particular first."""


def _ack_meant(lang: str, code: str) -> str:
    """A negative ACK's code with what it means to someone who does not read HL7 (``AR``:
    bericht geweigerd), in a language other than English; the code alone where none is
    known. English pages show an error as the engine wrote it, as the CLI and the API do."""
    from integrator.console.i18n import NL, translate

    key = f"ack.meaning.{code}"
    return f"{code}, {translate(lang, key)}" if lang != "en" and key in NL else code


def word(lang: str, error: str) -> str:
    """``error`` (as an attempt or a message keeps it) in ``lang``; as stored when no shape
    reads it."""
    return ERRORS.word(lang, error)
