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
every ``$ref`` resolves there. Also: a validation error is documented without ``input`` and
``ctx`` (the API never sends them, see ``integrator.http.errors``), and every operation documents
its 422, as any route refuses unknown query parameters.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Callable
from importlib import resources
from typing import Any, Final

from fastapi import FastAPI
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from destinations.config import DestinationConfig, Duration

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
    refused = {
        "description": "Validation Error",
        "content": {"application/json": {"schema": {"$ref": REF_ROOT + "HTTPValidationError"}}},
    }
    for path in document.get("paths", {}).values():
        for method, operation in path.items():
            if method in _OPERATIONS:
                operation.setdefault("responses", {}).setdefault("422", copy.deepcopy(refused))
    _document_access(document)
    return document


def _document_access(document: dict[str, Any]) -> None:
    """Each operation's permission (``ROUTE_PERMISSIONS``) and the bearer token it needs, so
    Swagger UI offers "Authorize" and every operation says what it takes."""
    from integrator.access.permissions import Permission
    from integrator.access.routes import EVERY_CLUSTER, ROUTE_PERMISSIONS

    document["components"].setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`integrator tokens create` on the server); see "
        "docs/access.md",
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
            responses.setdefault("401", {"description": "No valid API token"})
            responses.setdefault("403", {"description": f"The token lacks {permission.value}"})


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` builds FastAPI's document once and completes it."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
