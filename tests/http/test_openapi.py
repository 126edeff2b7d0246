"""The OpenAPI document describes the bodies of events and destinations, and every $ref resolves."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest

from destinations.config import DestinationConfig, parse_duration
from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.openapi import DURATION_PATTERN
from schemas.generate import SCHEMA_DIR
from tests.http.conftest import running_engine
from tests.http.support import api_client, token_for

JSON = "application/json"
COMPONENTS = "#/components/schemas/"
EVENTS = "/api/v1/events"
DESTINATION = "/api/v1/destinations/{destination_id}"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document as an engine serves it, fetched once for the module: the engine and
    FastAPI's walk over every route's models cost about a second, the same for every test."""

    async def fetch() -> dict[str, Any]:
        async with (
            MllpReceiver() as receiver,
            running_engine(tmp_path_factory.mktemp("openapi"), receiver) as engine,
            api_client(engine) as api,
        ):
            response = await api.get("/openapi.json")
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    return asyncio.run(fetch())


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


async def test_every_operation_documents_its_422_in_both_shapes_without_input(
    document: dict[str, Any],
) -> None:
    """A route refuses a parameter as FastAPI does (a list) and a rule of its own as a sentence;
    ``POST /api/v1/events`` refuses an event in its own shape instead of the sentence."""
    error = document["components"]["schemas"]["ValidationError"]
    assert set(error["properties"]) == {"loc", "msg", "type"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            refused = operation["responses"]["422"]["content"][JSON]["schema"]
            second = "EventRefused" if (method, path) == ("post", EVENTS) else "ErrorDetail"
            assert {"$ref": f"{COMPONENTS}HTTPValidationError"} in refused["anyOf"], (path, method)
            assert {"$ref": f"{COMPONENTS}{second}"} in refused["anyOf"], (path, method)


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


async def test_every_route_but_intake_documents_the_reason_header_once(
    document: dict[str, Any],
) -> None:
    """The why of a view or an export (docs/access.md, "Why") is read by the app's own rules
    on every route, so no route declared it and a generated client could not send it."""
    for path, method, operation in operations(document):
        if not path.startswith("/api/v1/"):
            continue
        named = [p for p in operation.get("parameters", []) if p["name"] == "X-Integrator-Reason"]
        if (method, path) == ("post", "/api/v1/events"):
            assert named == [], "intake reads no reason"
            continue
        assert len(named) == 1, (method, path)
        assert named[0]["in"] == "header", (method, path)
    reason = next(
        p
        for p in document["paths"]["/api/v1/messages/{message_id}"]["get"]["parameters"]
        if p["name"] == "X-Integrator-Reason"
    )
    assert "INTEGRATOR_REASON_REQUIRED" in reason["description"]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def declared_schema(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    """The JSON body schema ``method path`` declares for ``status``, resolvable on its own."""
    schema = document["paths"][path][method]["responses"][str(status)]["content"][JSON]["schema"]
    return {**schema, "components": document["components"]}


def assert_conforms(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    schema = declared_schema(document, path, method, response.status_code)
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(response.json())]
    assert errors == [], (method, path, response.status_code, response.json())


async def test_every_route_with_an_id_in_its_path_documents_its_404(
    document: dict[str, Any],
) -> None:
    """An unknown id, and one outside the caller's clusters, answer 404 on every such route."""
    with_ids = [(path, method, op) for path, method, op in operations(document) if "{" in path]
    assert len(with_ids) > 20
    for path, method, operation in with_ids:
        declared = operation["responses"]["404"]["content"][JSON]["schema"]
        assert declared == {"$ref": f"{COMPONENTS}ErrorDetail"}, (method, path)


async def test_every_route_that_needs_a_token_documents_the_store_away(
    document: dict[str, Any],
) -> None:
    """The token is read in the store, so each such route answers 503 with ``Retry-After``
    while the store is away; only the intake's said so, and a client of the others had no
    word that it is the one to retry."""
    with_token = [(p, m, op) for p, m, op in operations(document) if "security" in op]
    assert len(with_token) > 40
    for path, method, operation in with_token:
        away = operation["responses"].get("503")
        assert away is not None and "Retry-After" in away.get("headers", {}), (method, path)


async def test_writes_document_the_body_limit_and_the_media_check(document: dict[str, Any]) -> None:
    """And the 408 of a body that comes too slowly (``integrator.http.limits``): every write's
    body is read, so any of them may answer it, and none said so."""
    for path, method, operation in operations(document):
        if method in ("post", "put", "patch"):
            assert {"408", "413", "415"} <= set(operation["responses"]), (method, path)
            slow = operation["responses"]["408"]
            assert slow["content"][JSON]["schema"] == {"$ref": f"{COMPONENTS}ErrorDetail"}
            assert "too slowly" in slow["description"], (method, path)
            assert "401" in operation["responses"] or path == "/healthz", (method, path)


async def test_a_destination_patch_documents_its_merge_patch_body(document: dict[str, Any]) -> None:
    body = document["paths"][DESTINATION]["patch"]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"application/merge-patch+json", JSON}
    schema = body["content"]["application/merge-patch+json"]["schema"]
    assert schema["type"] == "object" and "required" not in schema
    assert "RFC 7386" in schema["description"] and "null" in schema["description"]
    assert f"{COMPONENTS}DestinationConfig" in schema["description"]
    assert "DestinationConfig" in document["components"]["schemas"]


async def test_the_event_submission_documents_what_it_answers(document: dict[str, Any]) -> None:
    responses = document["paths"][EVENTS]["post"]["responses"]
    assert {"202", "401", "403", "413", "415", "422", "503"} <= set(responses)
    refused = resolve(document, f"{COMPONENTS}EventRefused")
    assert set(refused["required"]) == {"detail", "errors", "rejected_id"}
    assert "Retry-After" in responses["503"]["headers"]


async def test_an_accepted_event_answers_exactly_its_documented_model(
    api: httpx.AsyncClient, document: dict[str, Any], referral_data: dict[str, Any]
) -> None:
    """The 202 was declared without a schema: a generated client got an untyped answer to the
    one call an upstream system makes. Exact (a key not in the model fails), for a new event,
    its duplicate and an event no destination serves."""
    declared = document["paths"][EVENTS]["post"]["responses"]["202"]["content"][JSON]["schema"]
    assert declared == {"$ref": f"{COMPONENTS}EventAccepted"}
    accepted = resolve(document, f"{COMPONENTS}EventAccepted")
    assert accepted["additionalProperties"] is False
    message = accepted["properties"]["messages"]["items"]
    assert (
        message["additionalProperties"] is False
        and "queued" in message["properties"]["status"]["enum"]
    )

    new = await api.post(EVENTS, json=referral_data)
    assert new.status_code == 202, new.text
    assert new.json()["messages"], new.text
    again = await api.post(EVENTS, json=referral_data)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    unrouted = {
        **referral_data,
        "event_id": "0b6a4d2e-6f1c-4c35-9d8e-2a7b5c000042",
        "provider": {"id": "nobody-serves-this", "name": "Elders"},
    }
    nowhere = await api.post(EVENTS, json=unrouted)
    assert nowhere.status_code == 202 and nowhere.json()["messages"] == [], nowhere.text
    for answered in (new, again, nowhere):
        assert_conforms(document, EVENTS, "post", answered)


def test_the_event_submission_says_how_to_retry_and_that_it_refuses_an_idempotency_key(
    document: dict[str, Any],
) -> None:
    """The resends and routings document an ``Idempotency-Key``; the submission documented
    nothing, so a client sending that header with a fresh ``event_id`` per attempt had each
    retry sent to the hospital again. It refuses the header now, and says so."""
    operation = document["paths"][EVENTS]["post"]
    described = " ".join(operation["description"].split())
    assert "`event_id` is its idempotency key" in described
    assert "`Idempotency-Key` header (the resends and routings take one) is refused" in described
    assert "Idempotency-Key" in operation["responses"]["422"]["description"]
    assert "duplicate: true" in described and "rejected_id" in described
    assert "Needs `events.submit`" in described  # the access note still follows it
    assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}


async def test_what_an_intake_token_is_told_to_follow_says_it_cannot_read_it(
    engine: Engine, document: dict[str, Any]
) -> None:
    """The ids intake answers with pointed at routes an ``intake`` token is refused (403): the
    document now says who reads them, so the platform's developer quotes them to support."""
    async with api_client(engine, await token_for(engine, Grant(Role.INTAKE))) as upstream:
        refused = await upstream.post(EVENTS, json={"type": "referral"})
        assert refused.status_code == 422
        rejected_id = refused.json()["rejected_id"]
        assert (await upstream.get(f"/api/v1/rejected/{rejected_id}")).status_code == 403
    schemas = document["components"]["schemas"]
    told = [
        schemas["EventRefused"]["properties"]["rejected_id"]["description"],
        schemas["EventAccepted"]["properties"]["messages"]["items"]["properties"]["message_id"][
            "description"
        ],
    ]
    for description in told:
        assert "an `intake` token may not" in description, description


async def test_deleting_a_destination_documents_its_409_and_readyz_its_503(
    document: dict[str, Any],
) -> None:
    removal = document["paths"][DESTINATION]["delete"]["responses"]["409"]
    assert "force=true" in removal["description"]
    ready = document["paths"]["/readyz"]["get"]["responses"]
    assert ready["503"]["content"][JSON]["schema"] == {"$ref": f"{COMPONENTS}Readiness"}


async def test_the_paging_parameters_say_how_to_page_safely(document: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = document["paths"][path]["get"]["parameters"]
        [named] = [p for p in found if p["name"] == name]
        return named

    for path in ("/api/v1/messages", "/api/v1/events", "/api/v1/audit"):
        offset = parameter(path, "offset")["description"]
        assert "newest first" in offset and "prefer `after`" in offset, path
        after = parameter(path, "after")["description"]
        assert "last item of the page before" in after and "Not with `offset`" in after, path
        link = document["paths"][path]["get"]["responses"]["200"]["headers"]["Link"]
        assert 'rel="next"' in link["description"], path
    for path in ("/api/v1/deadletters", "/api/v1/rejected"):
        assert "offset" not in {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        limit = parameter(path, "limit")
        assert limit["schema"]["maximum"] == 1000
        assert "no offset" in limit["description"] and "since" in limit["description"], path


async def test_real_refusals_match_what_the_document_declares(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """The strongest check: answers validated against the declared schemas."""
    for path, url in [
        (DESTINATION, "/api/v1/destinations/nowhere"),
        ("/api/v1/events/{event_id}", "/api/v1/events/no-such-event"),
        ("/api/v1/messages/{message_id}", "/api/v1/messages/no-such-message"),
        ("/api/v1/jobs/{job_id}", "/api/v1/jobs/no-such-job"),
    ]:
        unknown = await api.get(url)
        assert unknown.status_code == 404
        assert_conforms(document, path, "get", unknown)

    refused = await api.post(EVENTS, json={"type": "referral"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "event refused"
    assert_conforms(document, EVENTS, "post", refused)

    not_json = await api.post(EVENTS, content=b"{}", headers={"content-type": "text/plain"})
    assert not_json.status_code == 415
    assert_conforms(document, EVENTS, "post", not_json)

    unknown_query = await api.get("/api/v1/messages", params={"colour": "red"})
    assert unknown_query.status_code == 422
    assert_conforms(document, "/api/v1/messages", "get", unknown_query)

    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert_conforms(document, "/readyz", "get", ready)


async def test_a_destination_patch_sent_as_the_document_says_is_applied(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    media = "application/merge-patch+json"
    assert media in document["paths"][DESTINATION]["patch"]["requestBody"]["content"]
    patched = await api.patch(
        "/api/v1/destinations/noord", content=b'{"port": 2599}', headers={"content-type": media}
    )
    assert patched.status_code == 200, patched.json()
    shown = (await api.get("/api/v1/destinations/noord")).json()
    assert shown["definition"]["port"] == 2599


async def test_resend_and_routing_answer_as_the_document_declares(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """A dry run answers 200 and a job 202, each as declared; the job reads back as declared;
    a routing without its reason is the validation 422 the body's schema says it is."""
    resend, route, job = "/api/v1/resend", "/api/v1/events/route", "/api/v1/jobs/{job_id}"
    batch = {"reason": "receiver lost them", "filter": {"status": "dead"}}
    selection = {"reason": "new destination", "provider": "ziekenhuis-noord"}
    for path, body in ((resend, batch), (route, selection)):
        planned = await api.post(path, json={**body, "dry_run": True})
        assert planned.status_code == 200, planned.text
        assert_conforms(document, path, "post", planned)
        started = await api.post(path, json=body)
        assert started.status_code == 202, started.text
        assert_conforms(document, path, "post", started)
        followed = await api.get(f"/api/v1/jobs/{started.json()['id']}")
        assert followed.status_code == 200
        assert_conforms(document, job, "get", followed)

    assert "reason" in resolve(document, f"{COMPONENTS}RouteBody")["required"]
    assert "default" not in resolve(document, f"{COMPONENTS}RouteBody")["properties"]["reason"]
    without_reason = await api.post(route, json={"provider": "ziekenhuis-noord"})
    assert without_reason.status_code == 422
    assert without_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    assert_conforms(document, route, "post", without_reason)


async def test_the_token_routes_answer_exactly_their_documented_models(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """Typed for a generated client, and exact: a key not in the model fails the check."""
    tokens, token = "/api/v1/tokens", "/api/v1/tokens/{token_id}"
    grants = [{"role": "metrics", "cluster": None}]
    made = await api.post(tokens, json={"name": "typed", "grants": grants})
    assert made.status_code == 201, made.text
    assert_conforms(document, tokens, "post", made)
    listed = await api.get(tokens)
    assert listed.status_code == 200 and len(listed.json()) >= 2  # the caller's, and this one
    assert_conforms(document, tokens, "get", listed)
    revoked = await api.delete(
        f"{tokens}/{made.json()['id']}", headers={"x-integrator-reason": "r"}
    )
    assert revoked.status_code == 200, revoked.text
    assert_conforms(document, token, "delete", revoked)
    for name in ("TokenListed", "TokenMade", "TokenRevoked"):
        assert resolve(document, f"{COMPONENTS}{name}")["additionalProperties"] is False


async def test_the_audit_routes_answer_exactly_their_documented_model(
    engine: Engine, api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """Each entry an ``AuditEntry`` with its ``origin``, of each kind: a key not in the model,
    or an origin of another shape, fails the check."""
    for actor in ("local:tester", "token:bert", "engine:retention", "person:nobody@example.nl"):
        await engine.store.add_audit(actor, "destination.pause", "noord")
    searched = await api.post("/api/v1/audit/search", json={"bsn": "999999990"})
    assert searched.status_code == 200, searched.text
    assert_conforms(document, "/api/v1/audit/search", "post", searched)
    listed = await api.get("/api/v1/audit", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    kinds = {entry["origin"]["kind"] for entry in listed.json()}
    assert kinds == {"address", "command_line", "token", "engine", "unknown"}, kinds
    assert_conforms(document, "/api/v1/audit", "get", listed)
    for name in ("AuditEntry", "AuditOriginAnswer"):
        assert resolve(document, f"{COMPONENTS}{name}")["additionalProperties"] is False


def test_the_resends_and_the_routing_document_their_idempotency_key_and_its_409(
    document: dict[str, Any],
) -> None:
    for path in (
        "/api/v1/messages/{message_id}/resend",
        "/api/v1/resend",
        "/api/v1/events/route",
    ):
        operation = document["paths"][path]["post"]
        [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and not key["required"]
        assert "24 hours" in key["description"] and "422" in key["description"]
        assert "in progress" in operation["responses"]["409"]["description"]


def test_a_destination_documents_if_match_on_its_changes(document: dict[str, Any]) -> None:
    for method in ("put", "patch"):
        operation = document["paths"]["/api/v1/destinations/{destination_id}"][method]
        [tag] = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert tag["in"] == "header" and "409" in tag["description"]
        assert "If-Match" in operation["responses"]["409"]["description"]


LISTINGS = {
    ("/api/v1/messages", "get"): "MessageListed",
    ("/api/v1/messages/search", "post"): "MessageListed",
    ("/api/v1/events", "get"): "EventListed",
    ("/api/v1/events/search", "post"): "EventListed",
    ("/api/v1/rejected", "get"): "RejectedListed",
    ("/api/v1/rejected/search", "post"): "RejectedListed",
    ("/api/v1/audit", "get"): "AuditEntry",
    ("/api/v1/audit/search", "post"): "AuditEntry",
    ("/api/v1/tokens", "get"): "TokenListed",
}
"""The listings whose items are typed, and their model."""
UNTYPED_LISTINGS = {
    ("/api/v1/destinations", "get"),
    ("/api/v1/destinations/{destination_id}/history", "get"),
    ("/api/v1/deadletters", "get"),
    ("/api/v1/versions", "get"),
    ("/api/v1/people", "get"),
}
"""Listings whose items are still untyped objects: not typed yet. A listing added later is in
neither, and fails the test until it is typed."""


def answered_array(operation: dict[str, Any]) -> dict[str, Any] | None:
    """The 200's JSON schema when it may be an array (alone or among ``anyOf``), else None."""
    ok = operation["responses"].get("200", {}).get("content", {}).get(JSON)
    if ok is None:
        return None
    schema: dict[str, Any] = ok["schema"]
    shapes = schema.get("anyOf", [schema])
    return schema if any(shape.get("type") == "array" for shape in shapes) else None


async def test_every_listing_names_its_item_fields(document: dict[str, Any]) -> None:
    """Each listing's items were ``{"type": "object", "additionalProperties": true}``: a
    generated client got no field of a message, an event or rejected input. Now each names its
    model, every field typed and required, and no other key."""
    arrays = {(p, m) for p, m, op in operations(document) if answered_array(op) is not None}
    assert arrays == set(LISTINGS) | UNTYPED_LISTINGS
    for (path, method), name in LISTINGS.items():
        schema = answered_array(document["paths"][path][method])
        assert schema == {"type": "array", "items": {"$ref": f"{COMPONENTS}{name}"}}, path
        model = resolve(document, f"{COMPONENTS}{name}")
        assert model["additionalProperties"] is False, name
        assert set(model["required"]) == set(model["properties"]), name
        assert len(model["properties"]) >= 5, name
        for field, declared in model["properties"].items():
            assert "type" in declared or "anyOf" in declared or "$ref" in declared, (name, field)
    messages = resolve(document, f"{COMPONENTS}MessageListed")["properties"]
    assert {"id", "zd_number", "destination", "status", "control_id"} <= set(messages)
    assert messages["attempts"]["type"] == "integer"
    events = resolve(document, f"{COMPONENTS}EventListed")["properties"]
    assert events["unrouted"]["type"] == "boolean"
    rejected = resolve(document, f"{COMPONENTS}RejectedListed")["properties"]
    assert rejected["problems"]["items"] == {"type": "string"}


async def test_the_listings_answer_exactly_their_documented_items(
    api: httpx.AsyncClient, document: dict[str, Any], referral_data: dict[str, Any]
) -> None:
    """A real answer of each newly typed listing, validated against the document: a key the
    route answers and the model lacks, or one of another type, fails it."""
    assert (await api.post(EVENTS, json=referral_data)).status_code == 202
    unrouted = {
        **referral_data,
        "event_id": "0b6a4d2e-6f1c-4c35-9d8e-2a7b5c000043",
        "provider": {"id": "nobody-serves-this", "name": "Elders"},
    }
    assert (await api.post(EVENTS, json=unrouted)).status_code == 202
    refused = await api.post(EVENTS, json={**referral_data, "zd_number": "nope"})
    assert refused.status_code == 422, refused.text
    bsn = referral_data["patient"]["bsn"]
    asked = {
        ("/api/v1/messages", "get"): await api.get("/api/v1/messages"),
        ("/api/v1/messages/search", "post"): await api.post(
            "/api/v1/messages/search", json={"bsn": bsn}
        ),
        ("/api/v1/events", "get"): await api.get("/api/v1/events"),
        ("/api/v1/events/search", "post"): await api.post(
            "/api/v1/events/search", json={"bsn": bsn}
        ),
        ("/api/v1/rejected", "get"): await api.get("/api/v1/rejected"),
        ("/api/v1/rejected/search", "post"): await api.post("/api/v1/rejected/search", json={}),
    }
    for (path, method), answer in asked.items():
        assert answer.status_code == 200, (path, answer.text)
        assert answer.json(), path  # something to check
        assert_conforms(document, path, method, answer)
    events = asked[("/api/v1/events", "get")].json()
    assert {event["unrouted"] for event in events} == {True, False}
