"""Checks shared by the tests of the console's shaped texts (``integrator.console.shaped``)."""

from __future__ import annotations

import re
import string
from typing import Final

from integrator.console.i18n import EN, NL
from integrator.console.shaped import PREFIX, Family


def as_the_catalogue_says(template: str) -> str:
    """A shape's ``template`` as the English catalogue says it: ``{name!r}`` is ``'{name}'``
    (the shape reads the value without its quotes)."""
    out: list[str] = []
    for literal, name, _, conversion in string.Formatter().parse(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is not None:
            out.append(f"'{{{name}}}'" if conversion == "r" else f"{{{name}}}")
    return "".join(out)


PLURAL: Final = re.compile(r"\{(\w+)\|[^{}|]*\|[^{}|]*\}")


def placeholders(text: str) -> set[str]:
    """The values a sentence names, a plural form (``{count|bericht|berichten}``) as its value."""
    return {name for _, name, _, _ in string.Formatter().parse(PLURAL.sub(r"{\1}", text)) if name}


def assert_every_shape_has_its_sentences(family: Family) -> None:
    """Each shape of ``family`` has a sentence in both languages, with the shape's values, and
    the English one is what the engine writes."""
    fields = string.Formatter()
    codes = [shape.code for shape in family.shapes]
    assert len(set(codes)) == len(codes)
    for shape in family.shapes:
        key = PREFIX + shape.code
        assert key in EN and key in NL, key
        named = {name for _, name, _, _ in fields.parse(shape.template) if name}
        for catalogue in (EN, NL):
            assert placeholders(catalogue[key]) == named, key
        assert EN[key] == as_the_catalogue_says(shape.template), key
