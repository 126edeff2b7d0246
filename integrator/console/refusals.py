"""A service's refusal, said to the person in their language.

The services refuse in English, for the CLI and the API, and carry beside their text a stable
code and values (``integrator.refusal``). A page turns a refusal into a ``Said``: still the
English text (it is a ``str``, so a page, a form's error list or a ``BadInput`` takes it as it
took the text before), with the code, the values and the field it is about. Only when it is
shown, in a template (``t.say(…)``) or on the error page, is it worded: the sentence for its
code in the person's language (``integrator.console.i18n_refusals``), else the service's
English. So no page decides what a refusal says, and no rule moves into the console.

The English fallback drops the CLI's names of the inputs (``--cluster: …``, ``NAME: …``):
an access refusal's field is named as the API names it on an English page, and by the form's
word on a Dutch one (``field_name``: ``reden: …``, not ``reason: …``), as several refusals said
together name one input each. No value a person typed is ever in
what is shown (``withheld``): a term pasted into the wrong field may be a BSN. The one
exception is a local time that summer time repeats or skips, which the refusal is about
(``search.sent_values``). A value may
itself be a refusal (a coded exception, a ``Said``): it is worded in the same language.

A destination definition's refusals come from pydantic and from the file's own checks
(``destinations.config``), which carry the rule as data: ``definition_problem`` words them by
the rule's code where it is ours, else by pydantic's error type and the key it is about
(``DEFINITION_FIELDS``, then ``DEFINITION_TYPES``), with pydantic's bounds as the values, and
never by reading the English text. A type or code without a sentence shows the English rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from fastapi import Request

from destinations.config import DestinationFileError
from integrator.console.warning_text import word
from integrator.http.errors import without_values
from integrator.refusal import NO_VALUES, code_of
from integrator.search import sent_values

TRANSLATED_VALUES: Final = {
    "status": "status.",
    "statuses": "status.",
    "person_status": "people.status.",
    "event_type": "event.",
    "event_types": "event.",
    "entry": "refusal.entry.",  # what a destination's file is instead (``not_a_file``)
}
"""Values that are words of the engine the pages already translate, and the keys they use."""

WARNING_VALUES: Final = frozenset({"warnings"})
"""Values that are a message's warnings (a held remap's, why it is not resent): each worded
as the message's page words it (``integrator.console.warning_text``)."""


class Said(str):
    """A refusal as the console keeps it until it is shown: its English text, and the code,
    values and field to word it in the person's language."""

    code: str | None
    values: Mapping[str, object]
    field: str | None
    rule: str
    key: bool
    """``field`` is a key of a file (a destination's ``name``, ``port``), named as it is
    written in every language; else an input of a form or the API, named in the page's."""

    def __new__(
        cls,
        rule: str,
        code: str | None = None,
        *,
        field: str | None = None,
        values: Mapping[str, object] = NO_VALUES,
        key: bool = False,
    ) -> Said:
        said = super().__new__(cls, f"{field}: {rule}" if field else rule)
        said.code = code
        said.values = values
        said.field = field
        said.rule = rule
        said.key = key
        return said


def said(exc: BaseException, *, withheld: Iterable[object] = (), field: bool = True) -> Said:
    """``exc`` (a service's refusal) as the console shows it; ``field=False`` leaves its field
    out, for a page that shows the refusal beside the field itself."""
    code, values = code_of(exc)
    named = getattr(exc, "field", None)
    rule = getattr(exc, "rule", None)
    if not isinstance(rule, str) or not isinstance(named, str):
        named, rule = None, str(exc)
    return Said(
        without_values(rule, sent_values(exc, withheld)),
        code,
        field=named if field else None,
        values=values,
    )


def note(text: str | None) -> Said | None:
    """A resend's note (a ``integrator.refusal.Note``, or plain text) as the console shows it."""
    if text is None:
        return None
    code, values = code_of(text)
    return Said(str(text), code, values=values)


def sentence(lang: str, code: str | None, english: str, values: Mapping[str, object]) -> str:
    """The sentence for ``code`` in ``lang`` with ``values``; ``english`` when there is none."""
    from integrator.console.i18n import CATALOGUES, translate

    if code is None or f"refusal.{code}" not in CATALOGUES["en"]:
        return english
    shown = {name: _value(lang, name, value) for name, value in values.items()}
    try:
        return translate(lang, f"refusal.{code}", **shown)
    except (KeyError, IndexError, ValueError):  # a sentence naming a value the service lacks
        return english


def field_name(lang: str, field: str) -> str:
    """How a page in ``lang`` names the input ``field`` before its rule: its label there
    (``refusal.field.<field>``; the English page keeps the API's name), else ``field`` as the
    service names it, so an input without a label is still named."""
    from integrator.console.i18n import CATALOGUES

    return CATALOGUES.get(lang, {}).get(f"refusal.field.{field}", field)


def say(lang: str, text: object) -> str:
    """What a page shows for ``text``: a ``Said`` (or a coded note) worded in ``lang``, with
    its field first, named in ``lang`` too; anything else as it is."""
    if isinstance(text, Said):
        rule = sentence(lang, text.code, text.rule, text.values)
        if not text.field:
            return rule
        named = text.field if text.key else field_name(lang, text.field)
        return f"{named}: {rule}"
    if text is None:
        return ""
    code, values = code_of(text)
    return sentence(lang, code, str(text), values)


def _value(lang: str, name: str, value: object) -> str:
    from integrator.console.i18n import translate

    if isinstance(value, Said) or code_of(value)[0] is not None:
        return say(lang, value)  # a refusal within a refusal (why a mail was not sent, say)
    if name in WARNING_VALUES and isinstance(value, tuple | list):
        return "; ".join(word(lang, str(warning)) for warning in value)
    if isinstance(value, tuple | list | frozenset):
        items = [_value(lang, name, v) for v in value]
        return ", ".join(items) if items else translate(lang, "refusal.none")
    prefix = TRANSLATED_VALUES.get(name)
    if prefix is not None and isinstance(value, str):
        shown = translate(lang, prefix + value)
        return value if shown == prefix + value else shown
    return "" if value is None else str(value)


FORM_CODES: Final = {
    "missing": "form.missing",
    "int_parsing": "form.int_parsing",
    "float_parsing": "form.float_parsing",
    "bool_parsing": "form.bool_parsing",
    "string_too_long": "form.string_too_long",
    "too_long": "form.too_long",
    "greater_than_equal": "form.greater_than_equal",
    "less_than_equal": "form.less_than_equal",
    "literal_error": "form.choice",
    "string_pattern_mismatch": "form.choice",
    "nul_character": "form.nul",  # integrator.console.nul
}
"""Pydantic's error types of the console's forms, and their refusal codes."""

DEFINITION_TYPES: Final = {
    "missing": "form.missing",
    "extra_forbidden": "definition.unknown_key",
    "int_type": "definition.int_type",
    "float_type": "definition.float_type",
    "finite_number": "definition.finite_number",
    "bool_type": "definition.bool_type",
    "string_type": "definition.string_type",
    "greater_than": "definition.greater_than",
    "greater_than_equal": "definition.greater_than_equal",
    "less_than_equal": "definition.less_than_equal",
    "string_too_long": "definition.string_too_long",
    "string_too_short": "definition.string_too_short",
}
"""Pydantic's error types in a destination definition, and their refusal codes."""

DEFINITION_FIELDS: Final = {
    ("string_too_short", "name"): "definition.blank",
    ("string_too_short", "host"): "definition.blank",
    ("literal_error", "ack_mode"): "definition.ack_mode",
    ("literal_error", "ordering"): "definition.ordering",
    ("literal_error", "retry.on_error"): "definition.on_ack",
    ("literal_error", "retry.on_reject"): "definition.on_ack",
    ("literal_error", "messages"): "definition.event_type",
}
"""Where one error type means something of its own for a key (an empty name is a blank one,
a literal is a choice of its key's own values), the key's code; checked before the type's."""

_INDEX: Final = re.compile(r"\[\d+\]")


def definition_problem(problem: DestinationFileError) -> Said:
    """A refused key of a destination definition as the console says it, without the key (the
    form puts it beside its field, the destination's page names it): the sentence of our rule's
    code, else of pydantic's type for this key or any key; else the English rule."""
    key = _INDEX.sub("", problem.key)
    code: str | None = None
    if problem.code is not None:
        code = f"definition.{problem.code}"
    elif problem.type is not None:
        code = (
            DEFINITION_FIELDS.get((problem.type, key))
            or DEFINITION_FIELDS.get((problem.type, key.split(".", 1)[0]))
            or DEFINITION_TYPES.get(problem.type)
        )
        if code == "definition.unknown_key" and "close" in problem.values:
            code = "definition.unknown_key_close"
    return Said(problem.rule, code, values=problem.values)


def form_problems(request: Request, errors: Sequence[Mapping[str, Any]]) -> str:
    """A form FastAPI refused, in the person's language: each field and its rule, never the
    value (FastAPI's own answer quotes it, and a form may hold a BSN or a password)."""
    from integrator.console.i18n import COOKIE, choose

    lang = choose(request.cookies.get(COOKIE), request.headers.get("accept-language"))
    shown = []
    for error in errors:
        field = ".".join(str(p) for p in error["loc"][1:]) or "form"
        context = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int)}
        code = FORM_CODES.get(str(error.get("type")))
        rule = sentence(lang, code, str(error["msg"]), context)
        shown.append(f"{field_name(lang, field)}: {rule}")
    return "; ".join(shown)
