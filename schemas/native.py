"""Field checks that pydantic-core runs itself, without calling into Python for every field.

An event holds some 80 strings; a Python validator per check and field was about half of
`parse_event`'s CPU. Each check here gives exactly the result of the Python rule it replaced
(same value, same rule code, same order of rules), because it runs on what pydantic's `str`
validation has already produced: an exact `str`, stripped of Unicode White_Space.

Python's whitespace (`str.isspace`, `str.strip`, `\\s` in `re`) is Unicode White_Space plus the
four information separators U+001C..U+001F, which Rust's `trim` keeps. The patterns spell that
set out, so "blank" and "e-mail address" mean here what they meant in Python.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas.rules import message_for

#: The code point ranges `str.isspace` accepts (a test checks them against every code point).
PY_WHITESPACE: Final = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
#: The error of a JSON check that cannot decide exactly as Python mode would; `parse_event`
#: then validates the whole body again as before (see `schemas.parties.Address`).
PYTHON_MODE: Final = "python_mode_needed"

#: A character class of Python whitespace, in the syntax of pydantic-core's (Rust) regex.
PY_SPACE_CLASS: Final = "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in PY_WHITESPACE)
#: Found in a string that is not blank: one character that is not Python whitespace.
NOT_BLANK: Final = f"[^{PY_SPACE_CLASS}]"


def rule(schema: CoreSchema, code: str) -> CoreSchema:
    """`schema`, whose every failure is reported as our rule `code` (as `rule_error` would)."""
    return cs.custom_error_schema(
        schema, custom_error_type=code, custom_error_message=message_for(code)
    )


def stripped() -> CoreSchema:
    """A string, stripped: the first step of every text field (wrong types fail here)."""
    return cs.str_schema(strip_whitespace=True)


def not_blank() -> CoreSchema:
    # strip_whitespace=False throughout: the model's config would otherwise strip again.
    return rule(cs.str_schema(strip_whitespace=False, pattern=NOT_BLANK), "blank")


def at_most(limit: int, code: str) -> CoreSchema:
    return rule(cs.str_schema(strip_whitespace=False, max_length=limit), code)


def matching(pattern: str, code: str) -> CoreSchema:
    """The whole string matches `pattern` (give it with ^ and $), else rule `code`."""
    return rule(cs.str_schema(strip_whitespace=False, pattern=pattern), code)


def non_blank_at_most(limit: int) -> CoreSchema:
    """For JSON input: stripped, not blank, at most `limit` characters, in one step.

    pydantic-core checks the length before the pattern, so a string of more than `limit`
    characters that is blank to Python (U+001C..U+001F, which it does not strip) fails as too
    long; `schemas.translate` reports that one as blank, as the Python rule did. The rule codes
    come from `schemas.translate` too: `string_pattern_mismatch` with this pattern is "blank",
    `string_too_long` names its rule by the maximum.
    """
    return cs.str_schema(strip_whitespace=True, pattern=NOT_BLANK, max_length=limit)


def required(*checks: CoreSchema) -> CoreSchema:
    """A stripped string, then each check in order; the first that fails is the error."""
    return cs.chain_schema([stripped(), *checks])


def optional(*checks: CoreSchema) -> CoreSchema:
    """None, or a string where blank means None, else stripped and given to each check.

    For JSON input only: the blank test looks at the stripped value, which is blank exactly
    when the value sent is (a JSON string is an exact `str`). Python input keeps the Python
    before-validator, which looks at the value as given (bytes, say, are not blank there).
    """
    blank_to_none = cs.with_default_schema(
        cs.str_schema(strip_whitespace=True, pattern=NOT_BLANK), default=None, on_error="default"
    )
    return cs.chain_schema(
        [
            cs.nullable_schema(cs.str_schema(strip_whitespace=False)),
            blank_to_none,
            *(cs.nullable_schema(check) for check in checks),
        ]
    )


def _fresh(schema: Any) -> Any:
    """A copy of a core schema's dicts and lists: pydantic may annotate the ones it is given."""
    if isinstance(schema, dict):
        return {key: _fresh(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_fresh(item) for item in schema]
    return schema


class Native:
    """Annotation: validate with `schema`, whatever the input, instead of the types before it."""

    def __init__(self, schema: CoreSchema) -> None:
        self.schema = schema

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        result: CoreSchema = _fresh(self.schema)
        return result


class NativeJson:
    """Annotation: JSON input is validated by `schema`; Python input by the annotations before.

    The JSON Schema stays the one of the Python annotations, so `make schemas` is unchanged.
    """

    def __init__(self, schema: CoreSchema) -> None:
        self.schema = schema

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return cs.json_or_python_schema(
            json_schema=_fresh(self.schema), python_schema=handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        if schema["type"] == "json-or-python":
            return handler(schema["python_schema"])
        return handler(schema)


class Unchecked:
    """Annotation: the value is kept as the validators before it left it; the JSON Schema stays
    the declared type's.

    For a field whose before-validator already returns the declared type exactly: validating
    that again through a union of several types costs more than the rest of the field.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        self._declared = handler(source)
        return cs.any_schema()

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self._declared)


class AtLeastOne:
    """Annotation: a tuple whose items all passed must have one, else rule "at_least_one".

    Checked after the items, so an invalid item is not also reported as "too short".
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        items = handler(source)
        length = cs.tuple_schema([cs.any_schema()], variadic_item_index=0, min_length=1)
        return cs.chain_schema([items, rule(length, "at_least_one")])


class AtMostItems:
    """Annotation: a tuple (``tuple[X, ...]``) of at most ``limit`` items, else pydantic's
    ``too_long``, which `schemas.translate` reports as rule "too_many_items".

    pydantic-core's tuple validator checks its maximum only after every item (a million wrong
    items make a million errors first); its list validator checks the length first and stops.
    So the items are validated as a list, then made a tuple (one call per list, not per item),
    and serialized by the tuple's own schema.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        variadic = schema["type"] == "tuple" and schema.get("variadic_item_index") == 0
        if not variadic or len(schema["items_schema"]) != 1:
            raise TypeError(f"AtMostItems needs tuple[X, ...], not {source}")
        items = cs.list_schema(schema["items_schema"][0], max_length=self.limit)
        # Serialized as the tuple it is (`tuple` gives a tuple back as it is, from C).
        as_tuple = cs.plain_serializer_function_ser_schema(
            tuple, info_arg=False, return_schema=schema
        )
        return cs.no_info_after_validator_function(tuple, items, serialization=as_tuple)
