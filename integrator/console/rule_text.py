"""A rejected input's rules, said to the person in their language.

Intake keeps why it refused an input as the rules it broke, each a field path, a rule code and
an English sentence (``schemas.errors.FieldError``), which the API's 422 answers, the CLI and
the store keep as they are. Each sentence is a ``shapes.Shape`` in ``schemas``: a rule's own
(``schemas.rules.RULE_SHAPES``), one with a value or a type (``schemas.translate``) or one of
a submission refused before it was read (``schemas.refused``); the
rejected input's page words it by its shape (``integrator.console.shaped``). The path and the
rule code stay as they are (they are what a sender's developer searches for); a sentence no
shape reads (one intake wrote before it changed) is shown as stored.

The values a rule allows (``must be one of 'routine' or 'urgent'``) are pydantic's English
list, "or" and all: read back into its values and joined again in the person's language
(``values_joined``), so a Dutch page does not say "'routine' or 'urgent'". A list read in no
other way is shown as stored.

A listing shows each broken rule short: its path and its rule's own sentence (``listed``), as
the listing keeps them (``path: rule``, ``rejected_reads.rejected_summary``): the readable
words without a value, beside the code a developer searches for on the row's own page.
"""

from __future__ import annotations

import re
from typing import Final

from integrator.console.shaped import Family
from schemas import refused, rules, translate

_VALUE: Final = r"'[^'\\]*'|-?[0-9]+"
"""One value as pydantic lists a literal's or a tag's: a string as ``repr`` quotes it (one
without a quote or a backslash in it) or a whole number."""
_VALUES: Final = re.compile(
    rf"(?P<head>(?:{_VALUE})(?:, (?:{_VALUE}))*)(?: or (?P<last>{_VALUE}))?"
)
"""pydantic's list: ``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'`` (a literal's), ``'a', 'b'``
(a tagged union's tags, no "or")."""


def values_joined(lang: str, expected: str) -> str:
    """pydantic's list of allowed values (``ONE_OF``'s ``expected``) with its "or" in ``lang``;
    as stored when it is not such a list (a value holding a quote: nothing is guessed)."""
    from integrator.console.i18n import translate as said  # its catalogue imports this module

    found = _VALUES.fullmatch(expected)
    if found is None or found["last"] is None:
        return expected
    head = re.findall(_VALUE, found["head"])
    return f"{', '.join(head)} {said(lang, 'rule.values_or')} {found['last']}"


RULES: Final = Family(
    (*rules.RULE_SHAPES.values(), rules.UNKNOWN_RULE, *translate.VALUE_SHAPES, *refused.SHAPES),
    words={"expected": values_joined},
)
"""Every sentence intake writes for a broken rule."""

_LISTED: Final = re.compile(r"(?P<path>.+): (?P<rule>[a-z][a-z0-9_]*)")
"""A broken rule as a listing keeps it: ``path: rule``."""


def word(lang: str, sentence: str) -> str:
    """A broken rule's ``sentence`` in ``lang``; as stored when no shape reads it."""
    return RULES.word(lang, sentence)


def listed(lang: str, problem: str) -> tuple[str, str]:
    """A listing's broken rule (``path: rule``) as its path and its rule's own sentence in
    ``lang`` (``schemas.rules.message_for``, worded as the row's page words it); a problem not
    of that form is its own path, with no sentence, shown as stored."""
    found = _LISTED.fullmatch(problem)
    if found is None:
        return problem, ""
    return found["path"], word(lang, rules.message_for(found["rule"]))
