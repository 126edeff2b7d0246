"""The OpenAPI document describes the bodies of events and destinations, and every $ref resolves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from destinations.config import DestinationConfig, parse_duration
from integrator.http.openapi import DURATION_PATTERN
from schemas.generate import SCHEMA_DIR

JSON = "application/json"


@pytest.fixture
async def document(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = document["paths"][path][method]["requestBody"]
    assert body["required"] is True
    schema: dict[str, Any] = body["content"][JSON]["schema"]
    return schema


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def as_component(schema: Any) -> Any:
    """A published schema file's text with its $defs refs as the document's components."""
    return json.loads(json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/'))


@pytest.mark.parametrize(
    ("filename", "title"),
    [("referral.schema.json", "Referral"), ("diagnostic_request.schema.json", "DiagnosticRequest")],
)
async def test_an_event_body_is_one_of_the_published_schemas(
    document: dict[str, Any], filename: str, title: str
) -> None:
    schema = body_schema(document, "/api/v1/events", "post")
    ref = f"#/components/schemas/{title}"
    assert {"$ref": ref} in schema["oneOf"]
    published = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    event_type = published["properties"]["type"]["const"]
    assert schema["discriminator"]["propertyName"] == "type"
    assert schema["discriminator"]["mapping"][event_type] == ref
    component = resolve(document, ref)
    for key in ("properties", "required", "additionalProperties", "type"):
        assert component[key] == as_component(published[key])
    for name, definition in published["$defs"].items():
        assert resolve(document, f"#/components/schemas/{name}") == as_component(definition)


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/destinations", "post"), ("/api/v1/destinations/{destination_id}", "put")],
)
async def test_a_destination_body_is_the_destination_file(
    document: dict[str, Any], path: str, method: str
) -> None:
    schema = body_schema(document, path, method)
    component = resolve(document, schema["$ref"])
    assert component["title"] == "DestinationConfig"
    assert component["additionalProperties"] is False
    assert set(component["properties"]) == set(DestinationConfig.model_fields)
    assert sorted(component["required"]) == ["host", "id", "messages", "name", "port"]
    # durations as they are written in the file, not only as seconds
    timeout = component["properties"]["ack_timeout"]
    assert [s["type"] for s in timeout["anyOf"]] == ["string", "number"]
    assert timeout["exclusiveMinimum"] == 0 and "gt" not in timeout
    retry = resolve(document, component["properties"]["retry"]["$ref"])
    assert retry["properties"]["max_age"]["anyOf"] == timeout["anyOf"]


@pytest.mark.parametrize("text", ["500ms", "30s", "10m", "24h", "1.5s", " 2 s ", "45", "x", "3d"])
def test_the_documented_duration_pattern_is_the_rule(text: str) -> None:
    try:
        parse_duration(text)
        valid = True
    except ValueError:
        valid = False
    assert (re.search(DURATION_PATTERN, text) is not None) == valid


async def test_every_ref_in_the_document_resolves(document: dict[str, Any]) -> None:
    found = set(refs(document))
    assert "#/components/schemas/DestinationConfig" in found
    assert "#/components/schemas/Patient" in found
    for ref in found:
        assert isinstance(resolve(document, ref), dict), ref


async def test_every_operation_documents_its_422_without_input(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ValidationError"]
    assert set(error["properties"]) == {"loc", "msg", "type"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            refused = operation["responses"]["422"]["content"][JSON]["schema"]
            assert refused == {"$ref": "#/components/schemas/HTTPValidationError"}, (path, method)


def test_put_and_patch_of_a_destination_document_the_expected_revision_and_its_409(
    document: dict[str, Any],
) -> None:
    for method in ("put", "patch"):
        operation = document["paths"]["/api/v1/destinations/{destination_id}"][method]
        [expected] = [p for p in operation["parameters"] if p["name"] == "expected_revision"]
        assert expected["in"] == "query" and not expected["required"]
        assert "409" in expected["description"]
        assert "nothing was changed" in operation["responses"]["409"]["description"]


async def test_a_change_of_someones_access_documents_its_reason_as_required(
    document: dict[str, Any],
) -> None:
    """The access service refuses these without a reason; the document said it was optional."""
    schemas = document["components"]["schemas"]
    for name in ("GrantsBody", "RoleDeactivateBody", "DeactivateBody"):
        described = schemas[name]["properties"]["reason"]["description"]
        assert "required" in described and "refused" in described, name
    # Resetting a second factor keeps an optional reason.
    assert "required" not in schemas["ReasonBody"]["properties"]["reason"]["description"]
