"""The single entry point intake uses to turn a request body into a typed event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import Field, TypeAdapter, ValidationError

from schemas.diagnostic import DiagnosticRequest
from schemas.envelope import SHORT_BODY
from schemas.errors import EventValidationError, FieldError
from schemas.fields import MAX_EVENT_TEXT
from schemas.referral import Referral
from schemas.translate import field_errors

Event = Annotated[Referral | DiagnosticRequest, Field(discriminator="type")]

_EVENT_ADAPTER: Final[TypeAdapter[Referral | DiagnosticRequest]] = TypeAdapter(Event)
_TAGS: Final = frozenset({"referral", "diagnostic_request"})


def parse_event(
    data: bytes | bytearray | memoryview | str | Mapping[str, Any],
) -> Referral | DiagnosticRequest:
    """Validate a JSON body (bytes or text) or an already-decoded mapping into an event.

    Raises EventValidationError listing every broken rule. The pydantic error is not chained:
    its text and `input` hold patient data, and a chained cause ends up in logged tracebacks.
    """
    try:
        if isinstance(data, memoryview):
            data = data.tobytes()
        if isinstance(data, bytes | bytearray | str):
            # Bytes or characters: either way at least one per character of the event's text.
            short = len(data) <= MAX_EVENT_TEXT
            return _EVENT_ADAPTER.validate_json(data, context={SHORT_BODY: short})
        if isinstance(data, Mapping):
            return _EVENT_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        errors = field_errors(exc, _TAGS)
    else:
        errors = (FieldError("$", "type", "must be an object"),)
    raise EventValidationError(errors)
