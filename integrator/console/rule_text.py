"""A rejected input's rules, said to the person in their language.

Intake keeps why it refused an input as the rules it broke, each a field path, a rule code and
an English sentence (``schemas.errors.FieldError``), which the API's 422 answers, the CLI and
the store keep as they are. Each sentence is a ``shapes.Shape`` in ``schemas``: a rule's own
(``schemas.rules.RULE_SHAPES``), one with a value or a type (``schemas.translate``) or one of
a submission refused before it was read (``schemas.refused``); the
rejected input's page words it by its shape (``integrator.console.shaped``). The path and the
rule code stay as they are (they are what a sender's developer searches for); a sentence no
shape reads (one intake wrote before it changed) is shown as stored.
"""

from __future__ import annotations

from typing import Final

from integrator.console.shaped import Family
from schemas import refused, rules, translate

RULES: Final = Family(
    (*rules.RULE_SHAPES.values(), rules.UNKNOWN_RULE, *translate.VALUE_SHAPES, *refused.SHAPES)
)
"""Every sentence intake writes for a broken rule."""


def word(lang: str, sentence: str) -> str:
    """A broken rule's ``sentence`` in ``lang``; as stored when no shape reads it."""
    return RULES.word(lang, sentence)
