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
from schemas.keys import MAX_COMPARED, MAX_PLACES, judge_unknown, shown_key
from schemas.keys import WITHHELD_KEY as WITHHELD_KEY
from schemas.native import NOT_BLANK
from schemas.rules import EVENT_TEXT_IN, MORE_ERRORS, RULE_MESSAGES, RULE_SHAPES, message_for
from shapes import NUMBER, TEXT, Shape

SCHEMA_KEY: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""The shape of every key the schemas define (snake_case, at most 64 characters; a test holds
the models and the JSON Schema files to it). The shape does not decide whether an error names a
key of the input (``jansen`` has it too): ``schemas.keys`` does."""
# A stored path's parts: an index (`[0]`) or a key, between the dots and brackets.
_STORED_PART: Final = re.compile(r"\[[0-9]+\]|[^.\[\]]+")
# The JSON parser's own explanation names a position, not content; anything else is dropped.
# The one that names a range of characters (a raw control character, a NUL, inside a string)
# names the range, not the character found: said as well.
_JSON_POSITION: Final = re.compile(
    r"(?:[A-Za-z ,]+|control character \(\\u0000-\\u001F\) found while parsing a string)"
    r" at line [0-9]+ column [0-9]+"
)

# pydantic error type -> our rule code. Types not listed keep a generic rule (see _rule_for).
_PYDANTIC_RULES: Final[dict[str, str]] = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "allowed_values",
    "enum": "allowed_values",
    "too_short": "too_short",
    "too_long": "too_many_items",  # a list's maximum (`schemas.native.AtMostItems`)
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
MUST_BE_ONE_EVENT: Final = Shape(
    "rule.type_one_event", "must be an object: one event per request, not a list of them"
)
"""The whole body a list (of events, as batch APIs take them), not the one event asked."""
MUST_BE_JSON_TEXT: Final = Shape("rule.type_json_text", "must be JSON text")
MUST_BE_LIST: Final = Shape("rule.type_list", "must be a list")
ONE_OF: Final = Shape("rule.one_of", "must be one of {expected}", expected=TEXT)
"""``expected`` is pydantic's list of the schema's own values, shown as it is."""
AT_LEAST: Final = Shape("rule.at_least", "must contain at least {count} item(s)", count=NUMBER)
AT_MOST: Final = Shape("rule.at_most", "must contain at most {count} item(s)", count=NUMBER)
NOT_HERE: Final = Shape(
    "rule.unknown_field_elsewhere",
    "is not a field here; the schema has it at {places}",
    places=r"\S+(?:, \S+)*",
)
"""A schema's key at a place the schema does not have it; ``places`` are where it does
(``patient.bsn``), at most ``schemas.keys.MAX_PLACES`` of them, then ``…``."""
DID_YOU_MEAN: Final = Shape(
    "rule.unknown_field_like",
    RULE_SHAPES["unknown_field"].template + "; did you mean {key}?",
    key=r"[a-z][a-z0-9_]*",
)
"""An unknown key that resembles ``key``, the schema's own (never the typed key itself)."""
NOT_JSON_AT: Final = Shape(
    "rule.json_syntax_at", RULE_SHAPES["json_syntax"].template + ": {detail}", detail=TEXT
)
"""``detail`` is the JSON parser's own words (a position in the text), shown as they are."""
_NOT_JSON: Final = RULE_SHAPES["json_syntax"].template
NOT_JSON_BOM: Final = Shape(
    "rule.json_syntax_bom",
    _NOT_JSON + ": it starts with a UTF-8 byte order mark; send it without one",
)
NOT_JSON_GZIP: Final = Shape(
    "rule.json_syntax_gzip", _NOT_JSON + ": it looks gzip-compressed; send plain JSON"
)
NOT_UTF8: Final = Shape("rule.json_syntax_utf8", _NOT_JSON + ": it is not UTF-8; send it as UTF-8")

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
VALUE_SHAPES: Final = (
    *dict.fromkeys(_TYPE_SENTENCES.values()),
    MUST_BE_ONE_EVENT,
    ONE_OF,
    AT_LEAST,
    AT_MOST,
    NOT_JSON_BOM,  # before NOT_JSON_AT, whose detail would read their words too
    NOT_JSON_GZIP,
    NOT_UTF8,
    NOT_JSON_AT,
    NOT_HERE,
    DID_YOU_MEAN,
    MORE_ERRORS,
    EVENT_TEXT_IN,
)
"""Every sentence with a value or a type intake writes (here and in ``schemas.rules``)."""


def format_path(loc: Sequence[str | int]) -> str:
    """`('questions', 0, 'answer')` -> `questions[0].answer`; the empty location is `$`.
    Each key is shown as `schemas.keys.shown_key` shows it: named when it is one of the
    schemas' own keys or a well-known one, else `…`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            key = shown_key(part)
            path += f".{key}" if path else key
    return path or "$"


def withhold_stored_keys(path: str) -> str:
    """A path as kept with rejected input, each key shown as `format_path` shows it.

    Rejected input kept before keys were judged as they are now may hold a path naming data
    sent as a key (`patient.name.van der Berg`, `patient.name.jansen`); reading it through here
    shows it as `format_path` shows it now. Idempotent: a path `format_path` made comes back
    as it was.
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
        whole_list = not error["loc"] and isinstance(error.get("input"), list)
        if _TYPE_SENTENCES[error_type] is MUST_BE_OBJECT and whole_list:
            return MUST_BE_ONE_EVENT()
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
    if error_type == "too_long" and "max_length" in context:
        return AT_MOST(count=int(context["max_length"]))
    return message_for(rule)


def unreadable(data: bytes | bytearray | str) -> str | None:
    """Why a body that is no JSON cannot be, when its bytes show it (they are looked at, never
    repeated): the parser's own words for these say "expected value at line 1 column 1"."""
    if isinstance(data, str):
        return NOT_JSON_BOM() if data.startswith("\ufeff") else None
    if data.startswith(b"\xef\xbb\xbf"):
        return NOT_JSON_BOM()
    if data.startswith(b"\x1f\x8b"):
        return NOT_JSON_GZIP()
    # UTF-16 or UTF-32: a byte order mark of its own, or a zero byte in `{` or `[`.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:2]:
        return NOT_UTF8()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # Latin-1 or Windows-1252, most often
        return NOT_UTF8()
    return None


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


def field_errors(
    errors: ValidationError | Iterable[ErrorDetails],
    tags: Iterable[str] = (),
    *,
    at_most: int | None = None,
) -> tuple[tuple[FieldError, ...], int]:
    """FieldErrors for pydantic's errors, in pydantic's order, without duplicates; and how many
    of pydantic's errors were read for them.

    `tags` are the discriminator values to drop from the front of locations when the error came
    from validating the `Event` union. With `at_most`, the reading stops at that many
    FieldErrors: the rest are not worked on (a body can make a million).
    """
    tag_set = frozenset(tags)
    seen: dict[FieldError, None] = {}
    compared = 0
    read = 0
    details = errors.errors(include_url=False) if isinstance(errors, ValidationError) else errors
    for error in details:
        if at_most is not None and len(seen) >= at_most:
            break
        read += 1
        rule = _native_rule(error) or _rule_for(error["type"])
        loc = _location(error, tag_set)
        message = _message_for(error, rule)
        if error["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            first = error["loc"][0] if error["loc"] else None
            compare = compared < MAX_COMPARED
            compared += shown_key(loc[-1]) == WITHHELD_KEY
            message = _unknown_key_message(first if first in tag_set else None, loc, compare)
        seen.setdefault(FieldError(format_path(loc), rule, message), None)
    return tuple(seen), read


def _unknown_key_message(event_type: object, loc: Sequence[str | int], compare: bool) -> str:
    """The sentence of an unknown key at `loc`: where the schema has it when it is the schema's
    own, or which of the schema's keys it resembles (`schemas.keys.judge_unknown`, which
    compares at most `MAX_COMPARED` keys of one input); never the key itself."""
    key = loc[-1]
    assert isinstance(key, str)
    kind = event_type if isinstance(event_type, str) else None
    judged = judge_unknown(kind, loc[:-1], key, compare=compare)
    if judged.places:
        shown = list(judged.places[:MAX_PLACES])
        if len(judged.places) > MAX_PLACES:
            shown.append(WITHHELD_KEY)
        return NOT_HERE(places=", ".join(shown))
    if judged.resembles is not None:
        return DID_YOU_MEAN(key=judged.resembles)
    return message_for("unknown_field")
