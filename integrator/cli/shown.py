"""Values from outside as the CLI prints them to a terminal: visible, never obeyed.

A reason posted over the API, a patient's name in an HL7 message, a person's name, a token's
name, a destination's, a receiver's error text or the fields of rejected input come from
someone other than the operator reading the screen. Printed as they are, their control
characters act: an escape sequence clears or recolours the screen or sets the window's title,
a line feed or carriage return fakes or hides a row of a listing, a bidi override reverses
what follows it. ``shown`` is what every such value passes through on its way into the CLI's
tables and lines (``views.fitted_table`` passes every cell through ``visible`` besides);
``--json`` and ``--csv`` give the values exact.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape

_UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 controls (line feed, carriage return and tab among them), DEL, C1 controls, the line and
paragraph separators and the bidi embeddings, overrides and isolates."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _written_out(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with each control character written out as Python writes it in a string: line
    feed, carriage return and tab as ``\\n``, ``\\r`` and ``\\t``; the other C0 controls, DEL
    and the C1 controls as ``\\x`` and two hex digits (ESC is ``\\x1b``, DEL ``\\x7f``, CSI
    ``\\x9b``); U+2028, U+2029 and the bidi controls (U+202A to U+202E, U+2066 to U+2069) as
    ``\\u`` and four (``\\u202e``). Everything else is kept, a backslash too: HL7's escapes
    (``\\F\\``, ``\\.br\\``) stay as readable as its separators, and a value that spells out
    ``\\x1b`` itself reads the same as one holding ESC (``--json`` tells them apart)."""
    return _UNSEEN.sub(_written_out, text)


def shown(value: object) -> str:
    """``value`` (as ``str`` gives it) as a CLI table or line holds it: its control characters
    made visible (``visible``), then its rich markup escaped, so that ``[red]`` in a name is
    shown as typed too. The CLI's own markup around it (``[yellow]warning:[/]``) still styles."""
    return escape(visible(str(value)))


def visible_lines(text: str) -> str:
    """``text`` with its control characters written out (``visible``) but its line feeds kept
    as line breaks: what the CLI prints as plain text (``markup=False``: a destination's diff,
    a file's name, a receiver's words) passes through it (``PlainSafeConsole``)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def shown_lines(value: object) -> str:
    """As ``shown``, but keeping line feeds as line breaks: for text whose lines are meant (a
    message or warning the CLI or engine wrote on several lines, an HL7 value's ``\\.br\\``
    read as the line breaks it stands for), where a line of its own cannot pass for a row of a
    listing. Every other control, a carriage return too, is written out."""
    return "\n".join(shown(line) for line in str(value).split("\n"))


class PlainSafeConsole(Console):
    """The CLI's consoles: what is printed as plain text (``markup=False``) has its control
    characters written out, line breaks kept (``visible_lines``). A value from outside printed
    so, beside the CLI's own words (a destination's diff, a refused file's problem, a prune's
    ``space:`` line), reached the terminal with its escape sequences; ``shown`` covers what is
    printed with markup. Other objects (tables, rich's own renderables) pass as they are: their
    cells went through ``shown`` or ``visible`` already."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if kwargs.get("markup") is False:
            objects = tuple(visible_lines(o) if isinstance(o, str) else o for o in objects)
        super().print(*objects, **kwargs)
