"""The single entry point intake uses to turn a request body into a typed event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Final

import jiter
from pydantic import Field, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import CoreSchema, from_json
from pydantic_core import core_schema as cs

from schemas.deferred import DeferredRules
from schemas.diagnostic import DiagnosticRequest
from schemas.envelope import text_fits_one_message
from schemas.errors import EventValidationError, FieldError
from schemas.fields import MAX_EVENT_TEXT
from schemas.native import PYTHON_MODE
from schemas.referral import Referral
from schemas.rules import message_for
from schemas.translate import field_errors, format_path

Event = Annotated[Referral | DiagnosticRequest, Field(discriminator="type")]

_MODELS: Final[dict[str, type[Referral | DiagnosticRequest]]] = {
    "referral": Referral,
    "diagnostic_request": DiagnosticRequest,
}


class _Events:
    """The `Event` union, switching on `type` as `Field(discriminator=...)` does; with
    `text_fits_one_message` after the switch when `checked`."""

    def __init__(self, *, checked: bool) -> None:
        self.checked = checked

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        choices: dict[str, CoreSchema] = {}
        for tag, model in _MODELS.items():
            schema = handler.generate_schema(model)
            if self.checked:
                schema = cs.no_info_before_validator_function(text_fits_one_message, schema)
            choices[tag] = schema
        return cs.tagged_union_schema(choices, "type", from_attributes=True, strict=False)


# Built once, here: a JSON body short enough that its text cannot exceed the maximum is
# validated in JSON mode throughout; anything else takes the checked union.
_SHORT_JSON: Final[TypeAdapter[Referral | DiagnosticRequest]] = TypeAdapter(
    Annotated[Referral | DiagnosticRequest, _Events(checked=False)]
)
_CHECKED: Final[TypeAdapter[Referral | DiagnosticRequest]] = TypeAdapter(
    Annotated[Referral | DiagnosticRequest, _Events(checked=True)]
)
_TAGS: Final = frozenset(_MODELS)
_DEFERRED: Final = DeferredRules(_MODELS)


def duplicate_key(data: bytes | bytearray | str) -> FieldError | None:
    """The first key an object of ``data`` holds twice, as a refusal; None when there is none
    (or ``data`` is no JSON at all, which validation then names).

    JSON parsers keep the last of two equal keys (pydantic's too), others the first: an event
    with two ``bsn`` keys would name one patient here and perhaps another upstream, so which
    one was meant cannot be told, and it is refused. jiter finds it in one pass, about a third
    of what validating the sample referral costs; only then does a slower pass find where.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    try:
        jiter.from_json(raw, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as exc:
        if not str(exc).startswith("Detected duplicate key"):
            return None
        where = _where_twice(data)  # None: the text is no JSON further on, which is named
        if where is None:
            return None
        return FieldError(format_path(where), "duplicate_key", message_for("duplicate_key"))
    return None


class _KeyedTwice(dict[str, Any]):
    """An object that held ``key`` twice (the parser's hook cannot say where it is)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _where_twice(data: bytes | bytearray | str) -> tuple[str | int, ...] | None:
    """The path of the first key held twice, found after the fact in the decoded document;
    None when ``data`` is no JSON (jiter stops at the duplicate, before a later error)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                return _KeyedTwice(pairs, key)
            seen.add(key)
        return dict(pairs)

    def find(value: Any, at: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
        if isinstance(value, _KeyedTwice):
            return (*at, value.key)
        children = (
            value.items()
            if isinstance(value, dict)
            else (enumerate(value) if isinstance(value, list) else ())
        )
        for key, child in children:
            found = find(child, (*at, key))
            if found is not None:
                return found
        return None

    try:
        decoded = json.loads(data, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return None
    return find(decoded, ()) or ()


def _needs_python_mode(exc: ValidationError) -> bool:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return any(error["type"] == PYTHON_MODE for error in errors)


def parse_event(
    data: bytes | bytearray | memoryview | str | Mapping[str, Any],
) -> Referral | DiagnosticRequest:
    """Validate a JSON body (bytes or text) or an already-decoded mapping into an event.

    Raises EventValidationError listing every broken rule, the cross-field rules that pydantic
    skipped for a field error included (`schemas.deferred`, after pydantic's errors). The
    pydantic error is not chained: its text and `input` hold patient data, and a chained cause
    ends up in logged tracebacks.
    """
    try:
        if isinstance(data, memoryview):
            data = data.tobytes()
        if isinstance(data, bytes | bytearray | str):
            twice = duplicate_key(data)
            if twice is not None:
                raise EventValidationError((twice,))
            # Bytes or characters: either way at least one per character of the event's text.
            if len(data) <= MAX_EVENT_TEXT:
                try:
                    return _SHORT_JSON.validate_json(data)
                except ValidationError as exc:
                    if not _needs_python_mode(exc):
                        raise
                # Valid JSON (it was parsed): as a mapping, it decides as JSON bodies did.
                return _CHECKED.validate_python(from_json(data))
            return _CHECKED.validate_json(data)
        if isinstance(data, Mapping):
            return _CHECKED.validate_python(dict(data))
    except ValidationError as exc:
        errors = field_errors(exc, _TAGS)
        errors += _DEFERRED.errors(data, errors)
    else:
        errors = (FieldError("$", "type", "must be an object"),)
    raise EventValidationError(errors)
