"""The single entry point intake uses to turn a request body into a typed event."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final

import jiter
from pydantic import Field, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import CoreSchema, ErrorDetails, from_json
from pydantic_core import core_schema as cs

from schemas.bounds import READ_AT_MOST, listed, pruned, text_too_long
from schemas.deferred import DeferredRules
from schemas.diagnostic import DiagnosticRequest
from schemas.errors import EventValidationError, FieldError
from schemas.fields import MAX_EVENT_TEXT
from schemas.native import PYTHON_MODE
from schemas.referral import Referral
from schemas.rules import MAX_LISTED, message_for
from schemas.translate import field_errors, format_path, unreadable

Event = Annotated[Referral | DiagnosticRequest, Field(discriminator="type")]

_MODELS: Final[dict[str, type[Referral | DiagnosticRequest]]] = {
    "referral": Referral,
    "diagnostic_request": DiagnosticRequest,
}


class _Events:
    """The `Event` union, switching on `type` as `Field(discriminator=...)` does."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        choices = {tag: handler.generate_schema(model) for tag, model in _MODELS.items()}
        return cs.tagged_union_schema(choices, "type", from_attributes=True, strict=False)


# Built once, here: JSON bodies are validated in JSON mode throughout, mappings in Python mode.
_EVENTS: Final[TypeAdapter[Referral | DiagnosticRequest]] = TypeAdapter(
    Annotated[Referral | DiagnosticRequest, _Events()]
)
_TAGS: Final = frozenset(_MODELS)
_DEFERRED: Final = DeferredRules(_MODELS)
# The adapter's own validator, called directly: `TypeAdapter.validate_json` only checks its
# alias options and calls this, about 1 % of a sample referral's parse.
_VALIDATE_JSON: Final[Callable[[bytes | bytearray | str], Referral | DiagnosticRequest]] = (
    _EVENTS.validator.validate_json
)
_VALIDATE_PYTHON: Final[Callable[[Any], Referral | DiagnosticRequest]] = (
    _EVENTS.validator.validate_python
)
# A tuple, not `bytes | bytearray | str`: `isinstance` takes a tuple faster than a union.
_TEXTS: Final = (bytes, bytearray, str)


def duplicate_key(data: bytes | bytearray | str) -> FieldError | None:
    """The first key an object of ``data`` holds twice, as a refusal; None when there is none
    (or ``data`` is no JSON at all, which validation then names).

    JSON parsers keep the last of two equal keys (pydantic's too), others the first: an event
    with two ``bsn`` keys would name one patient here and perhaps another upstream, so which
    one was meant cannot be told, and it is refused.
    """
    where = key_twice(data)
    if where is None:
        return None
    return FieldError(format_path(where), "duplicate_key", message_for("duplicate_key"))


def key_twice(data: bytes | bytearray | str) -> tuple[str | int, ...] | None:
    """Where the first key held twice in one object of ``data`` is (its path); None when no
    key is (or ``data`` is no JSON). jiter finds whether one is in one pass, about a third of
    what validating the sample referral costs; only then does a slower pass find where."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    try:
        jiter.from_json(raw, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as exc:
        if not str(exc).startswith("Detected duplicate key"):
            return None
        return where_twice(data)  # None: the text is no JSON further on, which is named
    return None


class _KeyedTwice(dict[str, Any]):
    """An object that held ``key`` twice (the parser's hook cannot say where it is)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def where_twice(data: bytes | bytearray | str) -> tuple[str | int, ...] | None:
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


class _Refused:
    """pydantic's refusal of a body: how many errors it found, and the errors themselves when
    there are few enough to read (`READ_AT_MOST`)."""

    def __init__(self, exc: ValidationError) -> None:
        self.exc = exc
        self.total = exc.error_count()
        self.details = exc.errors(include_url=False) if self.total <= READ_AT_MOST else None

    def needs_python_mode(self) -> bool:
        """Whether a JSON check could not decide as Python mode would (a body with too many
        errors to read is validated again in Python mode anyway, `_details`)."""
        return self.details is not None and any(e["type"] == PYTHON_MODE for e in self.details)


def _validated_json(data: bytes | bytearray | str) -> Referral | DiagnosticRequest | _Refused:
    try:
        return _VALIDATE_JSON(data)
    except ValidationError as exc:
        refused = _Refused(exc)
    if not refused.needs_python_mode():
        return refused
    # Valid JSON (it was parsed): as a mapping, it decides as JSON bodies did.
    return _validated_python(from_json(data))


def _validated_python(data: Any) -> Referral | DiagnosticRequest | _Refused:
    try:
        return _VALIDATE_PYTHON(data)
    except ValidationError as exc:
        return _Refused(exc)


class _Decoded:
    """A body as JSON values, decoded once when first asked for; None when it is no JSON."""

    def __init__(self, data: bytes | bytearray | str | dict[str, Any]) -> None:
        self._text = None if isinstance(data, dict) else data
        self._decoded: Any = data if self._text is None else _UNREAD

    def __call__(self) -> Any:
        if self._decoded is _UNREAD and self._text is not None:
            try:
                self._decoded = from_json(self._text)
            except ValueError:
                self._decoded = None
        return self._decoded


_UNREAD: Final = object()


def _details(refused: _Refused, decoded: _Decoded) -> tuple[list[ErrorDetails], bool]:
    """The errors to read, and whether they hold every error an answer could name: all of
    pydantic's, or those of the body pruned (`schemas.bounds.pruned`)."""
    if refused.details is not None:
        return refused.details, True
    body = decoded()
    tag = body.get("type") if isinstance(body, dict) else None
    if isinstance(tag, str) and tag in _MODELS:
        copy, complete = pruned(body, tag)
        fewer = _validated_python(copy)
        if isinstance(fewer, _Refused) and fewer.details is not None:
            return fewer.details, complete
    return refused.exc.errors(include_url=False), True  # not expected: slow, but whole


def _refusal(
    data: bytes | bytearray | str | dict[str, Any],
    refused: _Refused,
    decoded: _Decoded,
    counted: bool,
) -> EventValidationError:
    """Every broken rule, up to `MAX_LISTED` of them (`schemas.bounds.listed`): the sum of
    the text when `counted`, pydantic's, and the cross-field rules pydantic skipped
    (`schemas.deferred`), which are judged only when all of pydantic's errors were read (else
    they would come after the last one named).

    The pydantic error is not chained: its text and `input` hold patient data, and a chained
    cause ends up in logged tracebacks."""
    details, complete = _details(refused, decoded)
    errors, read = field_errors(details, _TAGS, at_most=MAX_LISTED + 1)
    if [(e.path, e.rule) for e in errors] == [("$", "json_syntax")] and not isinstance(data, dict):
        why = unreadable(data)
        errors = errors if why is None else (FieldError("$", "json_syntax", why),)
    found = refused.total
    if complete and read == len(details):
        deferred = _DEFERRED.errors(data, errors)
        errors += deferred
        found += len(deferred)
    if [e.path for e in errors] == ["type"]:
        besides = _whatever_the_type(decoded())
        errors += besides
        found += len(besides)
    too_long = text_too_long(decoded()) if counted else None
    if too_long is not None:
        errors = (too_long, *errors)
        found += 1
    return EventValidationError(listed(errors, found))


def _whatever_the_type(body: Any) -> tuple[FieldError, ...]:
    """The rules ``body`` breaks as every event type would name them, for a body whose
    ``type`` is missing or none: pydantic stops at the type (the union switches on it), and a
    sender who left it out learned of one error, fixed it and met the next ten. Each type is
    tried in turn; what all of them refuse alike (a ``zd_number`` missing, a BSN failing the
    eleven-test, a cross-field rule pydantic skipped for a field error: ``schemas.deferred``)
    is named after the type, in the first type's order. Only on the refusal's
    path, so a valid event pays nothing."""
    if not isinstance(body, dict):
        return ()
    found: list[tuple[FieldError, ...]] = []
    for tag in _MODELS:
        typed = {**body, "type": tag}
        tried = _validated_python(typed)
        if not isinstance(tried, _Refused):
            return ()  # valid as this type: only the type is wrong
        details, complete = _details(tried, _Decoded(typed))
        errors, read = field_errors(details, _TAGS, at_most=MAX_LISTED + 1)
        if complete and read == len(details):  # as ``_refusal`` adds them to a typed body's
            errors += _DEFERRED.errors(typed, errors)
        found.append(errors)
    alike = set.intersection(*(set(errors) for errors in found))
    return tuple(e for e in found[0] if e in alike and e.path != "type")


def parse_event(
    data: bytes | bytearray | memoryview | str | Mapping[str, Any],
) -> Referral | DiagnosticRequest:
    """Validate a JSON body (bytes or text) or an already-decoded mapping into an event.

    Raises EventValidationError listing every broken rule (at most `MAX_LISTED`, then how many
    more), the cross-field rules that pydantic skipped for a field error included
    (`schemas.deferred`, after pydantic's errors), and the text of the event in all before
    them (`schemas.bounds.text_too_long`).
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    if isinstance(data, _TEXTS):
        twice = duplicate_key(data)
        if twice is not None:
            raise EventValidationError((twice,))
        outcome = _validated_json(data)
        # Bytes or characters: either way at least one per character of the event's text, so
        # a body no longer than the maximum holds no more text, and is not decoded to count it.
        counted = len(data) > MAX_EVENT_TEXT
    elif isinstance(data, Mapping):
        data = dict(data)
        outcome = _validated_python(data)
        counted = True
    else:
        raise EventValidationError((FieldError("$", "type", "must be an object"),))
    if isinstance(outcome, _Refused):
        raise _refusal(data, outcome, _Decoded(data), counted)
    if counted:
        too_long = text_too_long(_Decoded(data)())
        if too_long is not None:
            raise EventValidationError((too_long,))
    return outcome
