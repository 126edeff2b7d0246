"""Attachments go into a message as slots, filled once, in the bytes that go on the wire.

A 5 MiB PDF is 7 MB of base64 in OBX-5. Carried through every step of building a message as
text (joining components, fields and segments, fitting lengths, encoding the charset) it was
copied a dozen times and scanned twice, which made such a message about 400 times as slow as
one without. The base64 needs none of those steps:

* escaping: intake accepts only strict base64 (``schemas.attachments.CheckedBase64``:
  ``A-Z a-z 0-9 + / =``), which holds no HL7 delimiter, no control character and no MLLP
  byte (data of a model built without validation is escaped as before, and gets no slot);
* fitting: OBX-5 is advisory (``mappings.lengths``), never cut;
* charset: it is ASCII, the same bytes in every charset a version can have.

So a mapper puts ``slot(n)`` where attachment ``n``'s base64 goes, and ``fill_data`` puts the
base64 into the encoded message at the end: one copy into the message bytes. A slot is a NUL,
the number, a NUL: escaping turns every NUL of the data into ``\\X00\\`` and transliteration
never yields a control character, so a raw NUL in a message can only be a slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

MARK: Final = "\x00"
_MARK_BYTE: Final = b"\x00"
_ZERO: Final = ord("0")


def slot(index: int) -> str:
    return f"{MARK}{index}{MARK}"


def fill_text(skeleton: str, bulk: Sequence[str]) -> str:
    if not bulk:
        return skeleton
    parts = skeleton.split(MARK)
    _check(parts)
    parts[1::2] = [bulk[int(index)] for index in parts[1::2]]
    return "".join(parts)


def fill_data(skeleton: bytes, bulk: Sequence[str]) -> bytes:
    """``skeleton`` with every slot replaced by its base64 (ASCII: the same in any charset)."""
    if not bulk:
        return skeleton
    if len(bulk) == 1:
        # One attachment (most messages that have any): what the split below gives, found
        # byte by byte (a search for the three-byte slot costs more than the split).
        first = skeleton.find(_MARK_BYTE)
        second = skeleton.find(_MARK_BYTE, first + 1)
        if (
            first >= 0
            and second == first + 2
            and skeleton[first + 1] == _ZERO
            and skeleton.find(_MARK_BYTE, second + 1) < 0
        ):
            return b"".join((skeleton[:first], bulk[0].encode("ascii"), skeleton[second + 1 :]))
    parts = skeleton.split(_MARK_BYTE)
    _check(parts)
    parts[1::2] = [bulk[int(index)].encode("ascii") for index in parts[1::2]]
    return b"".join(parts)


def _check(parts: Sequence[object]) -> None:
    if len(parts) % 2 == 0:  # an odd number of marks: not made by ``slot``
        raise ValueError("a message holds a NUL that is no attachment slot")
