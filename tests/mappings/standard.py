"""A length check of whole messages against the standard's table, as a dictionary validator
does it; written apart from `mappings.lengths` (which fits values), so the two can disagree.

Every field, repetition, component and subcomponent of the message is measured as it is on
the wire: the characters between the delimiters after escaping and, for ISO 8859-1 versions,
after transliteration (pass the decoded wire bytes). A value is too long when it is longer
than its field's length (per repetition, separators included), its component's or
subcomponent's length (2.5.1), or, where no component length is given, its primitive type's
length (ST 199, IS 20, …). The one field left out is OBX-5, whose length is advisory.
A field that is not in the table at all is an error, not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mappings.standard_lengths import COMPONENTS, FIELDS, PRIMITIVE_LENGTHS

ADVISORY: Final = frozenset({"OBX-5"})
_SEPARATORS: Final = ("^", "&")


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # `ORC-2`, `ORC-21.1`, `PID-5.1.3`
    length: int
    limit: int


def violations(text: str, hl7_version: str) -> list[Violation]:
    """Every value of the message `text` (segments ended by CR) longer than the standard allows."""
    found: list[Violation] = []
    for line in text.split("\r"):
        if not line:
            continue
        name, *fields = line.split("|")
        numbered = list(enumerate(fields, 1))
        if name == "MSH":  # MSH-1 is the field separator itself; MSH-2 is not split.
            numbered = [(1, "|"), (2, fields[0]), *((n + 1, f) for n, f in numbered[1:])]
        for number, field in numbered:
            key = f"{name}-{number}"
            if not field or key in ADVISORY:
                continue
            datatype, length = FIELDS[hl7_version][key]
            occurrences = [field] if key in ("MSH-1", "MSH-2") else field.split("~")
            for occurrence in occurrences:
                split = key not in ("MSH-1", "MSH-2")
                _check(occurrence, key, datatype, length, hl7_version, 0 if split else 2, found)
    return found


def _check(
    value: str,
    path: str,
    datatype: str,
    length: int | None,
    hl7_version: str,
    depth: int,
    found: list[Violation],
) -> None:
    components = COMPONENTS[hl7_version].get(datatype)
    if components is None or depth == 2:
        limits = [length, PRIMITIVE_LENGTHS.get(datatype)]
    else:
        limits = [length]
    for limit in limits:
        if limit is not None and len(value) > limit:
            found.append(Violation(path, len(value), limit))
            break
    if components is None or depth == 2:
        return
    parts = value.split(_SEPARATORS[depth])
    assert len(parts) <= len(components), f"{path}: more components than {datatype} has"
    for position, part in enumerate(parts, 1):
        if part:
            part_type, part_length = components[position - 1]
            at = f"{path}.{position}"
            _check(part, at, part_type, part_length, hl7_version, depth + 1, found)
