"""Texts the engine keeps in English, said to the person in their language by their shapes.

The engine writes some texts for people, and keeps them as it wrote them: a delivery's error
(``messages.last_error``, an attempt's error), a destination's version notices, a rejected
input's rules. The CLI, the API and the logs show them so. Each sentence is a ``shapes.Shape``,
made beside the code that writes it; a ``Family`` is the shapes of one kind of text, and words
a stored text by the first of them that reads it: the sentence ``text.<code>`` of
``integrator.console.i18n_texts`` in the person's language, with the values read back. A value
that is itself a text of the family (``nested``: the cause inside "connect to … failed: …")
is worded in turn, and must be read for its sentence to be; a value that is a word of the
pages (``words``: a kind of event) is said with the pages' word; any other value is shown as
stored, so a remote system's words (an ACK's MSA-3) stay exactly as it sent them, and the
sentence quotes them. A text no shape reads is shown as stored, in English, never dropped.

A message's warnings are such a family too, with sentences of their own (``warning.<code>``,
``integrator.console.warning_text``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from shapes import Shape

PREFIX = "text."
"""The catalogue's key of a shape's sentence is ``text.<code>`` (unless a family says else)."""

Word = Callable[[str, str], str]
"""How a value is said in a language: ``word(lang, value)``."""


@dataclass(frozen=True)
class Family:
    """The shapes of one kind of stored text, which of their values are such texts too, and
    which are words the pages say in their own way."""

    shapes: tuple[Shape, ...]
    nested: frozenset[str] = field(default_factory=frozenset)
    words: Mapping[str, Word] = field(default_factory=dict)
    prefix: str = PREFIX

    def read(self, text: str) -> tuple[Shape, dict[str, str]] | None:
        """The shape that wrote ``text`` and its values: the first that reads the whole text
        and the texts within it; None when none does."""
        for shape in self.shapes:
            values = shape.read(text)
            if values is not None and all(
                self.read(values[name]) is not None for name in self.nested.intersection(values)
            ):
                return shape, values
        return None

    def worded_in(self, lang: str, text: str) -> str | None:
        """``text`` in ``lang`` by the shape that wrote it; None when no shape reads it."""
        from integrator.console.i18n import EN, translate

        found = self.read(text)
        if found is None or self.prefix + found[0].code not in EN:
            return None
        shape, values = found
        shown = {name: self._value(lang, name, value) for name, value in values.items()}
        try:
            return translate(lang, self.prefix + shape.code, **shown)
        except (KeyError, IndexError, ValueError):  # a sentence naming a value the shape lacks
            return None

    def word(self, lang: str, text: str) -> str:
        """``text`` in ``lang``; as stored when no shape reads it."""
        worded = self.worded_in(lang, text)
        return text if worded is None else worded

    def _value(self, lang: str, name: str, value: str) -> str:
        if name in self.nested:
            return self.word(lang, value)
        said = self.words.get(name)
        return value if said is None else said(lang, value)
