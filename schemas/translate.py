"""Turning pydantic's errors into `FieldError`s.

Only the error's location, type and our own context are read. pydantic's `msg` is never used,
nor `input` beyond telling a blank string from a long one: `input` is the patient's data and
`msg` can quote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.errors import FieldError
from schemas.fields import MAX_LONG_TEXT, MAX_TEXT
from schemas.native import NOT_BLANK
from schemas.rules import RULE_MESSAGES, RULE_SHAPES, message_for
from shapes import NUMBER, TEXT, Shape

SCHEMA_KEY: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""The shape of every key the schemas define (snake_case, at most 64 characters; a test holds
the models and the JSON Schema files to it). A key of the input is named in a path only when
it has this shape: anything else (`van der Berg`, `Dorpsstraat 12A`, `1961-04-12`) is data sent
as a key by a mapping bug upstream, and is never repeated."""
# A key of that shape with a run of digits may still be data (a BSN after a letter).
_DATA_LIKE_KEY: Final = re.compile(r"[0-9]{5,}")
WITHHELD_KEY: Final = "…"
# A stored path's parts: an index (`[0]`) or a key, between the dots and brackets.
_STORED_PART: Final = re.compile(r"\[[0-9]+\]|[^.\[\]]+")
# The JSON parser's own explanation names a position, not content; anything else is dropped.
_JSON_POSITION: Final = re.compile(r"[A-Za-z ,]+ at line [0-9]+ column [0-9]+")

# pydantic error type -> our rule code. Types not listed keep a generic rule (see _rule_for).
_PYDANTIC_RULES: Final[dict[str, str]] = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "allowed_values",
    "enum": "allowed_values",
    "too_short": "too_short",
    "json_invalid": "json_syntax",
    "uuid_type": "uuid_format",
    "uuid_parsing": "uuid_format",
    "uuid_version": "uuid_format",
    "union_tag_invalid": "allowed_values",
    "union_tag_not_found": "required",
}

# The sentences of the rules that carry a value or a type (``shapes``): the console words them
# in the person's language, as it words each rule's own sentence (``RULE_SHAPES``).
MUST_BE_STRING: Final = Shape("rule.type_string", "must be a string")
MUST_BE_BOOLEAN: Final = Shape("rule.type_boolean", "must be a boolean (true or false)")
MUST_BE_INTEGER: Final = Shape("rule.type_integer", "must be an integer")
MUST_BE_OBJECT: Final = Shape("rule.type_object", "must be an object")
MUST_BE_JSON_TEXT: Final = Shape("rule.type_json_text", "must be JSON text")
MUST_BE_LIST: Final = Shape("rule.type_list", "must be a list")
ONE_OF: Final = Shape("rule.one_of", "must be one of {expected}", expected=TEXT)
"""``expected`` is pydantic's list of the schema's own values, shown as it is."""
AT_LEAST: Final = Shape("rule.at_least", "must contain at least {count} item(s)", count=NUMBER)
NOT_JSON_AT: Final = Shape(
    "rule.json_syntax_at", RULE_SHAPES["json_syntax"].template + ": {detail}", detail=TEXT
)
"""``detail`` is the JSON parser's own words (a position in the text), shown as they are."""

_TYPE_SENTENCES: Final[dict[str, Shape]] = {
    "string_type": MUST_BE_STRING,
    "string_unicode": MUST_BE_STRING,
    "bool_type": MUST_BE_BOOLEAN,
    "bool_parsing": MUST_BE_BOOLEAN,
    "int_type": MUST_BE_INTEGER,
    "int_parsing": MUST_BE_INTEGER,
    "model_type": MUST_BE_OBJECT,
    "model_attributes_type": MUST_BE_OBJECT,
    "dict_type": MUST_BE_OBJECT,
    "json_type": MUST_BE_JSON_TEXT,
    "tuple_type": MUST_BE_LIST,
    "list_type": MUST_BE_LIST,
    "iterable_type": MUST_BE_LIST,
}
VALUE_SHAPES: Final = (*dict.fromkeys(_TYPE_SENTENCES.values()), ONE_OF, AT_LEAST, NOT_JSON_AT)
"""Every sentence here besides the rules' own."""


def shown_key(key: str) -> str:
    """`key` itself when it has the schemas' key shape, else `WITHHELD_KEY`.

    A path names the input's keys as they came, so the rule is about the key, not about where
    it stands: a schema-shaped unknown key (`patient.nickname`) is named, so the sender learns
    which key to drop; any other one is `…`, and its "unknown field" error still stands at its
    parent's path (`patient.name.…`). Paths go into 422 answers, the log and the rejected
    listing, which roles without `patient_data.read` see.
    """
    if SCHEMA_KEY.fullmatch(key) and not _DATA_LIKE_KEY.search(key):
        return key
    return WITHHELD_KEY


def format_path(loc: Sequence[str | int]) -> str:
    """`('questions', 0, 'answer')` -> `questions[0].answer`; the empty location is `$`.
    Each key is shown as `shown_key` shows it."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            key = shown_key(part)
            path += f".{key}" if path else key
    return path or "$"


def withhold_stored_keys(path: str) -> str:
    """A path as kept with rejected input, each key shown as `shown_key` shows it.

    Rejected input kept before keys were judged by their shape may hold a path naming data
    sent as a key (`patient.name.van der Berg`); reading it through here shows it as
    `format_path` shows it now. Idempotent: a path `format_path` made comes back as it was.
    A key that held `.` or `[` was split when it was kept; each piece is judged alone.
    """
    if path in {"", "$"}:
        return "$"
    return _STORED_PART.sub(
        lambda part: part[0] if part[0].startswith("[") else shown_key(part[0]), path
    )


# pydantic-core's own string checks on JSON input (`schemas.native.non_blank_at_most`).
_MAXIMUM_RULES: Final[dict[int, str]] = {
    MAX_TEXT: "text_too_long",
    MAX_LONG_TEXT: "long_text_too_long",
}


def _native_rule(error: ErrorDetails) -> str | None:
    """The rule of a native string check, or None for any other error.

    The input is looked at only to tell blank from too long (see `non_blank_at_most`); it is
    never kept or repeated.
    """
    error_type = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if error_type == "string_pattern_mismatch" and context.get("pattern") == NOT_BLANK:
        return "blank"
    if error_type == "string_too_long" and context.get("max_length") in _MAXIMUM_RULES:
        value = error.get("input")
        if isinstance(value, str) and not value.strip():
            return "blank"
        return _MAXIMUM_RULES[context["max_length"]]
    return None


def _rule_for(error_type: str) -> str:
    if error_type in RULE_MESSAGES:
        return error_type  # one of our own rule errors
    if error_type in _TYPE_SENTENCES:
        return "type"
    return _PYDANTIC_RULES.get(error_type, "invalid")


def _message_for(error: ErrorDetails, rule: str) -> str:
    error_type = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if error_type in _TYPE_SENTENCES:
        return _TYPE_SENTENCES[error_type]()
    if error_type == "literal_error" and "expected" in context:
        # `expected` comes from our schema, never from the input.
        return ONE_OF(expected=context["expected"])
    if error_type == "union_tag_invalid" and "expected_tags" in context:
        return ONE_OF(expected=context["expected_tags"])
    if error_type == "json_invalid":
        detail = str(context.get("error", ""))
        if _JSON_POSITION.fullmatch(detail):  # `rule` is json_syntax
            return NOT_JSON_AT(detail=detail)
    if error_type == "too_short" and "min_length" in context:
        return AT_LEAST(count=int(context["min_length"]))
    return message_for(rule)


def _location(error: ErrorDetails, tags: frozenset[str]) -> list[str | int]:
    loc = list(error["loc"])
    if loc and loc[0] in tags:
        # A discriminated union puts the chosen tag first; callers think in document paths.
        loc = loc[1:]
    if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        loc = [*loc, "type"]
    field = (error.get("ctx") or {}).get("field")
    if isinstance(field, str):
        loc.extend(field.split("."))
    return loc


def field_errors(exc: ValidationError, tags: Iterable[str] = ()) -> tuple[FieldError, ...]:
    """FieldErrors for a pydantic ValidationError, in pydantic's order, without duplicates.

    `tags` are the discriminator values to drop from the front of locations when the error came
    from validating the `Event` union.
    """
    tag_set = frozenset(tags)
    seen: dict[FieldError, None] = {}
    for error in exc.errors(include_url=False):
        rule = _native_rule(error) or _rule_for(error["type"])
        path = format_path(_location(error, tag_set))
        seen.setdefault(FieldError(path, rule, _message_for(error, rule)), None)
    return tuple(seen)
