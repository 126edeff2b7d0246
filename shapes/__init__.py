"""A sentence the engine writes with values in it, and the pattern that reads them back.

The engine keeps what it writes for people in English: a message's warnings, a delivery's
error, a destination's version notices, a rejected input's rules. The CLI, the API and the logs
show them as they are. The web console words them in the person's language, without parsing
English by hand: each sentence is a `Shape`, made where the engine writes it, from one template
that both writes the text (`SHORTENED(paths="PID-5.1.1", limit=50)`) and reads its values back
from the stored text (`SHORTENED.read(text)`, a whole-text match), and the console says the
sentence of its `code` with those values (`integrator.console.shaped`). So the English and what
recognizes it cannot drift apart, and a text written without a Shape is shown as stored.

A field of the template is `{name}` (the value as given) or `{name!r}` (its `repr`, a quoted
string); each has a regular expression of what it may hold, and a field named twice holds the
same value twice. A field may be *derived*, written from the others by a function (a value
quoted for a shell, `shell_word`: `--provider {provider_word}`): the writer does not give it,
and a text is read only when it holds what that function makes of the values read, so a value
that holds the sentence's own words cannot shift where one field ends and the next begins.
Values are identifiers, counts, versions, dates, addresses and the words of a remote system
(an ACK's MSA-3), never patient data the engine put there itself.

A package of its own, with nothing but the standard library: every layer writes shapes (the
intake schemas, the mappings, the delivery client, the CLI's listings), and none may load
another to do so (``destinations`` stays free of pydantic, the CLI starts light).
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

NUMBER: Final = r"\d+"
PATH: Final = r"[A-Z][A-Z0-9]{2}-\d+(?:\.\d+)*"
PATHS: Final = rf"{PATH}(?:, {PATH})*"  # `PID-11.6, PRD-3.6`
VERSION: Final = r"[a-z][a-z0-9-]*"  # a message version's name: `ref-v1`
DATE: Final = r"\d{4}-\d{2}-\d{2}"
UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TEXT: Final = r".+"  # a sentence within the sentence (what a held message was held for)
ANY: Final = r".*"  # a remote system's words, which may be none
SECONDS: Final = r"\d+(?:\.\d+)?(?:e[+-]?\d+)?"  # a duration as `:g` writes it: `10`, `0.5`
ADDRESS: Final = r"\S+"  # `host:port`


@dataclass(frozen=True, slots=True)
class Derived:
    """A field written from the shape's other values (``derive``), not given by the writer;
    read back by ``pattern``, and only where it holds what ``derive`` makes of the values read."""

    pattern: str
    derive: Callable[[Mapping[str, object]], str]


def shell_word(name: str) -> Derived:
    """Field ``name`` as one word for a POSIX shell (``shlex.quote``): a suggested command a
    person copies into one runs nothing the value holds (``x$(...)``, a space, a quote)."""

    def quoted(values: Mapping[str, object]) -> str:
        return shlex.quote(str(values[name]))

    return Derived(TEXT, quoted)


class Shape:
    """One sentence: ``shape(**values)`` writes it, ``shape.read(text)`` reads the values of a
    text it wrote (None for any other text). ``code`` names it for the console's catalogue."""

    __slots__ = ("_derived", "_pattern", "_quoted", "_regex", "code", "template")

    def __init__(self, code: str, template: str, **fields: str | Derived) -> None:
        """``fields``: each field's pattern, or how it is written from the others."""
        self.code = code
        self.template = template
        self._derived = {n: f.derive for n, f in fields.items() if isinstance(f, Derived)}
        patterns = {n: f.pattern if isinstance(f, Derived) else f for n, f in fields.items()}
        self._quoted: set[str] = set()
        regex: list[str] = []
        seen: set[str] = set()
        for literal, name, spec, conversion in string.Formatter().parse(template):
            regex.append(re.escape(literal))
            if name is None:
                continue
            if spec or conversion not in (None, "r") or name not in fields:
                raise ValueError(f"shape {code}: field {{{name}}} needs a pattern and no format")
            group = f"(?P={name})" if name in seen else f"(?P<{name}>{patterns[name]})"
            if conversion == "r":
                self._quoted.add(name)
                group = f"'{group}'"
            seen.add(name)
            regex.append(group)
        if seen != set(fields):
            raise ValueError(f"shape {code}: patterns for fields it lacks: {set(fields) - seen}")
        # Compiled at the first read, not here: a module of shapes is imported by every command
        # and engine start, and only the console reads them back (50-70 compiles, ~30 ms of a
        # command's start-up). ``pattern`` compiles it at once, for a test of them all.
        self._regex = "".join(regex)
        self._pattern: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regular expression that reads this shape's texts, compiled when first asked for."""
        if self._pattern is None:
            self._pattern = re.compile(self._regex, re.DOTALL)
        return self._pattern

    def __call__(self, **values: object) -> str:
        derived = {name: derive(values) for name, derive in self._derived.items()}
        return self.template.format(**values, **derived)

    def read(self, text: str) -> dict[str, str] | None:
        """The values in ``text`` when this shape wrote it; None otherwise."""
        found = self.pattern.fullmatch(text)
        if found is None:
            return None
        values = found.groupdict()
        if any(repr(values[name]) != f"'{values[name]}'" for name in self._quoted):
            return None  # `repr` quotes or escapes such a value otherwise
        if any(values[name] != derive(values) for name, derive in self._derived.items()):
            return None  # not what it was written from: read elsewhere than written
        return values

    def __repr__(self) -> str:
        return f"Shape({self.code!r}, {self.template!r})"
