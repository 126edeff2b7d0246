"""A service's refusal, said to the person in their language.

The services refuse in English, for the CLI and the API, and carry beside their text a stable
code and values (``integrator.refusal``). A page turns a refusal into a ``Said``: still the
English text (it is a ``str``, so a page, a form's error list or a ``BadInput`` takes it as it
took the text before), with the code, the values and the field it is about. Only when it is
shown, in a template (``t.say(…)``) or on the error page, is it worded: the sentence for its
code in the person's language (``integrator.console.i18n_refusals``), else the service's
English. So no page decides what a refusal says, and no rule moves into the console.

The English fallback drops the CLI's names of the inputs (``--cluster: …``, ``NAME: …``):
an access refusal's field is named as the API names it. No value a person typed is ever in
what is shown (``withheld``): a term pasted into the wrong field may be a BSN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from fastapi import Request

from integrator.http.errors import without_values
from integrator.refusal import NO_VALUES, code_of

TRANSLATED_VALUES: Final = {
    "status": "status.",
    "statuses": "status.",
    "person_status": "people.status.",
    "event_type": "event.",
}
"""Values that are words of the engine the pages already translate, and the keys they use."""


class Said(str):
    """A refusal as the console keeps it until it is shown: its English text, and the code,
    values and field to word it in the person's language."""

    code: str | None
    values: Mapping[str, object]
    field: str | None
    rule: str

    def __new__(
        cls,
        rule: str,
        code: str | None = None,
        *,
        field: str | None = None,
        values: Mapping[str, object] = NO_VALUES,
    ) -> Said:
        said = super().__new__(cls, f"{field}: {rule}" if field else rule)
        said.code = code
        said.values = values
        said.field = field
        said.rule = rule
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
        without_values(rule, withheld),
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


def say(lang: str, text: object) -> str:
    """What a page shows for ``text``: a ``Said`` (or a coded note) worded in ``lang``, with
    its field first; anything else as it is."""
    if isinstance(text, Said):
        rule = sentence(lang, text.code, text.rule, text.values)
        return f"{text.field}: {rule}" if text.field else rule
    if text is None:
        return ""
    code, values = code_of(text)
    return sentence(lang, code, str(text), values)


def _value(lang: str, name: str, value: object) -> str:
    from integrator.console.i18n import translate

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
}
"""Pydantic's error types of the console's forms, and their refusal codes."""


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
        shown.append(f"{field}: {sentence(lang, code, str(error['msg']), context)}")
    return "; ".join(shown)
