"""The single entry point intake uses to turn a request body into a typed event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

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
from schemas.translate import field_errors

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
