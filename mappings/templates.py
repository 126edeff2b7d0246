"""Segments built from per-version templates: one generated function per segment layout that
escapes its values, joins them with a few f-strings and checks the standard's lengths.

Joining part by part (`mappings.checked`) costs a Python call, a tuple and a `rstrip` per
composite: some 500 calls per referral. A template states a segment's whole layout once, as
nested parts, and is compiled per version into straight-line code:

* values are escaped together: one scan of all of them (`escape_all`'s rule), and each its own
  `escape` or `escape_ft` only when one needs it;
* every join the template has is an f-string, followed by `rstrip` of its separator only where
  its last part may be empty, so it gives exactly what the joins give;
* every part is checked against the limit the corresponding join checks it against
  (`Writers.limits`, so `UNCHECKED` templates check nothing); a composite whose parts' limits
  add up to no more than its own limit needs no check of its own. A part too long raises
  `TooLong`, as a join does, and the message is fitted field by field.

A part of a template is a constant (any text), a value: `$name` (escaped with `escape`),
`!name` (escaped with `escape_ft`), `=name` (already escaped HL7 text, only checked), or a
join `(join name, (parts...))` named as `Writers`'s joins are (`XPN`, `sub_FN`, `CE_CWE`, …),
or `(REPEAT, (parts...))`: repetitions, the parts that are not empty joined by `~`.
A value may occur more than once; it is escaped once and checked against each limit. Values
are parameters of the generated function or expressions over them (`patient.name.family`),
so a builder hands over the objects and the template reads what it needs.

Where a segment's shape depends on what the event has (an address or not, which telephone
numbers), a builder keeps one layout per shape (compiled when first used); where segments are
alike but for one value (the ORC of every test), a builder joins once with a stand-in for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from mappings.checked import TooLong, Writers
from mappings.escape import _HL7_NULL, _LONG, _NEEDS_ESCAPE, _needs_escape, escape, escape_ft
from mappings.lengths import UNLIMITED

Part = str | tuple[str, tuple["Part", ...]]
Template = Callable[..., str]

REPEAT: Final = "~"  # a join name: repetitions
_ESCAPERS: Final = {"$": "escape", "!": "escape_ft"}
_NAME: Final = re.compile(r"[a-z_][a-z0-9_]*")


def _literal(text: str) -> str:
    """`text` as the literal part of a single-quoted f-string."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("{", "{{").replace("}", "}}")


class _Compiler:
    def __init__(self, w: Writers) -> None:
        self.w = w
        self.lines: list[str] = []
        self.checks: dict[str, int] = {}  # expression -> the tightest limit it must keep
        self.values: dict[str, str] = {}  # name -> kind (`$`, `!`, `=`)
        self.temps = 0
        self.joined: dict[str, str] = {}  # join code -> its temporary

    def value(self, part: str) -> tuple[str, int, bool] | None:
        """A value's code, or None for a constant."""
        if part[:1] not in ("$", "!", "=") or not _NAME.fullmatch(part[1:]):
            return None
        name = part[1:]
        kind = self.values.setdefault(name, part[0])
        assert kind == part[0], f"{name} is escaped two ways"
        return name, UNLIMITED, True

    def check(self, code: str, bound: int, limit: int) -> None:
        """Check `code` (a name) against `limit` unless its bound already keeps it there."""
        if bound > limit:
            self.checks[code] = min(limit, self.checks.get(code, UNLIMITED))

    def join(self, name: str, parts: Sequence[Part]) -> tuple[str, int, bool]:
        """Code for the join `name` of `parts`: a temporary's name, its bound (the longest it
        can be once its parts passed their checks) and whether it may be empty."""
        if name == REPEAT:
            return self.repeat(parts)
        separator, limits = self.w.limits[name]
        assert len(parts) <= len(limits), f"{name} has {len(limits)} parts"
        pieces: list[str] = []
        bound = len(parts) - 1
        empty = True
        last_empty = True
        for part, limit in zip(parts, limits, strict=False):
            code, part_bound, part_empty = self.part(part)
            if part_empty is None:  # a constant
                pieces.append(_literal(code))
                bound += len(code)
            else:
                pieces.append("{" + code + "}")
                self.check(code, part_bound, limit)
                bound += min(part_bound, limit)
            last_empty = bool(part_empty) if part_empty is not None else code == ""
            empty = empty and last_empty
        bound = min(bound, UNLIMITED)
        text = "f'" + _literal(separator).join(pieces) + "'"
        if last_empty:
            text += f".rstrip({separator!r})"
        if text in self.joined:  # the same join again (a name in two XCN repetitions)
            return self.joined[text], bound, empty
        temp = self.joined[text] = f"t{self.temps}"
        self.temps += 1
        self.lines.append(f"    {temp} = {text}")
        return temp, bound, empty

    def repeat(self, parts: Sequence[Part]) -> tuple[str, int, bool]:
        """Repetitions (`writer.repetitions`): the parts that are not empty, joined by `~`.
        A repetition is not checked as a whole (the joins do not check one either)."""
        codes: list[str] = []
        bound = len(parts) - 1
        may_be_empty = []
        for part in parts:
            code, part_bound, part_empty = self.part(part)
            assert part_empty is not None, "a repetition is a value or a join"
            codes.append(code)
            may_be_empty.append(part_empty)
            bound += part_bound
        if any(may_be_empty):
            text = "'~'.join(filter(None, (" + ", ".join(codes) + ",)))"
        else:
            text = "f'" + "~".join("{" + code + "}" for code in codes) + "'"
        temp = f"t{self.temps}"
        self.temps += 1
        self.lines.append(f"    {temp} = {text}")
        return temp, min(bound, UNLIMITED), all(may_be_empty)

    def part(self, part: Part) -> tuple[str, int, bool | None]:
        if isinstance(part, tuple):
            name, parts = part
            temp, bound, empty = self.join(name, parts)
            return temp, bound, empty
        found = self.value(part)
        if found is None:
            return part, len(part), None
        return found


def compile_template(
    w: Writers,
    segment: str,
    fields: Sequence[Part],
    params: Sequence[str],
    values: Mapping[str, str] | None = None,
    helpers: Mapping[str, object] | None = None,
) -> Template:
    """The function that builds `segment` with `fields` (field 1 first) in `w`'s version.

    It takes `params` (by position), and `values` gives the Python expression (over `params`
    and `helpers`) of each value that is not a parameter; keys starting with `_` name
    intermediate results the others use (`_name`: `patient.name`)."""
    compiler = _Compiler(w)
    if segment:
        temp, _, _ = compiler.join(segment, fields)
    else:  # a piece: one part, as HL7 text for a template's `=` value
        [part] = fields
        temp, _, _ = compiler.part(part)
    names = list(compiler.values)
    values = values or {}
    signature = ", ".join(params)
    taking = [f"    {name} = {values[name]}" for name in names if name not in params]
    # Intermediate results first, those that are used (an absent organisation's address is
    # not looked up: a layout for a referrer without one has no value that needs it).
    for key, value in reversed(list(values.items())):
        if key[0] == "_" and re.search(rf"\b{key}\b", "\n".join(taking)):
            taking.insert(0, f"    {key} = {value}")
    raw = [name for name in names if compiler.values[name] != "="]
    escaping: list[str] = []
    if len(raw) == 1:
        name = raw[0]
        escaping.append(f"    {name} = {_ESCAPERS[compiler.values[name]]}({name})")
    elif raw:
        # One scan of all values; `""` anywhere in them (not only a value that is exactly
        # `""`) escapes each on its own, which gives the same.
        escaping.append(f"    joined = ''.join(({', '.join(raw)},))")
        escaping.append(
            "    if (search(joined) is not None if len(joined) < LONG else needs_long(joined))"
            " or NULL in joined:"
        )
        escaping += [f"        {name} = {_ESCAPERS[compiler.values[name]]}({name})" for name in raw]
    checks = [f"len({code}) > {limit}" for code, limit in compiler.checks.items()]
    function_name = segment or "piece"
    source = [f"def {function_name}({signature}):", *taking, *escaping, *compiler.lines]
    if checks:
        source.append(f"    if {' or '.join(checks)}:")
        source.append("        raise TooLong")
    if segment:
        source.append(f"    return {segment!r} + '|' + {temp} if {temp} else {segment!r}")
    else:
        source.append(f"    return {temp}")
    namespace: dict[str, object] = {
        **(helpers or {}),
        "len": len,
        "TooLong": TooLong,
        "escape": escape,
        "escape_ft": escape_ft,
        "search": _NEEDS_ESCAPE,
        "needs_long": _needs_escape,
        "LONG": _LONG,
        "NULL": _HL7_NULL,
    }
    code = "\n".join(source)
    exec(compile(code, f"<mappings.templates {function_name}>", "exec"), namespace)  # noqa: S102
    function = namespace[function_name]
    assert callable(function)
    function.source = code  # type: ignore[attr-defined]
    return function


class Layout(dict[Writers, Template]):
    """A segment's template, compiled once for each `Writers` (version, checked or not):
    `layout[w]` is the function (a dict look-up: a call to a method of its own cost as much as
    some of the functions it gives)."""

    __slots__ = ("expressions", "helpers", "params", "parts", "segment")

    def __init__(
        self,
        segment: str,
        *fields: Part,
        params: Sequence[str],
        values: Mapping[str, str] | None = None,
        helpers: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__()
        self.segment = segment
        self.parts = fields
        self.params = params
        self.expressions = values
        self.helpers = helpers

    def __missing__(self, w: Writers) -> Template:
        compiled = compile_template(
            w, self.segment, self.parts, self.params, self.expressions, self.helpers
        )
        self[w] = compiled
        return compiled

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def piece(
    part: Part,
    *,
    params: Sequence[str],
    values: Mapping[str, str] | None = None,
    helpers: Mapping[str, object] | None = None,
) -> Layout:
    """A template of one part (a field, or repetitions of one) rather than a segment: it gives
    the part's HL7 text, checked within as a segment's parts are, for a segment template's `=`
    value (which checks it against its field's limit)."""
    return Layout("", part, params=params, values=values, helpers=helpers)
