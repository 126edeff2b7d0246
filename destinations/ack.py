"""Reading HL7 acknowledgements, and the few MSH fields a receiver needs to answer.

A small parser of our own rather than python-hl7 or hl7apy: an ACK needs four fields, it is read
once per delivered message (the hot path), and receivers in the field are sloppy about segment
separators (``\\r``, ``\\n`` and ``\\r\\n`` all occur), which the general parsers handle badly.
The encoding characters are taken from MSH, never assumed.

Whether an ACK means "delivered", "retry" or "dead letter" is decided here as well, because it is
HL7 knowledge (MSA-1 codes) plus the destination's policy, and nothing about sockets.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final, Literal

from destinations.errors import AckControlIdMismatch, MalformedAck, MalformedMessage
from destinations.hl7text import unescape
from shapes import Shape

ACK_CODES = frozenset({"AA", "AE", "AR", "CA", "CE", "CR"})
_SUCCESS = frozenset({"AA", "CA"})
_ERROR = frozenset({"AE", "CE"})
COMMIT_CODES = frozenset({"CA", "CE", "CR"})

# HL7 table 0211 values we can decode; anything else falls back to UTF-8, then Latin-1.
_CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
}

_SEGMENT_SPLIT = re.compile(r"\r\n|\r|\n")


def codec_for(charset: str) -> str | None:
    """Python codec for an MSH-18 value, or None when MSH-18 is empty or unknown."""
    return _CHARSETS.get(charset.strip().upper())


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledgement as read off the wire; ``raw`` is kept for the attempt history."""

    code: str
    control_id: str
    text: str
    error: str
    raw: bytes


class AckOutcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEADLETTER = "deadletter"


@dataclass(frozen=True, slots=True)
class MshFields:
    """MSH fields as raw strings (components included), so an answer can mirror them exactly."""

    field_separator: str
    encoding_characters: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_time: str
    message_type: str
    control_id: str
    processing_id: str
    version: str
    charset: str
    accept_ack_type: str = ""  # MSH-15, enhanced mode only: AL, NE, ER, SU
    application_ack_type: str = ""  # MSH-16, enhanced mode only

    @property
    def component_separator(self) -> str:
        return self.encoding_characters[0]

    @property
    def message_code(self) -> str:
        return self.message_type.split(self.component_separator)[0]

    @property
    def trigger_event(self) -> str:
        parts = self.message_type.split(self.component_separator)
        return parts[1] if len(parts) > 1 else ""


def read_msh(message: bytes) -> MshFields:
    """The MSH fields of an incoming message; ``MalformedMessage`` when there is no usable MSH.

    Only the MSH segment is decoded, so a multi-MB message costs no more than a small one.
    """
    problem, msh = _read_msh(message)
    if msh is None:
        raise MalformedMessage(f"message {problem}")
    return msh


# Why an answer is no ACK (``shapes``): by the problem ``_msh_fields`` names, then the MSA's.
UNREADABLE_ACK: Final = {
    "is empty": Shape("delivery.ack_empty", "ACK is empty"),
    "does not start with an MSH segment": Shape(
        "delivery.ack_no_msh", "ACK does not start with an MSH segment"
    ),
    "has no valid field separator in MSH-1": Shape(
        "delivery.ack_no_field_separator", "ACK has no valid field separator in MSH-1"
    ),
    "has no valid encoding characters in MSH-2": Shape(
        "delivery.ack_no_encoding_characters", "ACK has no valid encoding characters in MSH-2"
    ),
}
ACK_NO_MSA: Final = Shape("delivery.ack_no_msa", "ACK has no MSA segment")
ACK_MSA_TWICE: Final = Shape(
    "delivery.ack_msa_twice", "ACK has more than one MSA segment (an ACK answers one message)"
)
ACK_NO_CODE: Final = Shape("delivery.ack_no_code", "ACK MSA-1 (acknowledgment code) is empty")
ACK_UNKNOWN_CODE: Final = Shape(
    "delivery.ack_unknown_code", "ACK MSA-1 is not one of AA, AE, AR, CA, CE, CR"
)
_CODE_FORM_TEXT: Final = r"[A-Z0-9]{1,3}"
ACK_UNKNOWN_CODE_NAMED: Final = Shape(
    "delivery.ack_unknown_code_named",
    "ACK MSA-1 {msa_1} is not one of AA, AE, AR, CA, CE, CR",
    msa_1=_CODE_FORM_TEXT,
)
"""An unknown MSA-1 of a code's form (``OK``, ``ACK``) is named: letters and digits, three at
most, can hold no patient data, and say at once what the receiver sends. Anything else is
not named (the receiver decides what the field holds)."""
_CODE_FORM: Final = re.compile(_CODE_FORM_TEXT)


_STANDARD_ENCODING: Final = b"^~\\&"
"""MSH-2 as nearly every sender and receiver writes it."""
_STANDARD_ENCODING_TEXT: Final = _STANDARD_ENCODING.decode("ascii")
_PLAIN_MSH: Final = b"MSH|" + _STANDARD_ENCODING + b"|"
"""The start of an ACK with the standard separators."""


def parse_ack(raw: bytes) -> Ack:
    """Read an ACK; ``MalformedAck`` names what is missing or wrong, never the content.

    Read once per delivered message. An ASCII answer that starts with the standard separators
    is read without looking at MSH-18 first: every charset ``_CHARSETS`` names, and UTF-8,
    reads ASCII bytes as ASCII, so MSH-18 could change nothing (a property test holds the two
    ways of reading to the same result).
    """
    if raw.startswith(_PLAIN_MSH) and raw.isascii():
        return _ack_from(raw.decode("ascii"), "|", _STANDARD_ENCODING_TEXT, raw)
    return _parse_decoding(raw)


def _parse_decoding(raw: bytes) -> Ack:
    """``parse_ack`` for any answer: its MSH read first, the rest decoded by its MSH-18."""
    problem, fields = _msh_fields(raw)
    if fields is None:
        shape = UNREADABLE_ACK.get(problem)
        raise MalformedAck(shape() if shape is not None else f"ACK {problem}")
    return _ack_from(_decode(raw, codec_for(_field(fields, 17))), fields[0], fields[1], raw)


def _ack_from(text: str, fs: str, enc: str, raw: bytes) -> Ack:
    msa: list[str] | None = None
    errs: list[list[str]] = []
    for segment in _SEGMENT_SPLIT.split(text):
        name = segment[:3]
        if name == "MSA":
            if msa is not None:
                # ``MSA|AA|…`` then ``MSA|AR|…``: which one holds? Read as the first, a
                # rejection counted as delivered. Malformed: tried again, the receiver's error.
                raise MalformedAck(ACK_MSA_TWICE())
            msa = segment.split(fs)
        elif name == "ERR" and len(errs) < ERRORS_READ:
            errs.append(segment.split(fs))
    if msa is None:
        raise MalformedAck(ACK_NO_MSA())
    code = _field(msa, 1).strip().upper()
    if not code:
        raise MalformedAck(ACK_NO_CODE())
    if code not in ACK_CODES:
        named = _CODE_FORM.fullmatch(code) is not None
        raise MalformedAck(ACK_UNKNOWN_CODE_NAMED(msa_1=code) if named else ACK_UNKNOWN_CODE())
    return Ack(
        code=code,
        control_id=_field(msa, 2).strip(),
        text=unescape(_field(msa, 3), fs, enc),
        error=_errors_summary(msa, errs, fs, enc),
        raw=raw,
    )


def classify_ack(
    ack: Ack,
    expected_control_id: str,
    *,
    on_error: Literal["retry", "deadletter"] = "retry",
    on_reject: Literal["retry", "deadletter"] = "deadletter",
) -> AckOutcome:
    """Decide what an ACK means for the message whose MSH-10 was ``expected_control_id``.

    A mismatching MSA-2 is an exception, not an outcome: that answer belongs to another message,
    so the connection is out of step and must be reopened before anything else is sent.
    """
    for name, value in (("on_error", on_error), ("on_reject", on_reject)):
        if value not in ("retry", "deadletter"):
            raise ValueError(f"{name} must be 'retry' or 'deadletter'")
    if ack.control_id != expected_control_id:
        raise AckControlIdMismatch(expected_control_id, ack.control_id)
    if ack.code in _SUCCESS:
        return AckOutcome.DELIVERED
    policy = on_error if ack.code in _ERROR else on_reject
    return AckOutcome.RETRY if policy == "retry" else AckOutcome.DEADLETTER


def _read_msh(raw: bytes) -> tuple[str, MshFields | None]:
    """Read the MSH segment; returns (problem, None) instead of raising."""
    problem, fields = _msh_fields(raw)
    if fields is None:
        return problem, None
    msh = MshFields(
        field_separator=fields[0],
        encoding_characters=fields[1],
        sending_application=_field(fields, 2),
        sending_facility=_field(fields, 3),
        receiving_application=_field(fields, 4),
        receiving_facility=_field(fields, 5),
        message_time=_field(fields, 6),
        message_type=_field(fields, 8),
        control_id=_field(fields, 9).strip(),
        processing_id=_field(fields, 10),
        version=_field(fields, 11),
        charset=_field(fields, 17),
        accept_ack_type=_field(fields, 14).strip().upper(),
        application_ack_type=_field(fields, 15).strip().upper(),
    )
    return "", msh


def application_ack_type(message: bytes) -> str | None:
    """MSH-16 of an outgoing message (stripped, upper case), or None without a usable MSH.

    The worker asks this once per attempt; reading all of ``read_msh``'s fields for one of
    them was a tenth of the delivery side's CPU. A message as this engine writes it (``MSH|``,
    no byte order mark, no leading blank) is split as bytes: every charset of MSH-18 this
    reads (``_CHARSETS``) keeps ``|`` and ``\\r`` as the ASCII bytes they are, so the fields
    are those ``_msh_fields`` finds, without decoding the segment.
    """
    if message.startswith(b"MSH|"):
        cr = message.find(b"\r")
        lf = message.find(b"\n", 0, len(message) if cr < 0 else cr)
        end = lf if lf >= 0 else cr
        parts = (message if end < 0 else message[:end]).split(b"|", 16)
        value = parts[15] if len(parts) > 15 else b""
        if (parts[1] == _STANDARD_ENCODING or _valid_encoding(parts[1])) and value.isascii():
            return value.decode("ascii").strip().upper()
    _problem, fields = _msh_fields(message)
    return None if fields is None else _field(fields, 15).strip().upper()


_TYPE_PART = re.compile(r"[A-Z0-9]{3}")


def message_type(raw: bytes) -> str | None:
    """MSH-9 of a frame as ``code^event`` (``ADT^A08``, ``ACK^I12``, ``ACK``), or None without
    a usable MSH or when MSH-9 is not made of HL7 codes.

    The receiver decides what MSH-9 holds; only three-character codes are taken, so what is
    said about a frame in a log or an error (``destinations.client.SKIPPED``) can never carry
    what else a receiver put there.
    """
    _problem, fields = _msh_fields(raw)
    if fields is None:
        return None
    parts = [part.strip().upper() for part in _field(fields, 8).split(fields[1][0])[:2]]
    if parts[-1] == "":
        parts.pop()
    if not parts or not all(_TYPE_PART.fullmatch(part) for part in parts):
        return None
    return "^".join(parts)


_SEGMENTS = re.compile(rb"\r\n|\r|\n")


def unsolicited_type(raw: bytes) -> str | None:
    """MSH-9 (``code^event``) of a frame that is a message of its own rather than an answer:
    a readable message type other than ``ACK``, and no MSA segment. None for anything else.

    A receiver may send its own messages on the connection (an ``ADT^A08`` before each ACK);
    such a frame answers nothing, unlike an application response that carries an MSA
    (``RRI^I12``, ``ORR^O02``, ``ORL^O22``), which is an answer whatever its type. A frame
    without MSA that calls itself ``ACK``, or whose type cannot be read, is an unreadable
    answer, not a message of its own.
    """
    kind = message_type(raw)
    if kind is None or kind.split("^")[0] == "ACK":
        return None
    if any(segment.lstrip().startswith(b"MSA") for segment in _SEGMENTS.split(raw)):
        return None
    return kind


def _valid_encoding(enc: bytes | str) -> bool:
    """MSH-2 as the standard has it: one to five characters, none a letter, digit or blank."""
    chars = enc.decode("latin-1") if isinstance(enc, bytes) else enc
    return 0 < len(chars) <= 5 and not any(c.isalnum() or c.isspace() for c in chars)


def _msh_fields(raw: bytes) -> tuple[str, list[str] | None]:
    """The MSH segment split into fields, decoded by its own MSH-18, or (problem, None).

    ``fields[0]`` is the field separator itself (MSH-1) and ``fields[1]`` the encoding
    characters (MSH-2), so ``fields[n - 1]`` is MSH-n, as the standard counts.
    """
    body = raw.lstrip(b"\r\n \t")
    if body.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
        body = body[3:]
    if not body:
        return "is empty", None
    end = len(body)
    for sep in (b"\r", b"\n"):
        index = body.find(sep, 0, end)
        if index >= 0:
            end = index
    segment = body[:end]
    if not segment.startswith(b"MSH") or len(segment) < 5:
        return "does not start with an MSH segment", None
    fs = chr(segment[3])
    if fs.isalnum() or fs.isspace():
        return "has no valid field separator in MSH-1", None
    # MSH-18 is ASCII, so a Latin-1 look finds it before the real charset is known.
    fields = segment.decode("latin-1").split(fs)
    enc = fields[1]
    if not _valid_encoding(enc):
        return "has no valid encoding characters in MSH-2", None
    codec = codec_for(_field(fields, 17))
    if codec != "latin-1":
        # Decoded another way, the separator may split differently, even not at all.
        fields = _decode(segment, codec).split(fs)
        if len(fields) < 2:
            fields.append(enc)
    fields[0], fields[1] = fs, enc  # MSH-1 is the separator itself; MSH-2 as validated
    return "", fields


def _decode(raw: bytes, codec: str | None) -> str:
    if codec is not None:
        return raw.decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _field(fields: list[str], index: int) -> str:
    """Field ``index`` of a split segment (MSH-n is ``index = n - 1``; others ``index = n``)."""
    return fields[index] if index < len(fields) else ""


def _components(value: str, enc: str) -> list[str]:
    return value.split(enc[0])


ERRORS_READ = 10
"""How many ERR segments of one answer are read: a receiver that names each problem in an ERR
of its own is read past the first (support fixed one, resent, and was refused again), without
an answer of thousands making a line nobody reads."""


def _errors_summary(msa: list[str], errs: list[list[str]], fs: str, enc: str) -> str:
    """Every ERR's line (``_error_summary``), joined by ``; ``; MSA-6's when there is none."""
    if len(errs) < 2:
        return _error_summary(msa, errs[0] if errs else None, fs, enc)
    said = [_error_summary(msa, err, fs, enc, msa_6=False) for err in errs]
    return "; ".join(dict.fromkeys(line for line in said if line)) or _error_summary(
        msa, None, fs, enc
    )


def _error_summary(
    msa: list[str], err: list[str] | None, fs: str, enc: str, *, msa_6: bool = True
) -> str:
    """One readable line from ERR (2.5 style ERR-3, 2.4 style ERR-1; ERR-8, the user message,
    and ERR-7, the diagnostic text, after it) or MSA-6, else ''."""
    if err is None and not _field(msa, 6):  # an ACK that went well: nothing to summarise
        return ""
    code = text = location = ""
    if err is not None:
        if _field(err, 3):  # HL7 2.5+: ERR-2 location, ERR-3 CWE error code
            code, text = _code_and_text(_components(_field(err, 3), enc))
            location = _field(err, 2)
        elif _field(err, 1):  # HL7 2.3/2.4: ERR-1 ELD segment^sequence^field^code&text
            parts = _components(_field(err, 1).split(enc[1])[0] if len(enc) > 1 else "", enc)
            location = enc[0].join(p for p in parts[:3] if p)
            if len(parts) > 3:
                sub = parts[3].split(enc[3]) if len(enc) > 3 else [parts[3]]
                code, text = _code_and_text(sub)
    if msa_6 and not code and not text and _field(msa, 6):
        code, text = _code_and_text(_components(_field(msa, 6), enc))
    summary = " ".join(p for p in (code, unescape(text, fs, enc)) if p)
    if location:
        summary = f"{summary} at {location}" if summary else f"at {location}"
    for position in (8, 7):  # the user message, then the diagnostic text
        if err is not None and _field(err, position):
            words = unescape(_field(err, position), fs, enc)
            summary = f"{summary}: {words}" if summary else words
    return summary


def _code_and_text(parts: list[str]) -> tuple[str, str]:
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")
