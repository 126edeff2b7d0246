"""Values longer than the HL7 standard allows: cut with a warning, or kept whole, by rule.

Intake puts no length limits on text, so every version applies one rule to every field it
sends, against the standard's lengths of its HL7 version (`mappings.standard_lengths`): the
field's length (per repetition, separators included), the component and subcomponent lengths
HL7 2.5.1 gives, and where none is given the primitive type's length (ST 199, IS 20, …).

* Descriptive text (`TEXT_PARTS`: name parts, street, city, house number addition, the text of
  coded values (CE-2/CWE-2), organisation names (XON-1), location descriptions (PL-9)) is
  **cut** to what its component allows and, when the field as a whole is still too long, the
  longest text parts of the field are cut further until it fits (the text parts of a field
  share what its identifiers and fixed values leave). Each cut gives a warning naming the
  fields, never the value: `PRD-4.9 shortened to 36 characters`.
* Everything else (identifiers, codes, coding systems, telecom, dates, FT/TX content) is
  **kept whole**: a cut identifier names something else. Where one is longer than the
  standard allows, the message says so: `PID-3.1 kept whole: longer than 15 characters`.
  The identifiers the mappers compose (placer numbers) are built to fit; only values intake
  does not limit can trip this.
* `OBX-5` is left alone: its length depends on the value type (OBX-2) and is advisory.

Lengths count the characters as they are on the wire: after escaping (`\\T\\` is three
characters) and, for ISO 8859-1 versions, after transliteration (`€` becomes `EUR`). That is
how the standard counts (the characters a field occupies) and what a dictionary validator such
as hl7apy's strict parser flags. Escape sequences are never cut apart.

Fitting works on the finished segments, before they are joined into a message; it relies on
the writer's guarantee that delimiters only appear as delimiters. It runs only when it may have
something to do: the builders join with `mappings.checked` (and its templates,
`mappings.templates`), which compare each part with the limits below while joining, and a
message none of whose parts is too long is left as it is (`fit_while_writing`). So these
rules, and the warnings, are decided here alone.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, count
from typing import Final

from mappings.charset import LATIN1, transliterate_char
from mappings.standard_lengths import COMPONENTS, FIELDS, PRIMITIVE_LENGTHS
from shapes import NUMBER, PATHS, Shape

# Component paths (component, subcomponent) per datatype that hold descriptive text.
TEXT_PARTS: Final[Mapping[str, frozenset[tuple[int, ...]]]] = {
    # FN: surname as used, own prefix, own surname, partner prefix, partner surname.
    "XPN": frozenset({(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2,), (3,)}),
    "XCN": frozenset({(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (3,), (4,)}),
    # SAD: street line, street (not the house number); addition; city.
    "XAD": frozenset({(1, 1), (1, 2), (2,), (3,)}),
    "PL": frozenset({(9,)}),
    "XON": frozenset({(1,)}),
    "CE": frozenset({(2,)}),
    "CWE": frozenset({(2,)}),
}
ADVISORY: Final = frozenset({"OBX-5"})

# The warnings, each naming the fields of one limit (`shapes`).
SHORTENED: Final = Shape(
    "lengths.shortened", "{paths} shortened to {limit} characters", paths=PATHS, limit=NUMBER
)
KEPT_WHOLE: Final = Shape(
    "lengths.kept_whole",
    "{paths} kept whole: longer than {limit} characters",
    paths=PATHS,
    limit=NUMBER,
)

_UNLIMITED: Final = 1 << 62


@dataclass(frozen=True, slots=True)
class _Leaf:
    limit: int
    text: bool


@dataclass(frozen=True, slots=True)
class _Component:
    limit: int  # the component's own length (composite components), or its leaf's
    leaf: _Leaf | None  # a primitive component
    subcomponents: tuple[_Leaf, ...]  # a composite component
    quick: int  # the smallest limit inside: a shorter component cannot be too long
    sublimits: tuple[int, ...]  # the subcomponents' limits


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # `PID-5`
    limit: int
    leaf: _Leaf | None  # a primitive field
    components: tuple[_Component, ...]
    quicks: tuple[int, ...]
    quick: int
    shape: int  # fields of one shape (datatype and length) fit or not alike


_SHAPES: Final[dict[tuple[str, str, int | None], int]] = {}


def _limit(*lengths: int | None) -> int:
    return min((length for length in lengths if length is not None), default=_UNLIMITED)


def _compile_field(name: str, datatype: str, length: int | None, hl7_version: str) -> _Field:
    limit = _limit(length)
    shape = _shape(hl7_version, datatype, length)
    if datatype not in COMPONENTS[hl7_version]:
        leaf = _Leaf(_limit(length, PRIMITIVE_LENGTHS.get(datatype)), False)
        return _Field(name, limit, leaf, (), (), leaf.limit, shape)
    components = _components(hl7_version, datatype)
    quicks = tuple(component.quick for component in components)
    return _Field(name, limit, None, components, quicks, min(limit, *quicks), shape)


@functools.cache
def _components(hl7_version: str, datatype: str) -> tuple[_Component, ...]:
    """The components of a composite datatype, with their limits (shared by its fields)."""
    table = COMPONENTS[hl7_version]
    text = TEXT_PARTS.get(datatype, frozenset())
    compiled = []
    for position, (part_type, part_length) in enumerate(table[datatype], 1):
        subparts = table.get(part_type)
        if subparts is None:
            part_limit = _limit(part_length, PRIMITIVE_LENGTHS.get(part_type))
            leaf = _Leaf(part_limit, (position,) in text)
            compiled.append(_Component(part_limit, leaf, (), part_limit, ()))
            continue
        leaves = tuple(
            _Leaf(_limit(sub_length, PRIMITIVE_LENGTHS.get(sub_type)), (position, sub) in text)
            for sub, (sub_type, sub_length) in enumerate(subparts, 1)
        )
        own = _limit(part_length)
        sublimits = tuple(leaf.limit for leaf in leaves)
        compiled.append(_Component(own, None, leaves, min(own, *sublimits), sublimits))
    return tuple(compiled)


def _shape(hl7_version: str, datatype: str, length: int | None) -> int:
    return _SHAPES.setdefault((hl7_version, datatype, length), len(_SHAPES))


@dataclass(frozen=True, slots=True)
class _Segment:
    fields: tuple[_Field | None, ...]  # indexed as `line.split("|")` indexes the fields
    quicks: tuple[int, ...]  # per field: no longer than its smallest limit inside, it fits


def _compile(hl7_version: str) -> dict[str, _Segment]:
    fields: dict[str, list[_Field | None]] = {}
    for key, (datatype, length) in FIELDS[hl7_version].items():
        segment, number = key.split("-")
        index = int(number) - 1 if segment == "MSH" else int(number)
        specs = fields.setdefault(segment, [])
        specs.extend([None] * (index + 1 - len(specs)))
        if key not in ADVISORY and key not in ("MSH-1", "MSH-2"):
            specs[index] = _compile_field(key, datatype, length, hl7_version)
    return {
        segment: _Segment(
            tuple(specs), tuple(_UNLIMITED if spec is None else spec.quick for spec in specs)
        )
        for segment, specs in fields.items()
    }


_SPECS: Final = {version: _compile(version) for version in FIELDS}

# What `mappings.checked` compiles its checks from: the limits `_fits` compares with.
UNLIMITED: Final = _UNLIMITED


def component_specs(hl7_version: str, datatype: str) -> tuple[_Component, ...]:
    """The components of `datatype`, each with its `limit` (own length or primitive limit)."""
    return _components(hl7_version, datatype)


def subcomponent_limits(hl7_version: str, datatype: str) -> list[int]:
    """The limits of `datatype`'s components when it is a component itself (subcomponents)."""
    table = COMPONENTS[hl7_version]
    return [
        _limit(sub_length, PRIMITIVE_LENGTHS.get(sub_type))
        for sub_type, sub_length in table[datatype]
    ]


def segment_specs(hl7_version: str) -> dict[str, list[int]]:
    """Per segment, fields 1…: a primitive field's limit, a composite field's length, or
    `UNLIMITED` (no spec: OBX-5, MSH-1, MSH-2)."""
    return {
        name: [
            _UNLIMITED if spec is None else spec.quick if spec.leaf is not None else spec.limit
            for spec in segment.fields[1:]
        ]
        for name, segment in _SPECS[hl7_version].items()
    }


_ANY: Final = _Leaf(_UNLIMITED, False)  # a part beyond its datatype (never sent)
_NOT_LATIN1: Final = re.compile(r"[^\x00-\xff]").search


def not_latin1(text: str) -> bool:
    """Whether `text` has a character outside ISO 8859-1 (one that transliteration replaces)."""
    return _NOT_LATIN1(text) is not None


Width = Callable[[str], int]


def _latin1_width(value: str) -> int:
    """Characters after transliteration to ISO 8859-1 (`€` is `EUR`)."""
    if value.isascii() or not _NOT_LATIN1(value):
        return len(value)
    return sum(len(transliterate_char(char)) if char > "\xff" else 1 for char in value)


def _cut(value: str, limit: int, width: Width) -> str:
    """The longest start of the escaped `value` that is at most `limit` wide; escape
    sequences (`\\T\\`, `\\X0D\\`) are kept or dropped whole."""
    if "\\" not in value and width is len:
        return value[:limit]
    used = 0
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            end = value.index("\\", index + 1) + 1
            step, size = end - index, end - index
        else:
            step, size = 1, width(char)
        if used + size > limit:
            break
        used += size
        index += step
    return value[:index]


def _level(widths: list[int], budget: int) -> int:
    """The largest `level` with `sum(min(width, level)) <= budget` (water filling): the
    longest parts give up characters first, short ones stay whole."""
    remaining = budget
    ordered = sorted(widths)
    for done, width in enumerate(ordered):
        share = remaining // (len(ordered) - done)
        if width > share:
            return share
        remaining -= width
    return ordered[-1] if ordered else 0


class _Findings:
    """What fitting did, per field path, in the order first met."""

    def __init__(self) -> None:
        self.cut: dict[tuple[str, int], None] = {}
        self.kept: dict[tuple[str, int], None] = {}

    def warnings(self) -> tuple[str, ...]:
        return (
            *_grouped(self.cut, SHORTENED),
            *_grouped(self.kept, KEPT_WHOLE),
        )


def _grouped(found: Iterable[tuple[str, int]], shape: Shape) -> list[str]:
    by_limit: dict[int, list[str]] = {}
    for path, limit in found:
        by_limit.setdefault(limit, []).append(path)
    return [shape(paths=", ".join(paths), limit=limit) for limit, paths in by_limit.items()]


def fit_segments(
    segments: list[str], hl7_version: str, charset: str
) -> tuple[list[str], tuple[str, ...]]:
    """`segments` (escaped HL7 text, one string per segment) with every value fitted to the
    standard's lengths of `hl7_version`, and the warnings that tell what was cut or kept."""
    specs = _SPECS[hl7_version]
    latin1 = charset == LATIN1
    findings = _Findings()
    # Messages repeat whole fields (the referrer's XCN in ORC-10, ORC-12, OBR-16, and every
    # ORC of an order): check and fit each text once per shape.
    fits_before: dict[str, int] = {}  # field text -> the shape it fits
    fitted_before: dict[tuple[int, str], str] = {}
    out = []
    for line in segments:
        fields = line.split("|")
        segment = specs.get(fields[0])
        if segment is None:
            out.append(line)
            continue
        # Transliteration can make a value longer than its text: check every field then.
        wide = latin1 and not line.isascii() and _NOT_LATIN1(line) is not None
        width: Width = _latin1_width if wide else len
        if wide:
            candidates: Iterable[int] = range(1, min(len(fields), len(segment.fields)))
        else:  # in C: only the fields longer than the smallest limit inside them
            candidates = compress(count(), map(operator.gt, map(len, fields), segment.quicks))
        changed = False
        for index in candidates:
            spec = segment.fields[index]
            field = fields[index]
            if spec is None or not field:
                continue
            if not wide:
                if fits_before.get(field) == spec.shape:
                    continue
                if _fits(field, spec):
                    fits_before[field] = spec.shape
                    continue
            key = (id(spec), field)
            fitted = fitted_before.get(key)
            if fitted is None:
                fitted = "~".join(
                    _fit(occurrence, spec, width, findings) for occurrence in field.split("~")
                )
                fitted_before[key] = fitted
            if fitted != field:
                fields[index] = fitted
                changed = True
        out.append("|".join(fields) if changed else line)
    return out, findings.warnings()


def _fits(field: str, spec: _Field) -> bool:
    """A quick check on lengths of the escaped text: True when nothing can be too long."""
    components = spec.components
    if not components:  # a primitive field: its quick limit is its only limit
        return "~" in field and all(
            len(occurrence) <= spec.quick for occurrence in field.split("~")
        )
    for occurrence in field.split("~") if "~" in field else (field,):
        parts = occurrence.split("^")
        if len(occurrence) > spec.limit or len(parts) > len(components):
            return False
        if not any(map(operator.gt, map(len, parts), spec.quicks)):
            continue
        for part, component in zip(parts, components, strict=False):
            if len(part) > component.quick and (
                component.leaf is not None
                or len(part) > component.limit
                or any(map(operator.gt, map(len, part.split("&")), component.sublimits))
            ):
                return False
    return True


def _fit(occurrence: str, spec: _Field, width: Width, findings: _Findings) -> str:
    """One repetition of a field, fitted: leaves to their own limits, then composite
    components to theirs, then the whole to the field's length."""
    if spec.leaf is not None:
        values, leaves, paths, owners = [occurrence], [spec.leaf], [spec.name], [0]
        groups = [(spec.name, 0, 1, spec.limit, 0)]
    else:
        values, leaves, paths, owners = [], [], [], []
        groups = []  # path, first leaf, end, limit, separators
        parts = occurrence.split("^")
        for position, part in enumerate(parts, 1):
            component = spec.components[position - 1] if position <= len(spec.components) else None
            path = f"{spec.name}.{position}"
            if component is None or component.leaf is not None:
                values.append(part)
                leaves.append(component.leaf if component and component.leaf else _ANY)
                paths.append(path)
                owners.append(position)
                continue
            first = len(values)
            subs = component.subcomponents
            for sub, value in enumerate(part.split("&"), 1):
                values.append(value)
                leaves.append(subs[sub - 1] if sub <= len(subs) else _ANY)
                paths.append(f"{path}.{sub}")
                owners.append(position)
            groups.append((path, first, len(values), component.limit, len(values) - first - 1))
        separators = len(values) - 1  # every `^` and `&`
        groups.append((spec.name, 0, len(values), spec.limit, separators))
    widths = [width(value) for value in values]
    cut: dict[int, int] = {}
    for index, leaf in enumerate(leaves):
        if widths[index] <= leaf.limit:
            continue
        if leaf.text:
            values[index] = _cut(values[index], leaf.limit, width)
            widths[index] = width(values[index])
            cut[index] = leaf.limit
        else:
            findings.kept[(paths[index], leaf.limit)] = None
    for path, first, end, limit, separators in groups:
        total = sum(widths[first:end]) + separators
        if total <= limit:
            continue
        text = [index for index in range(first, end) if leaves[index].text]
        budget = limit - (total - sum(widths[index] for index in text))
        if budget < 0 or not text:
            findings.kept[(path, limit)] = None
            continue
        level = _level([widths[index] for index in text], budget)
        for index in text:
            if widths[index] > level:
                values[index] = _cut(values[index], level, width)
                widths[index] = width(values[index])
                cut[index] = level
    if not cut:
        return occurrence
    for index in sorted(cut):
        findings.cut[(paths[index], cut[index])] = None
    if spec.leaf is not None:
        return values[0]
    components: dict[int, list[str]] = {}
    for value, owner in zip(values, owners, strict=True):
        components.setdefault(owner, []).append(value)
    return "^".join("&".join(parts) for parts in components.values())
