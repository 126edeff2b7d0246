"""A refusal's stable code and values, beside its English text, for a front door that words it
in the person's language.

The services word their refusals in English, once, for the CLI and the API (which stay
English), and those texts often name the CLI's options (``--cluster``, ``NAME``). The web
console is read in Dutch too, and must not parse English to translate it, nor move a rule into
itself to know what went wrong. So a refusal that people meet in the console also carries a
``code`` (a short, stable name of the rule, such as ``search.zd_number``) and the ``values``
its sentence needs; the console keeps a sentence per code in each language
(``integrator.console.refusals``) and falls back to the English text for a code it does not
know. The English text (``str(exc)``) is unchanged by a code: the CLI and the API say what they
said before.

Two shapes, so raising sites change as little as possible:

- ``Coded``: a mixin for exception classes; ``raise SomeError(text).coded("x.y", n=3)``.
- ``Note``: a ``str`` (a resend's skip note travels as text through JSON and the CLI) that
  also carries a code and values.

Values are identifiers, counts and lists of ids, never patient data, like the texts; a value
may be a refusal itself (a ``MailFailed`` inside an invitation's), which is worded in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Self

NO_VALUES: Final[Mapping[str, object]] = MappingProxyType({})


class Coded:
    """Mixin: an exception that may carry a refusal code and its values (none by default)."""

    code: str | None = None
    values: Mapping[str, object] = NO_VALUES

    def coded(self, code: str, **values: object) -> Self:
        """This exception with ``code`` and ``values``; returns itself, to be raised."""
        self.code = code
        self.values = MappingProxyType(dict(values))
        return self


class Note(str):
    """A text (a skip note, say) that also carries the code and values of what it says."""

    code: str
    values: Mapping[str, object]

    def __new__(cls, text: str, code: str, **values: object) -> Note:
        note = super().__new__(cls, text)
        note.code = code
        note.values = MappingProxyType(dict(values))
        return note


def code_of(said: object) -> tuple[str | None, Mapping[str, object]]:
    """The code and values ``said`` (an exception or a text) carries, if any."""
    if isinstance(said, Coded | Note):
        return said.code, said.values
    return None, NO_VALUES
