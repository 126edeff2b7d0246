"""Joining already-escaped values into HL7 v2 structure: plain string building, no objects.

Every function here takes values that went through `mappings.escape` first, so a raw delimiter
can only come from these joins. That is the whole safety argument: the number of fields,
components, repetitions and segments is decided by the mapper's code, never by the data.

Trailing empty components, subcomponents and fields are dropped (HL7 v2 §2.5.3: a receiver
treats them as not present), which keeps messages short and golden files readable.
Segments end with CR, the HL7 segment terminator, the last one included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

SEGMENT_END: Final = "\r"
ENCODING_CHARACTERS: Final = "^~\\&"


def components(*parts: str) -> str:
    """`a^b^c` without trailing empty components."""
    return "^".join(parts).rstrip("^")


def subcomponents(*parts: str) -> str:
    """`a&b&c` without trailing empty subcomponents."""
    return "&".join(parts).rstrip("&")


def repetitions(parts: Iterable[str]) -> str:
    """`a~b~c`; empty repetitions are left out, so absent optional values leave no gap."""
    return "~".join(filter(None, parts))


def segment(name: str, *fields: str) -> str:
    """`NAME|f1|f2…` without trailing empty fields; `fields[0]` is field 1."""
    return (name + "|" + "|".join(fields)).rstrip("|")


def message(segments: Iterable[str]) -> str:
    """The message text: every segment terminated by CR."""
    return SEGMENT_END.join(segments) + SEGMENT_END
