"""Escaped HL7 text read back for people: an ACK's error text, a field on the message page.

The inverse of the mapper's escaping (`mappings.escape`), for the screen only: never used to
build a message. It knows the escapes of HL7 v2 §2.7 and no segment or field.
"""

from __future__ import annotations

import re
from typing import Final

_FORMATTING_DROPPED: Final = frozenset({".fi", ".nf", ".in", ".ti", ".sk", "H", "N"})


def unescape(value: str, field_sep: str = "|", encoding: str = "^~\\&") -> str:
    """The text an escaped value stands for: delimiters, line breaks (`\\.br\\`, `\\.sp\\`,
    `\\.ce\\`) and hexadecimal escapes decoded; highlighting and indenting commands dropped.

    A hexadecimal escape that decodes to a control character other than a tab or a line break
    is kept as written, as is any escape this does not know (`\\C..\\`, `\\Z..\\`): text for a
    screen, not bytes that could end a frame or move a cursor."""
    if len(encoding) < 3 or encoding[2] not in value:
        return value
    esc = encoding[2]
    delimiters = {
        "F": field_sep,
        "S": encoding[0],
        "R": encoding[1],
        "E": esc,
        "T": encoding[3] if len(encoding) > 3 else "&",
    }

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner in delimiters:
            return delimiters[inner]
        if inner in (".br", ".ce"):
            return "\n"
        if inner.startswith(".sp"):
            count = inner[3:].strip()
            return "\n" * (int(count) if count.isdigit() and 0 < int(count) < 100 else 1)
        if inner[:3] in _FORMATTING_DROPPED or inner in _FORMATTING_DROPPED:
            return ""
        if inner[0] == "X" and len(inner) % 2 == 1 and len(inner) > 1:
            return _hex_text(inner[1:]) or match.group(0)
        return match.group(0)

    # Escapes pair up in order, as a receiver reads them: a lone escape character is text.
    return re.sub(f"{re.escape(esc)}([^{re.escape(esc)}]+){re.escape(esc)}", one, value)


def _hex_text(digits: str) -> str | None:
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if any((ord(c) < 0x20 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0 for c in text):
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")
