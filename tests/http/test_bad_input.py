"""Bad input is a 422 naming the parameter and the rule: never a 500, never the value sent back.

Found by fuzzing the OpenAPI document: offsets and revisions beyond what the store holds were
500s, and a 422 for a wrong-typed search body quoted the BSN it was given (``"input"``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from integrator.access import Permission
from integrator.access.routes import ROUTE_PERMISSIONS
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.http.errors import declared_names, safe_name
from tests.http.conftest import BSN, submit

ROLLBACK = "/api/v1/destinations/noord/rollback/{}"
HUGE = 2**63  # one past the largest 64-bit integer: what the fuzzer sent
BIG = 2**31  # one past the largest 32-bit integer, the store's revision column


def refused(response: httpx.Response, *loc: str | int) -> dict[str, Any]:
    """The one error of a 422 at ``loc``, checked to quote nothing of the request."""
    assert response.status_code == 422, response.text
    error: dict[str, Any]
    [error] = response.json()["detail"]
    assert error["loc"] == list(loc)
    assert set(error) == {"loc", "msg", "type"}  # no "input", no "ctx"
    return error


@pytest.mark.parametrize("value", [HUGE, BIG])
@pytest.mark.parametrize(
    ("method", "url", "body", "loc", "rule"),
    [
        ("GET", "/api/v1/messages?offset={}", None, ("query", "offset"), "2147483647"),
        ("GET", "/api/v1/messages?limit={}", None, ("query", "limit"), "1000"),
        ("GET", "/api/v1/audit?limit={}", None, ("query", "limit"), "1000"),
        ("POST", "/api/v1/messages/search", "offset", ("body", "offset"), "2147483647"),
        ("POST", "/api/v1/messages/search", "limit", ("body", "limit"), "1000"),
        ("POST", ROLLBACK, None, ("path", "revision"), "2147483647"),
    ],
)
async def test_an_integer_beyond_its_bound_is_a_422_naming_it(
    api: httpx.AsyncClient,
    engine: Engine,
    referral_data: dict[str, Any],
    value: int,
    method: str,
    url: str,
    body: str | None,
    loc: tuple[str, str],
    rule: str,
) -> None:
    message_id = await submit(engine, referral_data)
    await api.post("/api/v1/destinations/noord/pause")
    history = (await api.get("/api/v1/destinations/noord/history")).json()

    response = await api.request(
        method, url.format(value), json={body: value} if body is not None else None
    )

    error = refused(response, *loc)
    assert error["type"] == "less_than_equal"
    assert f"less than or equal to {rule}" in error["msg"]
    assert str(value) not in response.text
    # nothing else changed: the message is there, the destination's history is as it was
    found = await api.post("/api/v1/messages/search", json={"bsn": BSN})
    assert [m["id"] for m in found.json()] == [message_id]
    assert (await api.get("/api/v1/destinations/noord/history")).json() == history


async def test_the_largest_offset_and_revision_are_answered(api: httpx.AsyncClient) -> None:
    largest = 2**31 - 1
    assert (await api.get(f"/api/v1/messages?offset={largest}")).json() == []
    searched = await api.post("/api/v1/messages/search", json={"offset": largest})
    assert searched.json() == []
    rollback = await api.post(f"/api/v1/destinations/noord/rollback/{largest}")
    assert rollback.status_code == 422
    assert rollback.json()["detail"] == (
        f"destination 'noord' has no revision {largest}; its revisions: 1"
    )


async def test_a_bsn_in_the_url_is_refused_and_not_repeated(
    api: httpx.AsyncClient, engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)

    messages, audit = "messages/search", "audit/search"
    for url, named, search in (
        (f"/api/v1/messages?bsn={BSN}", "bsn", messages),
        (f"/api/v1/messages?status=delivered&bsn={BSN}", "bsn", messages),
        (f"/api/v1/deadletters?bsn={BSN}", "bsn", messages),
        (f"/api/v1/destinations?BSN={BSN}", "…", messages),  # not of the API's shape
        (f"/healthz?patient_bsn={BSN}", "patient_bsn", messages),
        # each to its own search, not the messages' (found probing the API)
        (f"/api/v1/audit?bsn={BSN}", "bsn", audit),
        (f"/api/v1/rejected?bsn={BSN}", "bsn", "rejected/search"),
    ):
        response = await api.get(url)
        [error] = response.json()["detail"]
        assert response.status_code == 422, url
        assert error["loc"] == ["query", named]
        assert f"body of POST /api/v1/{search}" in error["msg"], (url, error["msg"])
        assert BSN not in response.text

    found = await api.post("/api/v1/messages/search", json={"bsn": BSN})
    assert [m["id"] for m in found.json()] == [message_id]
    listed = await api.get("/api/v1/messages?status=delivered&limit=5")
    assert [m["id"] for m in listed.json()] == [message_id]


async def test_an_unknown_query_parameter_is_named_with_what_the_route_takes(
    api: httpx.AsyncClient,
) -> None:
    # A misspelt one is not repeated (a typo and a surname look alike); the route's own are.
    response = await api.get("/api/v1/messages?stauts=dead&limit=5")
    error = refused(response, "query", "…")
    assert error["type"] == "extra_forbidden"
    assert "unknown query parameter" in error["msg"] and "status" in error["msg"]
    assert "stauts" not in response.text

    # A name the API declares elsewhere is named.
    response = await api.get("/api/v1/versions?status=1&limit=2")
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["query", "limit"],
        ["query", "status"],
    ]
    assert "this route takes none" in response.json()["detail"][0]["msg"]

    # A route that declares ``bsn`` only to refuse it (never in a URL) does not offer it.
    response = await api.get("/api/v1/events?stauts=x")
    said = refused(response, "query", "…")["msg"]
    assert "provider" in said and "bsn" not in said, said

    # a key that could be data itself is not repeated either
    response = await api.get(f"/api/v1/audit?{BSN}=1")
    assert refused(response, "query", "…")["type"] == "extra_forbidden"
    assert BSN not in response.text


async def test_routes_added_later_refuse_unknown_query_parameters_too(
    own_app: EngineApp, own_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, api = own_app.app, own_api
    from fastapi import Depends

    monkeypatch.setitem(ROUTE_PERMISSIONS, ("GET", "/api/v1/later"), Permission.MESSAGES_READ)

    def page(cursor: str | None = None) -> str | None:
        return cursor

    @app.get("/api/v1/later")
    async def later(q: str | None = None, cursor: str | None = Depends(page)) -> list[Any]:
        return [q, cursor]

    assert (await api.get("/api/v1/later?q=a&cursor=b")).json() == ["a", "b"]
    refused(await api.get(f"/api/v1/later?q=a&bsn={BSN}"), "query", "bsn")


@pytest.mark.parametrize(
    ("content", "loc"),
    [
        ({"bsn": int(BSN)}, ["body", "bsn"]),  # a number where text goes
        ({"zd_number": [BSN]}, ["body", "zd_number"]),
        ({"filter_bsn": BSN}, ["body", "…"]),  # unknown key, declared nowhere
        ({"jansen": BSN}, ["body", "…"]),  # unknown keys of the API's shape that are a name
        ({"de_vries": True}, ["body", "…"]),
        ({BSN: True}, ["body", "…"]),  # unknown key that is the BSN itself
        ({"Jansen": True}, ["body", "…"]),  # unknown keys that are a name, a date
        ({"1961-04-12": True}, ["body", "…"]),
        ({"van-der-Berg": True}, ["body", "…"]),
        (BSN, ["body"]),  # not an object at all
    ],
)
async def test_a_wrong_search_body_is_refused_without_repeating_it(
    api: httpx.AsyncClient, content: Any, loc: list[Any]
) -> None:
    response = await api.post("/api/v1/messages/search", json=content)
    refused(response, *loc)
    assert BSN not in response.text
    for data in ("Jansen", "1961-04-12", "van-der-Berg", "jansen", "de_vries", "filter_bsn"):
        assert data not in response.text


# Lower-case keys of the API's own snake_case shape that are a patient's name.
NAME_LIKE_KEYS = ("jan", "de_vries", "jansen")


@pytest.mark.parametrize("key", NAME_LIKE_KEYS)
async def test_a_name_like_key_is_in_no_422_nor_log_line(api: httpx.AsyncClient, key: str) -> None:
    with capture_logs() as logs:
        answers: list[tuple[httpx.Response, list[str | int]]] = [
            # at the top, nested, inside a list, in the query string
            (await api.post("/api/v1/messages/search", json={key: "x"}), ["body", "…"]),
            (
                await api.post("/api/v1/resend", json={"reason": "r", "filter": {key: "x"}}),
                ["body", "filter", "…"],
            ),
            (
                await api.post(
                    "/api/v1/people",
                    json={"email": "a@example.org", "grants": [{"role": "viewer", key: "x"}]},
                ),
                ["body", "grants", 0, "…"],
            ),
            (await api.get(f"/api/v1/messages?{key}=x"), ["query", "…"]),
        ]
    for response, loc in answers:
        assert refused(response, *loc)["type"] == "extra_forbidden"
        assert key not in response.text
    assert key not in str(logs)


async def test_every_name_the_api_declares_is_one_an_error_may_repeat(
    app: EngineApp, api: httpx.AsyncClient
) -> None:
    # Errors repeat a key only when the API declares it; a declared name must never lose it.
    document = (await api.get("/openapi.json")).json()
    names: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(("body", name) for name in properties)
            if isinstance(node.get("in"), str) and isinstance(node.get("name"), str):
                names.add((node["in"], node["name"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert ("header", "X-Integrator-Reason") in names and ("query", "since") in names
    declared = declared_names(app.app)
    for where, name in names:
        assert safe_name(name, declared, header=where == "header") == name, (where, name)
    for key in (*NAME_LIKE_KEYS, "Jansen", BSN):
        assert safe_name(key, declared) == "…"


async def test_a_body_that_is_not_json_is_refused_without_repeating_it(
    api: httpx.AsyncClient,
) -> None:
    broken = f'{{"bsn": "{BSN}", '.encode()
    for url in ("/api/v1/messages/search", "/api/v1/resend"):
        response = await api.post(url, content=broken, headers={"content-type": "application/json"})
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["type"] == "json_invalid"
        assert BSN not in response.text
    for url in ("/api/v1/messages/search", "/api/v1/destinations"):
        response = await api.post(url, content=broken)  # no JSON content type
        assert response.status_code == 415, url
        assert BSN not in response.text


async def test_a_bad_search_term_is_named_without_its_value(api: httpx.AsyncClient) -> None:
    for response in (
        await api.post("/api/v1/messages/search", json={"status": BSN}),
        await api.get(f"/api/v1/messages?status={BSN}"),
        await api.post("/api/v1/resend", json={"reason": "r", "filter": {"status": BSN}}),
    ):
        assert response.status_code == 422
        assert response.json()["detail"].startswith("status: not a message status; one of queued")
        assert BSN not in response.text


async def test_an_unexpected_error_is_a_500_that_quotes_nothing(
    own_app: EngineApp, own_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, api = own_app.app, own_api
    monkeypatch.setitem(ROUTE_PERMISSIONS, ("GET", "/api/v1/broken"), Permission.MESSAGES_READ)

    @app.get("/api/v1/broken")
    async def broken() -> None:
        raise RuntimeError(f"driver error [parameters: ('{BSN}',)]")

    with capture_logs() as logs:
        response = await api.get("/api/v1/broken")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    [line] = [e for e in logs if e["log_level"] == "error"]
    assert line["error_type"] == "RuntimeError" and line["route"] == "/api/v1/broken"
    assert BSN not in str(logs)


@pytest.mark.parametrize(
    ("method", "url", "headers", "loc"),
    [
        ("GET", "/api/v1/messages?limit=1&limit=2", {}, ["query", "limit"]),
        ("GET", "/api/v1/messages?jansen=1&jansen=2", {}, None),  # unknown: its own refusal
        (
            "POST",
            "/api/v1/destinations/noord/pause",
            [("x-integrator-reason", "a"), ("x-integrator-reason", "b")],
            ["header", "X-Integrator-Reason"],
        ),
    ],
)
async def test_a_parameter_given_twice_is_refused_not_read_one_way(
    api: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str] | list[tuple[str, str]],
    loc: list[str] | None,
) -> None:
    """``?limit=1&limit=2`` listed two (the last won) and a second reason header went
    unrecorded (the first won): found probing the API."""
    history = (await api.get("/api/v1/destinations/noord/history")).json()
    response = await api.request(method, url, headers=headers)
    assert response.status_code == 422, response.text
    if loc is not None:
        error = refused(response, *loc)
        assert error["type"] == "duplicate_key" and "more than once" in error["msg"]
    assert (await api.get("/api/v1/destinations/noord/history")).json() == history  # no pause


async def test_two_authorization_headers_are_refused(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    token = api.headers["authorization"]
    response = await api.get(
        "/api/v1/messages", headers=[("authorization", token), ("authorization", "Bearer x")]
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["type"] == "duplicate_key"
    assert error["loc"] == ["header", "Authorization"]  # named, as docs/product.md §7 says


async def test_a_created_at_at_the_end_of_time_is_refused_and_kept_not_a_500(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """``0001-01-01T00:00:00+01:00`` is well-formed RFC 3339; moved to UTC it overflowed, a 500
    that kept nothing. Now a 422 naming the field and the rule, kept as rejected input; the
    last instant taken goes all the way through intake."""
    late = {**referral_data, "created_at": "0001-01-01T00:00:00+01:00"}
    answer = await api.post("/api/v1/events", json=late)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [(e["path"], e["rule"]) for e in body["errors"]] == [("created_at", "datetime_range")]
    assert await engine.store.get_rejected(body["rejected_id"]) is not None
    last = {**referral_data, "created_at": "9999-12-30T23:59:59Z"}
    taken = await api.post("/api/v1/events", json=last)
    assert taken.status_code == 202, taken.text
