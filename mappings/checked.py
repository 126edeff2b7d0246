"""The writer's joins, one set per HL7 version, that check the standard's lengths as they join.

Fitting a finished message (`mappings.lengths.fit_segments`) re-parses every segment into
fields, components and subcomponents to compare their lengths with the standard's: that was
about 40 % of the CPU of mapping a referral, to learn, nearly always, that everything fits.
The builders know the structure they write, so these joins compare each part with its limit
while joining it, with the limits written into their code (one `len` comparison per part,
generated once per version from `mappings.standard_lengths`). When no join finds a part longer
than its limit, fitting would change nothing and warn of nothing, and is skipped; when one
does, it raises `TooLong` and the message is built again with `UNCHECKED` joins and fitted
field by field as before. So the output is the fitted message either way, byte for byte.

What a join checks is what `lengths._fits` accepts, or stricter:

* a segment join: a primitive field (all its repetitions together) against its primitive
  limit, a composite field (all repetitions together) against the field's length;
* a component join of a datatype: each component against its own limit (a composite
  component's own length, a primitive one's primitive limit), and no more components than
  the datatype has;
* a subcomponent join of a datatype used as a component: each subcomponent against its limit.

So a builder joins every composite field with its datatype's component join, and every
composite component holding data with its datatype's subcomponent join (a single value in a
composite slot too: `w.HD(escape(x))`). Constants need no check (they fit, and the golden files
show it). `tests/mappings/test_checked.py` maps generated events with values around every limit
and checks that whenever the joins found nothing, fitting indeed changes nothing.

Most segments are now built from templates (`mappings.templates`) rather than these joins one
by one: a template joins as these do and checks each part against the limit its join would,
read from `Writers.limits`, so the same `WRITERS`/`UNCHECKED` choice governs both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Final

from mappings.charset import LATIN1
from mappings.lengths import (
    UNLIMITED,
    component_specs,
    fit_segments,
    not_latin1,
    segment_specs,
    subcomponent_limits,
)
from mappings.standard_lengths import COMPONENTS, FIELDS
from mappings.writer import segment

Join = Callable[..., str]


class TooLong(Exception):
    """A part is longer than its limit may allow: fit the message field by field."""


def _rest_too_long(extra: Sequence[str], limits: Sequence[int], closed: bool) -> bool:
    """The check of parts beyond those a join names (a call with more parts than usual)."""
    if any(len(part) > limit for part, limit in zip(extra, limits, strict=False)):
        return True
    return closed and bool("".join(extra[len(limits) :]))


def _join(
    name: str,
    separator: str,
    limits: Sequence[int],
    arity: int,
    *,
    prefix: str = "",
    closed: bool = False,
) -> Join:
    """`(prefix + separator.join(parts)).rstrip(separator)`, the writer's joins, with a check
    of part `i` against `limits[i]` compiled in (none for unlimited parts).

    The first `arity` parts (as many as the builders pass) are named parameters with their
    checks written out; further ones are checked by a loop. `closed`: parts beyond `limits`
    must be empty (a component the datatype does not have); otherwise they are not checked."""
    named = min(arity, len(limits))
    params = [f"p{index}" for index in range(named)]
    checks = [
        f"(p{index} and len(p{index}) > {limits[index]})"
        for index in range(named)
        if limits[index] < UNLIMITED
    ]
    rest = limits[named:]
    if any(limit < UNLIMITED for limit in rest) or closed:
        checks.append("(extra and rest_too_long(extra))")
    signature = ", ".join([*(f'{param}=""' for param in params), "*extra"])
    parts = "".join(f"{param}, " for param in params)
    body = [f"def {name}({signature}):"]
    if checks:
        body.append(f"    if {' or '.join(checks)}:")
        body.append("        raise TooLong")
    joined = f"{prefix!r} + {separator!r}.join(({parts}) + extra)"
    body.append(f"    return ({joined}).rstrip({separator!r})")
    namespace: dict[str, object] = {
        "len": len,  # a global of the join: found before the builtins
        "TooLong": TooLong,
        "rest_too_long": functools.partial(_rest_too_long, limits=rest, closed=closed),
    }
    exec(compile("\n".join(body), f"<mappings.checked {name}>", "exec"), namespace)  # noqa: S102
    join = namespace[name]
    assert callable(join)
    return join


# How many parts the builders pass to each join (more are checked too, by a loop).
_ARITY: Final = {
    **{"CE_CWE": 3, "CE": 3, "CWE": 1, "CX": 5, "EI": 2, "HD": 1, "PL": 10, "SPS": 1},
    **{"XAD": 7, "XCN": 9, "XON": 10, "XPN": 7, "XTN": 9, "PRD_7": 3},
    **{"sub_EI": 2, "sub_FN": 5, "sub_HD": 1, "sub_SAD": 3, "sub_SPS_1": 1},
    **{"MSH": 20, "RF1": 10, "PRD": 7, "PID": 13, "IN1": 36, "DG1": 6, "OBR": 16, "OBX": 11},
    **{"NTE": 4, "PV1": 8, "PV2": 8, "ORC": 23, "TQ1": 9, "SPM": 27},
}


class Writers:
    """The joins of one HL7 version; `checked=False` gives the same joins without checks."""

    def __init__(self, hl7_version: str, *, checked: bool = True) -> None:
        self.hl7_version = hl7_version
        self.checked = checked
        # name -> (separator, the limit of each part): what each join checks, for the
        # segment templates (`mappings.templates`) that join and check as these joins do.
        self.limits: dict[str, tuple[str, Sequence[int]]] = {}

        def limits(name: str, separator: str, values: Sequence[int]) -> Sequence[int]:
            checked_limits = values if checked else [UNLIMITED] * len(values)
            self.limits[name] = (separator, checked_limits)
            return checked_limits

        def components(datatype: str, name: str = "") -> Join:
            own = [part.limit for part in component_specs(hl7_version, datatype)]
            name = name or datatype
            return _join(name, "^", limits(name, "^", own), _ARITY[name], closed=checked)

        def subcomponents(datatype: str, name: str) -> Join:
            own = subcomponent_limits(hl7_version, datatype)
            return _join(name, "&", limits(name, "&", own), _ARITY[name])

        def coded() -> Join:
            # CE and CWE, whichever a field has: the tighter limit of the two for each part.
            ce = [part.limit for part in component_specs(hl7_version, "CE")]
            cwe = [part.limit for part in component_specs(hl7_version, "CWE")]
            tighter = [min(pair) for pair in zip(ce, cwe, strict=False)]
            return _join(
                "CE_CWE", "^", limits("CE_CWE", "^", tighter), _ARITY["CE_CWE"], closed=checked
            )

        fields = FIELDS[hl7_version]
        self.coded = coded()
        self.CE = components("CE")
        self.CWE = components("CWE")
        self.CX = components("CX")
        self.EI = components("EI")
        self.HD = components("HD")
        self.PL = components("PL")
        self.SPS = components("SPS")
        self.XAD = components("XAD")
        self.XCN = components("XCN")
        self.XON = components("XON")
        self.XPN = components("XPN")
        self.XTN = components("XTN")
        self.PRD_7 = components(fields["PRD-7"][0], "PRD_7")  # PI in 2.4, PLN in 2.5.1
        self.sub_EI = subcomponents("EI", "sub_EI")
        self.sub_FN = subcomponents("FN", "sub_FN")
        self.sub_HD = subcomponents("HD", "sub_HD")
        self.sub_SAD = subcomponents("SAD", "sub_SAD")
        self.sub_SPS_1 = subcomponents(COMPONENTS[hl7_version]["SPS"][0][0], "sub_SPS_1")
        joins = {
            name: _join(name, "|", limits(name, "|", specs), _ARITY[name], prefix=name + "|")
            for name, specs in segment_specs(hl7_version).items()
        }

        def segment_join(name: str) -> Join:
            # A segment the version does not define (TQ1 and SPM in 2.4) is never sent in it.
            return joins.get(name) or functools.partial(segment, name)

        self.MSH = segment_join("MSH")
        self.RF1 = segment_join("RF1")
        self.PRD = segment_join("PRD")
        self.PID = segment_join("PID")
        self.IN1 = segment_join("IN1")
        self.DG1 = segment_join("DG1")
        self.OBR = segment_join("OBR")
        self.OBX = segment_join("OBX")
        self.NTE = segment_join("NTE")
        self.PV1 = segment_join("PV1")
        self.PV2 = segment_join("PV2")
        self.ORC = segment_join("ORC")
        self.TQ1 = segment_join("TQ1")
        self.SPM = segment_join("SPM")


WRITERS: Final = {version: Writers(version) for version in FIELDS}
UNCHECKED: Final = {version: Writers(version, checked=False) for version in FIELDS}


def fit_while_writing(
    build: Callable[[Writers], list[str]], hl7_version: str, charset: str
) -> tuple[list[str], tuple[str, ...]]:
    """The segments `build` makes, fitted to the standard's lengths, and the warnings that tell
    what was cut or kept: `fit_segments` of what `build` makes with plain joins, byte for byte.

    Only when a checked join finds a part too long, or when a Latin-1 version's text has
    characters that transliteration may widen, are the segments fitted field by field."""
    try:
        segments = build(WRITERS[hl7_version])
    except TooLong:
        return fit_segments(build(UNCHECKED[hl7_version]), hl7_version, charset)
    if charset == LATIN1 and not all(line.isascii() or not not_latin1(line) for line in segments):
        return fit_segments(segments, hl7_version, charset)
    return segments, ()
