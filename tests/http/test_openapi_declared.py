"""The OpenAPI document declares what the routes really answer (docs/product.md: it
"declares every status a route answers"): the 409s and 502s of try-now, discard, invitations
and tokens, ``/metrics`` as text, the CSV's ``X-Total-Count``, and the bodies whose reason is
required. The answers themselves are tested with their routes; here, that a client generated
from the document expects them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from integrator.engine import Engine
from integrator.http.openapi import ANSWER_HEADERS
from tests.http.support import api_client
from tests.integrator.support import settings_for


async def _document(tmp_path: Path) -> dict[str, Any]:
    engine = Engine(settings_for(tmp_path))
    await engine.start()
    try:
        async with api_client(engine) as api:
            document: dict[str, Any] = (await api.get("/openapi.json")).json()
            metrics = await api.get("/metrics")
    finally:
        await engine.stop()
    assert metrics.headers["content-type"].startswith("text/plain")
    return document


async def test_the_document_declares_what_the_routes_answer(tmp_path: Path) -> None:
    document = await _document(tmp_path)
    paths = document["paths"]

    def statuses(path: str, method: str = "post") -> set[str]:
        return set(paths[path][method]["responses"])

    assert "409" in statuses("/api/v1/messages/{message_id}/try-now")
    assert "409" in statuses("/api/v1/destinations/{destination_id}/try-now")
    assert "409" in statuses("/api/v1/deadletters/{message_id}/discard")
    assert {"409", "502"} <= statuses("/api/v1/people")
    assert "502" in statuses("/api/v1/people/{person_id}/invitation")
    assert "502" in statuses("/api/v1/people/{person_id}/second-factor/reset")
    assert "409" in statuses("/api/v1/tokens")
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    csv = paths["/api/v1/messages.csv"]["get"]["responses"]["200"]
    assert "X-Total-Count" in csv["headers"]
    for path in (
        "/api/v1/people/{person_id}/deactivate",
        "/api/v1/people/{person_id}/roles/{role}/deactivate",
    ):
        assert paths[path]["post"]["requestBody"]["required"] is True
    # The headers the answers carry besides their bodies, on every success they come with.
    one = paths["/api/v1/destinations/{destination_id}"]
    for method in ("get", "put", "patch"):
        assert "ETag" in one[method]["responses"]["200"]["headers"], method
    for path in ("/api/v1/messages", "/api/v1/messages.csv"):
        assert "X-Integrator-Note" in paths[path]["get"]["responses"]["200"]["headers"], path
    for path, status in (
        ("/api/v1/resend", "202"),
        ("/api/v1/resend", "200"),
        ("/api/v1/messages/{message_id}/resend", "201"),
        ("/api/v1/events/route", "202"),
        ("/api/v1/deadletters/discard", "202"),
    ):
        headers = paths[path]["post"]["responses"][status]["headers"]
        assert "Idempotency-Replayed" in headers, (path, status)
    for path, method in ANSWER_HEADERS:  # a route renamed or gone leaves no declaration behind
        assert method in paths.get(path, {}), (path, method)
    schemas = document["components"]["schemas"]
    for body in ("DeactivateBody", "RoleDeactivateBody", "GrantsBody"):
        assert "reason" in schemas[body]["required"], body
