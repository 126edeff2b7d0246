"""Reading stored HL7 bytes back for people: decode by MSH-18, split into segments and fields.

Display only; the wire format is produced by ``mappings`` and judged by ``destinations.ack``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set as AbstractSet

CHARSETS = {"UNICODE UTF-8": "utf-8", "8859/1": "latin-1", "ASCII": "ascii", "": "utf-8"}


def declared_charset(data: bytes) -> str:
    """MSH-18 of a message (empty when absent)."""
    first = data.split(b"\r", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3:4])
    return fields[17].decode("ascii", "replace") if len(fields) > 17 else ""


def decode_message(data: bytes) -> str:
    codec = CHARSETS.get(declared_charset(data), "utf-8")
    return data.decode(codec, errors="replace")


def segment_lines(text: str, *, max_field: int | None = 80) -> list[str]:
    """One line per segment; very long field values (base64 attachments) are shortened."""
    lines = []
    for segment in text.replace("\n", "\r").split("\r"):
        if not segment:
            continue
        if max_field is not None:
            fields = segment.split("|")
            segment = "|".join(
                f[:max_field] + f"…(+{len(f) - max_field} chars)" if len(f) > max_field else f
                for f in fields
            )
        lines.append(segment)
    return lines


def field_rows(
    text: str,
    *,
    max_value: int | None = 80,
    numbered: bool = False,
    repeated: AbstractSet[str] | None = None,
) -> list[tuple[str, str]]:
    """(position, value) rows such as ``("PID-5", "Berg&van der&Berg^Jan")`` for a table view.

    A value longer than ``max_value`` (None: no limit) is cut and says how much was left out,
    so that nobody takes a cut value for the whole one. ``numbered``: a segment the message
    holds more than once is written with its occurrence, from 1, ``OBX(3)-5``: a referral's
    letter is eight OBX segments, and someone reading one out to a GP counted rows to tell
    which ``OBX-5`` was which (``plain_position`` takes the number off again). ``repeated``
    names the segments to number when it is not this message's own repeats (a comparison of
    two messages numbers a segment either of them repeats).
    """
    segments = [s for s in text.replace("\n", "\r").split("\r") if s]
    names = [segment[:3] for segment in segments]
    if not numbered:
        repeated = frozenset()
    elif repeated is None:
        repeated = repeated_segments(text)
    seen: dict[str, int] = {}
    rows: list[tuple[str, str]] = []
    for segment, name in zip(segments, names, strict=True):
        seen[name] = seen.get(name, 0) + 1
        label = f"{name}({seen[name]})" if name in repeated else name
        fields = segment.split("|")
        offset = 1 if name == "MSH" else 0  # MSH-1 is the field separator itself
        if name == "MSH":
            rows.append(("MSH-1", "|"))
        for index, value in enumerate(fields[1:], start=1 + offset):
            if value:
                rows.append((f"{label}-{index}", shortened(value, max_value)))
    return rows


def shortened(value: str, limit: int | None) -> str:
    """``value`` cut at ``limit`` characters (None: whole), saying how much was left out."""
    if limit is None or len(value) <= limit:
        return value
    return f"{value[:limit]}…(+{len(value) - limit:,} characters)"


def repeated_segments(text: str) -> frozenset[str]:
    """The names of the segments ``text`` holds more than once (``OBX`` in a referral)."""
    names = Counter(s[:3] for s in text.replace("\n", "\r").split("\r") if s)
    return frozenset(name for name, n in names.items() if n > 1)


def plain_position(position: str) -> str:
    """``OBX(3)-5`` as the standard names the field, ``OBX-5``."""
    segment, dash, index = position.partition("-")
    return f"{segment.partition('(')[0]}{dash}{index}"


# MSH-1 and MSH-2 are the delimiters themselves, not text written with them.
_DELIMITER_FIELDS = frozenset({"MSH-1", "MSH-2"})


def hl7_delimiters(text: str) -> tuple[str, str]:
    """The field separator and the encoding characters (MSH-1, MSH-2), ``|`` and ``^~\\&``
    unless the message says otherwise."""
    if text.startswith("MSH") and len(text) > 4:
        encoding = text[4:].split(text[3], 1)[0]
        if len(encoding) >= 3:
            return text[3], encoding
    return "|", "^~\\&"


def reads_as(position: str, value: str, delimiters: tuple[str, str]) -> str | None:
    """``value`` as text, its escapes decoded (``\\.br\\`` a line break, ``\\T\\`` an ``&``);
    None when that is the value itself: a letter's section reads as the GP wrote it."""
    if position in _DELIMITER_FIELDS:
        return None
    # Here, not with the module: every ``integrator`` call imports this one (``presenters``),
    # and a command's start-up imports nothing it does not use (test_cli_startup.py).
    from destinations.hl7text import unescape

    text = unescape(value, *delimiters)
    return None if text == value else text
