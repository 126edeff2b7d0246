"""One answer per kind of mistake, on every route: a body that is no JSON or nests too deep, a
body field left out, an id in the path that cannot be one (docs: README, "HTTP API")."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from integrator.access import Permission
from integrator.access.routes import ROUTE_PERMISSIONS
from integrator.http.app import EngineApp
from integrator.http.json_body import MAX_DEPTH, NOT_JSON, TOO_DEEP
from tests.http.conftest import BSN

JSON = {"content-type": "application/json"}
NOT_AN_ID = "abc"


async def operations(api: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await api.get("/openapi.json")).json()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def filled(path: str, value: str) -> str:
    """``path`` with every parameter ``value``, a destination's id the fixture's (``noord``)."""
    path = path.replace("{destination_id}", "noord").replace("{revision}", "1")
    path = path.replace("{role}", "messages.read")
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + value + path[end + 1 :]
    return path


def nested(depth: int) -> bytes:
    return ('{"a":' * depth + f'"{BSN}"' + "}" * depth).encode()


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (nested(1000), TOO_DEEP),  # deeper than Python's parser goes
        (nested(MAX_DEPTH + 1), TOO_DEEP),
        (f'{{"bsn": "{BSN}", '.encode(), NOT_JSON),
        (b'{"reason": "\xff"}', NOT_JSON),
    ],
)
async def test_a_body_that_is_no_json_or_too_deep_is_a_422_naming_the_rule_on_every_route(
    api: httpx.AsyncClient, body: bytes, rule: str
) -> None:
    checked = []
    for method, path, operation in await operations(api):
        if "requestBody" not in operation or path == "/api/v1/events":  # intake's own answer
            continue
        url = filled(path, str(uuid.uuid4()))
        response = await api.request(method, url, content=body, headers=JSON)
        assert response.status_code == 422, (method, url, response.text)
        assert response.json() == {
            "detail": [{"loc": ["body"], "msg": rule, "type": "json_invalid"}]
        }, (method, url)
        assert "422" in operation["responses"]
        checked.append(path)
    assert "/api/v1/destinations/{destination_id}" in checked
    assert "/api/v1/messages/search" in checked and "/api/v1/tokens" in checked


async def test_a_body_as_deep_as_allowed_is_read(api: httpx.AsyncClient) -> None:
    response = await api.patch(
        "/api/v1/destinations/noord", content=nested(MAX_DEPTH), headers=JSON
    )
    assert response.status_code == 422
    assert response.json()["detail"] != [{"loc": ["body"], "msg": TOO_DEEP, "type": "json_invalid"}]


async def test_a_destination_body_that_is_no_object_is_named(api: httpx.AsyncClient) -> None:
    response = await api.put("/api/v1/destinations/noord", content=b"[1]", headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "must be a JSON object", "type": "dict_type"}]
    }


async def test_a_malformed_id_in_the_path_is_a_404_on_every_route(api: httpx.AsyncClient) -> None:
    checked = []
    for method, path, operation in await operations(api):
        if "_id}" not in path or path.startswith("/api/v1/destinations"):
            continue  # a destination's id is any text: only an unknown one, 404 as ever
        body = b'{"reason": "malformed ids"}' if "requestBody" in operation else None
        url = filled(path, NOT_AN_ID)
        response = await api.request(method, url, content=body, headers=JSON)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["detail"].startswith("no "), (method, url)
        assert "404" in operation["responses"]
        checked.append(path)
    assert "/api/v1/people/{person_id}" in checked and "/api/v1/tokens/{token_id}" in checked
    assert "/api/v1/messages/{message_id}" in checked and "/api/v1/jobs/{job_id}" in checked


async def test_a_body_field_left_out_is_named_in_the_validation_shape(
    api: httpx.AsyncClient,
) -> None:
    for url, body in (
        ("/api/v1/messages/00000000-0000-4000-8000-000000000000/resend", {}),
        ("/api/v1/resend", {"message_ids": []}),
        ("/api/v1/events/route", {"event_ids": [str(uuid.uuid4())]}),
    ):
        response = await api.post(url, json=body)
        assert response.status_code == 422, url
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "reason"] and error["type"] == "missing", url


class Added(BaseModel):
    reason: str


@pytest.mark.parametrize("route_class", [None, APIRoute])
async def test_a_route_added_later_reads_its_body_by_the_same_rule(
    own_app: EngineApp,
    own_api: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    route_class: type[APIRoute] | None,
) -> None:
    """The app's own routes parse by the rule; a plain ``APIRoute``'s parser, which gives up on
    a body nested too deep for Python, is answered alike (FastAPI's 400 is no answer of ours)."""
    app, api = own_app.app, own_api
    monkeypatch.setitem(ROUTE_PERMISSIONS, ("POST", "/api/v1/added"), Permission.MESSAGES_READ)

    async def added(body: Added) -> dict[str, str]:
        return {"reason": body.reason}

    app.router.add_api_route(
        "/api/v1/added", added, methods=["POST"], route_class_override=route_class
    )
    for body, rule in ((nested(1000), TOO_DEEP), (b'{"reason": "\xff"}', NOT_JSON)):
        response = await api.post("/api/v1/added", content=body, headers=JSON)
        assert response.status_code == 422, response.text
        assert response.json() == {
            "detail": [{"loc": ["body"], "msg": rule, "type": "json_invalid"}]
        }
    read = await api.post("/api/v1/added", json={"reason": "r"})
    assert read.status_code == 200 and read.json() == {"reason": "r"}
