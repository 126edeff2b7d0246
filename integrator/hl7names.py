"""HL7 fields with their names, as the standard of the message's own version calls them.

Support staff read ``PID-5`` as "Patient Name": the names come from hl7apy's tables for the
version in the message's MSH-12 (2.4 and 2.5.1 name some fields differently). A field the
tables do not know (a Z-segment, a version hl7apy lacks) has no name and is shown by position.

``field_changes`` compares two messages field by field, for the resend preview: what was sent
against what a remap would send now.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from integrator.hl7view import (
    field_rows,
    hl7_delimiters,
    plain_position,
    reads_as,
    repeated_segments,
    shortened,
)

_KEEP_UPPER = frozenset({"ID", "HL7", "ACK", "UTC", "ISO", "NDC", "CDA"})


@dataclass(frozen=True, slots=True)
class NamedField:
    position: str  # "PID-5"; "OBX(3)-5" in a segment the message repeats
    name: str | None  # "Patient Name"
    value: str  # as the wire has it
    reads: str | None = None  # its escapes decoded ("\\.br\\" a line break); None: the same


@dataclass(frozen=True, slots=True)
class FieldChange:
    position: str
    name: str | None
    before: str | None  # None: absent in the first message
    after: str | None  # None: absent in the second


def hl7_version(text: str) -> str | None:
    """MSH-12 of a message, e.g. ``2.5.1``."""
    first = text.replace("\n", "\r").split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return None
    fields = first.split(first[3])
    return fields[11].split(first[4] if len(first) > 4 else "^")[0] if len(fields) > 11 else None


@functools.lru_cache(maxsize=4096)
def field_name(position: str, version: str | None) -> str | None:
    """The standard's name of ``position`` (``PID-5``) in ``version``, or None if unknown."""
    if version is None:
        return None
    segment, _, index = position.partition("-")
    try:
        from hl7apy.core import Field

        long_name = Field(f"{segment}_{int(index)}", version=version).long_name
    except Exception:  # unknown segment, field or version: shown by position only
        return None
    return _readable(long_name, segment) if long_name else None


def named_fields(text: str, *, max_value: int = 200) -> list[NamedField]:
    """Each field with its name; a repeated segment's with its occurrence (``OBX(3)-5``)."""
    version = hl7_version(text)
    delimiters = hl7_delimiters(text)
    return [
        NamedField(
            position,
            field_name(plain_position(position), version),
            value,
            reads_as(position, value, delimiters),
        )
        for position, value in field_rows(text, max_value=max_value, numbered=True)
    ]


def field_changes(before: str, after: str, *, max_value: int = 200) -> list[FieldChange]:
    """The fields whose value differs, in the order of the second message (then the first's).

    Values are compared whole and shown up to ``max_value`` characters (an attachment in
    base64 can be megabytes)."""
    version = hl7_version(after) or hl7_version(before)
    # A segment either message repeats is numbered in both, so that the first of two OBX
    # segments is OBX(1) whether or not the other message has a second one.
    repeated = repeated_segments(before) | repeated_segments(after)
    old = dict(field_rows(before, max_value=None, numbered=True, repeated=repeated))
    new = dict(field_rows(after, max_value=None, numbered=True, repeated=repeated))
    changes = []
    for position in list(new) + [p for p in old if p not in new]:
        if old.get(position) != new.get(position):
            changes.append(
                FieldChange(
                    position,
                    field_name(plain_position(position), version),
                    _shortened(old.get(position), max_value),
                    _shortened(new.get(position), max_value),
                )
            )
    return changes


def _shortened(value: str | None, limit: int) -> str | None:
    return None if value is None else shortened(value, limit)


def _readable(long_name: str, segment: str) -> str:
    """``SET_ID_PID`` → ``Set ID PID``: words, with codes and abbreviations kept as they are."""
    words = long_name.replace("_", " ").split()
    return " ".join(
        w if w in _KEEP_UPPER or w == segment or _is_code(w) else w.capitalize() for w in words
    )


def _is_code(word: str) -> bool:
    """Segment and type codes (``PID``, ``NK1``, ``MSH``) stay as they are."""
    return any(c.isdigit() for c in word) or not any(c in "AEIOU" for c in word)
