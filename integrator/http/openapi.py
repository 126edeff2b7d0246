"""The OpenAPI document: request bodies the routes read raw, and the API's error shape.

``POST /api/v1/events`` reads its body raw (intake keeps the raw input of a refused event) and the
destination routes read a plain JSON object (the destination service validates it, like a file),
so FastAPI cannot see what they take. Their routes name it with ``openapi_extra=EVENT_BODY`` and
``openapi_extra=DESTINATION_BODY``:

- an event is one of the published JSON Schemas in ``schemas/`` (``referral.schema.json``,
  ``diagnostic_request.schema.json``), told apart by ``type``;
- a destination is the destination file's model (``destinations.config.DestinationConfig``,
  docs/product.md §5.1), with its durations (``30s``, ``500ms``) as they are written.

Their ``$defs`` become ``components/schemas`` of the document (``install_openapi`` adds them), so
every ``$ref`` resolves there. ``PATCH /api/v1/destinations/{destination_id}`` takes a JSON merge
patch of that model (``DESTINATION_PATCH_BODY``).

Errors are documented as the API answers them, in three shapes (integrators generate clients
from this document, and a client that expects the wrong shape cannot read the refusal):

- ``ErrorDetail``, ``{"detail": "<a sentence>"}``: a route's own refusal (``HTTPException``), the
  body limits' 408, 413 and 503 and the media check's 415;
- ``HTTPValidationError``, ``{"detail": [{loc, msg, type}]}``: a parameter or body that fails
  validation, without ``input`` and ``ctx`` (the API never sends them, see
  ``integrator.http.errors``);
- ``EventRefused``: an event that ``POST /api/v1/events`` refuses (``EVENT_RESPONSES``).

What that route answers when it takes an event is ``EventAccepted``, every key of
``IntakeResult.to_json`` named and typed: the answer an upstream system's generated client reads
its message ids and warnings from, which an untyped 202 left it to guess.

``complete`` adds what the app-wide rules answer to every operation, found from the path and the
method so a route added later has them too: 401 with its ``WWW-Authenticate``, 403 and 503 with
its ``Retry-After`` (``_document_access``), 404 for a path with an id (unknown, or outside the
caller's clusters: the same answer), 408, 413 and 415 for a write (``integrator.http.limits``;
``integrator.http.media`` and ``integrator.http.encoding``, a 415 with ``Accept-Encoding``) and
422 in either of its shapes, as any route refuses unknown query parameters. A route declares
what only it answers (``responses=``: a 409, the events' 422 and 503, ``/readyz``'s 503).
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Callable
from importlib import resources
from typing import Any, Final

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from destinations.config import DestinationConfig, Duration
from integrator.http.limits import (
    BODY_GRACE_S,
    BODY_IDLE_S,
    BODY_LIMIT,
    MIB,
    MIN_BODY_RATE,
)
from integrator.store.records import MessageStatus

REF_ROOT: Final = "#/components/schemas/"
BEARER: Final = "bearer"

DURATION_PATTERN: Final = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"
_DURATION_SCHEMA: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["500ms", "30s", "10m"]},
        {"type": "number"},
    ],
    "description": "a duration like 500ms, 30s, 10m or 24h (a bare number means seconds)",
}
_DURATION_CHECK: Final = typing.get_args(Duration)[1].func
# pydantic writes a few constraints under their Python names; JSON Schema's are these
_CONSTRAINTS: Final = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
}
_SCHEMA_MAPS: Final = ("properties", "$defs", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS: Final = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES: Final = ("items", "additionalProperties", "not", "propertyNames", "contains")


class _AsWritten(GenerateJsonSchema):
    """A model's JSON Schema for what people write: durations as text or seconds."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        if schema["function"]["function"] is _DURATION_CHECK:
            return copy.deepcopy(_DURATION_SCHEMA)
        return super().function_before_schema(schema)

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        fixed: JsonSchemaValue = _json_schema_keywords(super().generate(schema, mode))
        return fixed


def _json_schema_keywords(schema: Any) -> Any:
    """``schema`` with pydantic's stray ``gt``/``ge``/``lt``/``le`` as JSON Schema keywords."""
    if not isinstance(schema, dict):
        return schema
    fixed: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _CONSTRAINTS and isinstance(value, int | float):
            fixed[_CONSTRAINTS[key]] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            fixed[key] = {name: _json_schema_keywords(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            fixed[key] = [_json_schema_keywords(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            fixed[key] = _json_schema_keywords(value)
        else:
            fixed[key] = value
    return fixed


def _rewrite_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        rewritten = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                rewritten[key] = REF_ROOT + names[value.removeprefix("#/$defs/")]
            else:
                rewritten[key] = _rewrite_refs(value, names)
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(item, names) for item in node]
    return node


def _lift(schema: dict[str, Any], components: dict[str, Any]) -> str:
    """Put ``schema`` and its ``$defs`` into ``components``; the name it is found under.

    A definition already there under the same name is shared when it is the same; when it
    differs, all of this schema's definitions are named after it (``DiagnosticRequestPatient``).
    """
    schema = dict(schema)
    title = str(schema["title"])
    definitions: dict[str, Any] = schema.pop("$defs", {})
    schema.pop("$schema", None)
    plain = {name: name for name in definitions}
    lifted = {name: _rewrite_refs(d, plain) for name, d in definitions.items()}
    if any(name in components and components[name] != d for name, d in lifted.items()):
        prefixed = {name: title + name for name in definitions}
        lifted = {prefixed[name]: _rewrite_refs(d, prefixed) for name, d in definitions.items()}
        schema = _rewrite_refs(schema, prefixed)
    else:
        schema = _rewrite_refs(schema, plain)
    if title in components and components[title] != schema:
        raise ValueError(f"two different schemas are called {title}")
    components.update(lifted)
    components[title] = schema
    return title


def _event_schema(filename: str) -> dict[str, Any]:
    text = resources.files("schemas").joinpath(filename).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


COMPONENTS: Final[dict[str, Any]] = {}
"""The schemas the request bodies below refer to; ``install_openapi`` adds them to the document."""

_REFERRAL: Final = _lift(_event_schema("referral.schema.json"), COMPONENTS)
_DIAGNOSTIC_REQUEST: Final = _lift(_event_schema("diagnostic_request.schema.json"), COMPONENTS)
_DESTINATION: Final = _lift(
    DestinationConfig.model_json_schema(schema_generator=_AsWritten), COMPONENTS
)


def model_answer(model: type[BaseModel]) -> str:
    """Put ``model``'s schema, as the route's answer is written, into the document's
    components; the name to give ``answer``."""
    return _lift(model.model_json_schema(mode="serialization"), COMPONENTS)


EVENT_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": (
            "A referral or a diagnostic request (docs/product.md §2), as in the JSON Schema "
            "files published in schemas/. A refused event is kept as a rejected event."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": REF_ROOT + _REFERRAL},
                        {"$ref": REF_ROOT + _DIAGNOSTIC_REQUEST},
                    ],
                    "discriminator": {
                        "propertyName": "type",
                        "mapping": {
                            "referral": REF_ROOT + _REFERRAL,
                            "diagnostic_request": REF_ROOT + _DIAGNOSTIC_REQUEST,
                        },
                    },
                }
            }
        },
    }
}
"""``openapi_extra`` of ``POST /api/v1/events``."""

DESTINATION_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "A destination, as in its file (docs/product.md §5.1), as JSON.",
        "content": {"application/json": {"schema": {"$ref": REF_ROOT + _DESTINATION}}},
    }
}
"""``openapi_extra`` of ``POST /api/v1/destinations`` and ``PUT /api/v1/destinations/{id}``."""

MERGE_PATCH: Final = "application/merge-patch+json"
_PATCH_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "DestinationPatch",
    "description": (
        "A JSON merge patch (RFC 7386) of the destination's definition, whose schema is "
        f"`DestinationConfig` ({REF_ROOT}{_DESTINATION}): a key given replaces its value, an "
        "object given (such as `retry`) is merged key by key, `null` takes a key back to its "
        "default, and a key left out keeps its value. Any keys of the definition may be given, "
        "none is required; the definition that results must be valid, else 422 naming the key "
        "and the rule, and nothing is changed."
    ),
}
DESTINATION_PATCH_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": (
            "Some keys of the destination's definition, as a JSON merge patch (RFC 7386): "
            "sent as `application/merge-patch+json` or `application/json`."
        ),
        "content": {
            MERGE_PATCH: {"schema": _PATCH_SCHEMA},
            "application/json": {"schema": copy.deepcopy(_PATCH_SCHEMA)},
        },
    }
}
"""``openapi_extra`` of ``PATCH /api/v1/destinations/{id}``: it reads the body raw as a JSON
object (``deps.json_object``), so FastAPI does not see it; without this a generated client
sends no body and is refused with 422 "the body must be a JSON object"."""

ERROR_DETAIL: Final = "ErrorDetail"
EVENT_REFUSED: Final = "EventRefused"
VALIDATION_ERROR: Final = "HTTPValidationError"
READINESS: Final = "Readiness"
COMPONENTS[ERROR_DETAIL] = {
    "type": "object",
    "title": ERROR_DETAIL,
    "description": "A refusal or failure, in a sentence that never quotes what was sent.",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "rejected_id": {
            "type": "string",
            "description": "on a refused `POST /api/v1/events` that was kept as rejected input "
            "(a 413 or a 415): the id it is kept under, as `X-Integrator-Rejected-Id` says",
        },
    },
}
COMPONENTS["EventFieldError"] = {
    "type": "object",
    "title": "EventFieldError",
    "required": ["path", "rule", "message"],
    "properties": {
        "path": {"type": "string", "description": "the field, as a path (`patient.bsn`)"},
        "rule": {"type": "string", "description": "the rule it broke"},
        "message": {"type": "string"},
    },
}
COMPONENTS[EVENT_REFUSED] = {
    "type": "object",
    "title": EVENT_REFUSED,
    "description": "An event refused by intake; it is kept as rejected input under `rejected_id`.",
    "required": ["detail", "errors", "rejected_id"],
    "properties": {
        "detail": {"type": "string", "const": "event refused"},
        "errors": {"type": "array", "items": {"$ref": REF_ROOT + "EventFieldError"}},
        "rejected_id": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "the id of the rejected input: quote it to support, who read it at "
            "`GET /api/v1/rejected/{rejected_id}` (a token with `patient_data.read`; an "
            "`intake` token may not)",
        },
    },
}
EVENT_ACCEPTED: Final = "EventAccepted"
_MESSAGE_MADE: Final[dict[str, Any]] = {
    "type": "object",
    "title": "EventMessage",
    "additionalProperties": False,
    "required": ["message_id", "destination", "version", "control_id", "status", "warnings"],
    "properties": {
        "message_id": {
            "type": "string",
            # An intake token reads nothing back (docs/access.md): say who can follow it.
            "description": "support follows it at `GET /api/v1/messages/{message_id}` (a token "
            "with `messages.read`; an `intake` token may not)",
        },
        "destination": {"type": "string", "description": "the destination's id"},
        "version": {"type": "string", "description": "the message version (`ref-v2`, …)"},
        "control_id": {"type": "string", "description": "MSH-10 of the HL7 message"},
        "status": {
            "type": "string",
            "enum": [status.value for status in MessageStatus],
            "description": "where the message is now: `queued` for a new event; a duplicate's "
            "shows how far its message got",
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
COMPONENTS[EVENT_ACCEPTED] = {
    "type": "object",
    "title": EVENT_ACCEPTED,
    "description": (
        "An event taken: it and its messages are stored. `duplicate` is true when an event with "
        "this `event_id` was accepted before: nothing new was stored or sent, and the answer is "
        "that event's (its `zd_number` and messages), whatever this copy says."
    ),
    "additionalProperties": False,
    "required": [
        "event_id",
        "zd_number",
        "duplicate",
        "changed",
        "rejected_id",
        "messages",
        "warnings",
    ],
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "zd_number": {"type": "string"},
        "duplicate": {"type": "boolean"},
        "changed": {
            "type": "boolean",
            "description": "true for a duplicate whose content differs from the event accepted "
            "under its `event_id` (a `cancel`, another `zd_number`): the change was NOT taken "
            "and nothing was sent for it; a changed event needs an `event_id` of its own. "
            "`warnings` names the fields (`changed_duplicate: …`)",
        },
        "rejected_id": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "when `changed`: the id this copy is kept under as rejected input, "
            "to quote to support; else null",
        },
        "messages": {
            "type": "array",
            "items": _MESSAGE_MADE,
            "description": "one per destination that serves the provider; none when no "
            "destination does (a warning says so, and the event is kept unrouted)",
        },
        "warnings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what the sender should know though the event was taken: no "
            "destination serves it, a duplicate (and which fields of the copy differ), an event "
            "that does not fit its ZD number's history, a broker away; never patient data",
        },
    },
}
COMPONENTS[READINESS] = {
    "type": "object",
    "title": READINESS,
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "checks": {
            "type": "object",
            "description": "each check (`store`, `transport`): `ok`, or what is wrong",
            "additionalProperties": {"type": "string"},
        },
    },
}


JOB: Final = "Job"
STARTED_JOB: Final = "StartedJob"
RESEND_PLAN: Final = "ResendPlan"
ROUTE_PLAN: Final = "RoutePlan"
DISCARD_PLAN: Final = "DiscardPlan"
_JOB_PROPERTIES: Final[dict[str, Any]] = {
    "id": {"type": "string", "description": "follow it at `GET /api/v1/jobs/{job_id}`"},
    "kind": {"type": "string", "enum": ["resend", "route", "discard"]},
    "state": {"type": "string", "enum": ["running", "done", "failed", "interrupted"]},
    "done": {"type": "integer", "minimum": 0},
    "total": {"type": "integer", "minimum": 0},
    "error": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    "created_at": {"type": "string", "format": "date-time"},
    "results": {
        "type": "array",
        "items": {"type": "object"},
        "description": "each message's, event's or dead letter's outcome, once the job is no "
        "longer running",
    },
}
_ELSEWHERE: Final[dict[str, Any]] = {
    "type": "object",
    "description": "Only when a resend selected nothing by a ZD number (a job, and its dry "
    "run) or, in a dry run only, by a `bsn` (`zd_number` null; the BSN is never echoed): where "
    "that referral went instead, as the reader may know it. `rejected`: how much rejected input "
    "has the ZD number or the BSN (null: the reader may not list rejected input, or, by BSN, "
    "not search it by BSN); `unrouted`: how many of its events arrived while no destination "
    "served their provider (0 for who does not read every cluster, and by BSN for who may not "
    "read patient data in every cluster); `see`: the routes that list them (by BSN the "
    "searches that take it in their body: `POST /api/v1/rejected/search`, `POST "
    "/api/v1/events/search` with `unrouted: true`). `outside_terms`: how many messages of the "
    "ZD number or the patient, in the reader's clusters, the selection's other terms (a "
    "destination, a status, a period) left out; when there are any, the referral did become "
    "messages (`see` then names `GET /api/v1/messages?zd_number=…`, by BSN `POST "
    "/api/v1/messages/search`).",
    "required": ["zd_number", "rejected", "unrouted", "outside_terms", "see"],
    "properties": {
        "zd_number": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "rejected": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "unrouted": {"type": "integer", "minimum": 0},
        "outside_terms": {"type": "integer", "minimum": 0},
        "see": {"type": "array", "items": {"type": "string"}},
    },
}
COMPONENTS[JOB] = {
    "type": "object",
    "title": JOB,
    "description": "A resend, routing or discard job and its progress, kept in the store.",
    "required": list(_JOB_PROPERTIES),
    "properties": {**_JOB_PROPERTIES, "elsewhere": _ELSEWHERE},
}
COMPONENTS[STARTED_JOB] = {
    "type": "object",
    "title": STARTED_JOB,
    "description": "A job just started, and who it acts as (the name in the audit trail).",
    "required": [*_JOB_PROPERTIES, "actor"],
    "properties": {**_JOB_PROPERTIES, "actor": {"type": "string"}},
}


def _batch_plan(title: str, job: str, going: str, results: str) -> dict[str, Any]:
    """A batch job's dry run: who it would act as, how many would go (``going``) or be
    skipped, and each one's outcome (``results`` describes them)."""
    return {
        "type": "object",
        "title": title,
        "description": f"What a {job} job would do (`dry_run`), decided as the job would.",
        "required": ["dry_run", "actor", "total", going, "skip", "results"],
        "properties": {
            "dry_run": {"type": "boolean", "const": True},
            "actor": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            going: {"type": "integer", "minimum": 0},
            "skip": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": {"type": "object"}, "description": results},
        },
    }


COMPONENTS[RESEND_PLAN] = _batch_plan(
    RESEND_PLAN,
    "resend",
    "resend",
    "per message its `outcome` (`would resend`, `would skip`) and `note`",
)
COMPONENTS[RESEND_PLAN]["properties"]["elsewhere"] = _ELSEWHERE
COMPONENTS[DISCARD_PLAN] = _batch_plan(
    DISCARD_PLAN,
    "discard",
    "discard",
    "per dead letter its `id`, `outcome` (`would discard`, `would skip`, `left out`), "
    "`discarded`, `resend_chain`, `stays_open`, `with_chain_of` and `note`",
)
COMPONENTS[ROUTE_PLAN] = {
    "type": "object",
    "title": ROUTE_PLAN,
    "description": "What routing would do (`dry_run`), decided as the job would.",
    "required": ["dry_run", "via", "actor", "reason", "total", "routed", "skipped"],
    "properties": {
        "dry_run": {"type": "boolean", "const": True},
        "via": {"type": "string"},
        "actor": {"type": "string"},
        "reason": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "routed": {"type": "array", "items": {"type": "object"}},
        "skipped": {"type": "array", "items": {"type": "object"}},
    },
}


def answer(
    description: str, *schemas: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A response of ``description`` whose JSON body is one of the named components
    (``ErrorDetail`` when none is named)."""
    names = schemas or (ERROR_DETAIL,)
    refs = [{"$ref": REF_ROOT + name} for name in names]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER: Final[dict[str, Any]] = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}

ACCEPT_IDENTITY: Final[dict[str, Any]] = {
    "Accept-Encoding": {
        "description": "on a refused `Content-Encoding`: `identity`, the only coding taken",
        "schema": {"type": "string", "enum": ["identity"]},
    }
}
KEPT_UNDER: Final[dict[str, Any]] = {
    "X-Integrator-Rejected-Id": {
        "description": "the id the submission is kept under as rejected input (also "
        "`rejected_id` in the body), sent only when it was kept: without it nothing was",
        "schema": {"type": "string"},
    }
}

EVENT_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    202: answer("Accepted: the event and its messages are stored", EVENT_ACCEPTED),
    413: answer(
        "The body is larger than an event may be (74,099,372 bytes: 50 MiB of attachments in "
        "base64 and 4 MiB for the rest); kept as rejected input, without its body, when the "
        "token may submit events",
        headers=KEPT_UNDER,
    ),
    415: answer(
        "A body not declared as JSON, or declared in a charset other than UTF-8: kept as "
        "rejected input as it arrived, when the token may submit events (its id in "
        "`X-Integrator-Rejected-Id` and `rejected_id`). Or a body sent with a "
        "`Content-Encoding`: refused before anything of it is read or kept",
        headers={**KEPT_UNDER, **ACCEPT_IDENTITY},
    ),
    422: answer(
        "The event is refused (`EventRefused`: the rules it broke, and the id it is kept "
        "under as rejected input), or a query parameter is (`HTTPValidationError`, kept as "
        "rejected input too, its id in `rejected_id`), or an `Idempotency-Key` header was "
        "sent (`ErrorDetail`; nothing kept: the event's `event_id` is its idempotency key, "
        "send the same event_id again to retry safely)",
        EVENT_REFUSED,
        VALIDATION_ERROR,
        ERROR_DETAIL,
        headers=KEPT_UNDER,
    ),
    503: answer(
        "Too many large bodies at once (more than two above 1 MiB, waited 30 s), or the store "
        "is unavailable: try again after `Retry-After`",
        headers=RETRY_AFTER,
    ),
}
"""``responses`` of ``POST /api/v1/events`` (docs/access.md, "The HTTP API")."""

READY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: answer("Ready: the store is `ok`; the transport is named, a broker away too", READINESS),
    503: answer("Not ready: the checks say which failed", READINESS),
}
"""``responses`` of ``/readyz``."""

_OPERATIONS: Final = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_UNDISCLOSED: Final = ("input", "ctx")


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the request bodies' schemas and the API's own validation errors."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in COMPONENTS.items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas are called {name}")
        schemas[name] = copy.deepcopy(schema)
    error = schemas.setdefault(
        "ValidationError",
        {
            "type": "object",
            "title": "ValidationError",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        },
    )
    for key in _UNDISCLOSED:
        error.get("properties", {}).pop(key, None)
    schemas.setdefault(
        "HTTPValidationError",
        {
            "type": "object",
            "title": "HTTPValidationError",
            "properties": {
                "detail": {"type": "array", "items": {"$ref": REF_ROOT + "ValidationError"}}
            },
        },
    )
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in _OPERATIONS:
                _document_refusals(path, method, operation.setdefault("responses", {}))
                _document_headers(path, method, operation["responses"])
                _document_reason(path, method, operation)
    _document_access(document)
    return document


REASON_PARAMETER: Final[dict[str, Any]] = {
    "name": "X-Integrator-Reason",
    "in": "header",
    "required": False,
    "description": (
        "why (UTF-8, at most 1000 characters, no BSN): recorded in the audit trail with any "
        "view of patient data or export this request makes, and required for those where the "
        "engine sets INTEGRATOR_REASON_REQUIRED (else a 422 naming this header)"
    ),
    "schema": {"type": "string", "maxLength": 1000},
}
"""The header every request but an event submission may state its why in
(``deps.state_reason``), read by the app's own rules, so no route declares it."""


def _document_reason(path: str, method: str, operation: dict[str, Any]) -> None:
    if not path.startswith("/api/v1/") or (method, path) == ("post", "/api/v1/events"):
        return
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if not any(
        p.get("in") == "header" and p.get("name") == REASON_PARAMETER["name"] for p in parameters
    ):
        parameters.append(copy.deepcopy(REASON_PARAMETER))


_ETAG: Final[dict[str, Any]] = {
    "ETag": {
        "description": 'the destination\'s revision as an entity tag (`"3"`): send it back as '
        "`If-Match` to change the destination only if nobody changed it since",
        "schema": {"type": "string"},
    }
}
_REPLAYED: Final[dict[str, Any]] = {
    "Idempotency-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key` (nothing was done again)",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_NOTE: Final[dict[str, Any]] = {
    "X-Integrator-Note": {
        "description": "a note about the search itself, such as why a search by status "
        "`sending` finds nothing",
        "schema": {"type": "string"},
    }
}
ANSWER_HEADERS: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("/api/v1/destinations/{destination_id}", "get"): _ETAG,
    ("/api/v1/destinations/{destination_id}", "put"): _ETAG,
    ("/api/v1/destinations/{destination_id}", "patch"): _ETAG,
    ("/api/v1/messages", "get"): _NOTE,
    ("/api/v1/messages.csv", "get"): _NOTE,
    ("/api/v1/messages/search", "post"): _NOTE,
    ("/api/v1/resend", "post"): {**_NOTE, **_REPLAYED},
    ("/api/v1/messages/{message_id}/resend", "post"): _REPLAYED,
    ("/api/v1/events/route", "post"): _REPLAYED,
    ("/api/v1/deadletters/discard", "post"): _REPLAYED,
}
"""Headers a route's successful answers carry besides their body, so that a client generated
from the document knows them."""


def _document_headers(path: str, method: str, responses: dict[str, Any]) -> None:
    headers = ANSWER_HEADERS.get((path, method))
    if headers is None:
        return
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {}).update(copy.deepcopy(headers))


_FASTAPI_422: Final[dict[str, Any]] = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": REF_ROOT + VALIDATION_ERROR}}},
}
"""The 422 FastAPI declares for a route with parameters: it names one of the two shapes."""
_REFUSED: Final = answer(
    "Refused: a parameter, header or body that fails validation (`HTTPValidationError`, each "
    "`{loc, msg, type}`), or a rule of the route (`ErrorDetail`, a sentence naming the "
    "parameter and the rule); neither quotes what was sent",
    VALIDATION_ERROR,
    ERROR_DETAIL,
)
_NOT_FOUND: Final = answer(
    "No such id, or one outside the caller's clusters (answered alike, so an id in another "
    "cluster is not disclosed)"
)
_TOO_LARGE: Final = answer(
    "The body is larger than the route accepts (1 MiB; `POST /api/v1/events` more)"
)
_NOT_JSON: Final = answer(
    "A body sent with a `Content-Encoding` (gzip, br, …; `identity` is none): this API takes "
    "bodies without Content-Encoding, so send the JSON as is; refused before anything of it "
    "is read or kept. Or a body not declared as JSON: send `Content-Type: application/json` "
    "(or a `+json` type); or declared in a charset other than UTF-8 (JSON is UTF-8, RFC 8259): "
    "no charset, or `charset=utf-8`",
    headers=ACCEPT_IDENTITY,
)
_TOO_SLOW: Final = answer(
    f"The body came too slowly: one above {BODY_LIMIT // MIB} MiB, or of unknown length "
    f"(chunked), that pauses over {BODY_IDLE_S:g} s, or averages under "
    f"{MIN_BODY_RATE // 1024} KiB a second after its first {BODY_GRACE_S:g} s; the request is "
    "ended (`integrator.http.limits`)"
)
_WRITES: Final = ("post", "put", "patch")
"""The methods whose body every route reads (``integrator.http.nul`` reads each), so the body
limits' 413 and 408 and the media check's 415 may answer them."""


def _document_refusals(path: str, method: str, responses: dict[str, Any]) -> None:
    """What the app-wide rules answer ``method path``, unless its route declares its own."""
    if "{" in path:
        responses.setdefault("404", copy.deepcopy(_NOT_FOUND))
    if method in _WRITES:
        responses.setdefault("408", copy.deepcopy(_TOO_SLOW))
        responses.setdefault("413", copy.deepcopy(_TOO_LARGE))
        responses.setdefault("415", copy.deepcopy(_NOT_JSON))
    if responses.get("422", _FASTAPI_422) == _FASTAPI_422:
        responses["422"] = copy.deepcopy(_REFUSED)


_CHALLENGE: Final[dict[str, Any]] = {
    "WWW-Authenticate": {
        "description": "`Bearer`: the scheme to authenticate with (RFC 6750), on every 401",
        "schema": {"type": "string", "enum": ["Bearer"]},
    }
}


def _document_access(document: dict[str, Any]) -> None:
    """Each operation's permission (``ROUTE_PERMISSIONS``) and the bearer token it needs, so
    Swagger UI offers "Authorize" and every operation says what it takes."""
    from integrator.access.permissions import Permission
    from integrator.access.routes import EVERY_CLUSTER, ROUTE_PERMISSIONS

    document["components"].setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`integrator tokens create` on the server); see "
        "docs/access.md. Every answer to a request whose token worked says when that token "
        "expires, in `X-Integrator-Token-Expires` (ISO 8601, UTC): make its successor before "
        "then; an expired one is answered 401 like any token that does not work",
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _OPERATIONS:
                continue
            permission = ROUTE_PERMISSIONS.get((method.upper(), path))
            if not isinstance(permission, Permission):  # the probes; the docs are not in it
                continue
            everywhere = (method.upper(), path) in EVERY_CLUSTER
            needs = f"`{permission.value}`" + (" for all clusters" if everywhere else "")
            text = operation.get("description", "")
            operation["description"] = (text + "\n\n" if text else "") + f"Needs {needs}."
            operation["security"] = [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "401", answer("No valid API token (or console session)", headers=_CHALLENGE)
            )
            lacks = f"The token lacks {permission.value}"
            if method in _WRITES:
                lacks += ", or may not make this change in the cluster it concerns"
            responses.setdefault("403", answer(lacks))
            # The token is read in the store: while it does not answer, every route that
            # needs one answers 503 (docs/product.md §7), not only the intake's.
            responses.setdefault(
                "503",
                answer(
                    "The store is unavailable (the token cannot be checked, or the route's "
                    "work not done): try again after `Retry-After`",
                    headers=RETRY_AFTER,
                ),
            )


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` builds FastAPI's document once and completes it."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
