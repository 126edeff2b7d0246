"""Every refusal of an event submission that keeps it says the id; an ``Idempotency-Key`` is
refused and keeps nothing.

A 415 and a 422 for a query parameter were kept as rejected input, but their answer carried no
``X-Integrator-Rejected-Id`` nor ``rejected_id``, while docs/product.md told senders that no id
means nothing was kept. And ``POST /api/v1/events`` ignored an ``Idempotency-Key``, even a
malformed one, while four routes honour it: a client's generic helper believed it was covered.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from integrator.access.permissions import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.http.idempotency import NOT_ON_INTAKE
from integrator.http.limits import EVENT_BODY_LIMIT
from integrator.http.media import NOT_UTF8
from tests.http.support import token_for
from tests.http.test_limits import CHUNK, call, http_scope
from tests.http.test_refused_intake import (
    EVENTS,
    assert_nothing_else,
    bearer_header,
    kept,
    rejected_count,
)

JSON_BODY = {"content-type": "application/json"}
ID_HEADER = "x-integrator-rejected-id"


async def test_a_415_for_a_charset_names_the_id_it_is_kept_under(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    body = json.dumps(referral_data).encode()
    latin = {"content-type": "application/json; charset=iso-8859-1"}
    response = await api.post(EVENTS, content=body, headers=latin)
    assert response.status_code == 415
    [record] = await kept(engine)
    assert response.headers[ID_HEADER] == record.id
    assert response.json() == {"detail": NOT_UTF8, "rejected_id": record.id}


async def test_a_415_without_a_content_type_names_the_id_it_is_kept_under(
    engine: Engine, app: EngineApp
) -> None:
    token = await token_for(engine, Grant(Role.INTAKE))
    scope = http_scope(EVENTS, [(b"content-length", b"2"), *bearer_header(token)])
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    sent, _ = await call(app, scope, [b"{}"])
    assert sent[0]["status"] == 415
    [record] = await kept(engine)
    assert (ID_HEADER.encode(), record.id.encode()) in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["rejected_id"] == record.id


async def test_a_422_for_a_query_parameter_names_the_id_it_is_kept_under(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    body = json.dumps(referral_data).encode()
    response = await api.post(EVENTS, params={"dry_run": "true"}, content=body, headers=JSON_BODY)
    assert response.status_code == 422
    [record] = await kept(engine)
    assert response.headers[ID_HEADER] == record.id
    answered = response.json()
    assert answered["rejected_id"] == record.id
    assert answered["detail"][0]["loc"] == ["query", "dry_run"]  # the shape as before


async def test_intakes_own_422_names_the_id_in_the_header_too(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    response = await api.post(EVENTS, json=dict(referral_data, event_id="not-a-uuid"))
    assert response.status_code == 422
    [record] = await kept(engine)
    assert response.headers[ID_HEADER] == response.json()["rejected_id"] == record.id


async def test_a_refusal_of_another_route_names_no_id(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/messages/search", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert ID_HEADER not in response.headers
    assert response.json() == {"detail": response.json()["detail"]}


async def test_an_idempotency_key_on_intake_is_refused_before_its_body_is_read(
    engine: Engine, app: EngineApp, referral_data: dict[str, Any]
) -> None:
    """Any key, well formed or not; the answer names the header and the rule, keeps nothing,
    accepts nothing, and reads not a byte of the body."""
    token = await token_for(engine, Grant(Role.INTAKE))
    body = json.dumps(referral_data).encode()
    for key in (b"0b7c4d0e-8a4e-4d53-9a0e-2f4f0d1c9e11", b"has a space"):
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"idempotency-key", key),
            *bearer_header(token),
        ]
        sent, asked = await call(app, http_scope(EVENTS, headers), [body])
        assert sent[0]["status"] == 422
        assert asked == 0
        assert json.loads(sent[1]["body"]) == {"detail": NOT_ON_INTAKE}
        assert not any(name == ID_HEADER.encode() for name, _ in sent[0]["headers"])
    assert NOT_ON_INTAKE.startswith("Idempotency-Key: ")
    assert "event_id" in NOT_ON_INTAKE
    assert await kept(engine) == []
    assert rejected_count(engine) == 0
    await assert_nothing_else(engine)


async def test_an_idempotency_key_keeps_nothing_with_another_refusal_either(
    engine: Engine, app: EngineApp, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """Refused before the 415 and the query's 422 are looked at; a 413 for a declared size,
    answered before any rule, is not kept either."""
    key = {"idempotency-key": "k-1"}
    body = json.dumps(referral_data).encode()
    plain = await api.post(EVENTS, content=body, headers={"content-type": "text/plain", **key})
    assert plain.status_code == 422 and plain.json() == {"detail": NOT_ON_INTAKE}
    query = await api.post(
        EVENTS, params={"dry_run": "true"}, content=body, headers={**JSON_BODY, **key}
    )
    assert query.status_code == 422 and query.json() == {"detail": NOT_ON_INTAKE}
    token = await token_for(engine, Grant(Role.INTAKE))
    declared = [
        (b"content-length", str(EVENT_BODY_LIMIT + 1).encode()),
        (b"idempotency-key", b"k-2"),
        *bearer_header(token),
    ]
    sent, _ = await call(app, http_scope(EVENTS, declared), [CHUNK])
    assert sent[0]["status"] == 413
    assert not any(name == ID_HEADER.encode() for name, _ in sent[0]["headers"])
    assert await kept(engine) == []
    assert rejected_count(engine) == 0


async def test_an_idempotency_key_stays_taken_where_it_is_honoured(
    api: httpx.AsyncClient,
) -> None:
    """Only the intake refuses it: a routing's dry run with a key is answered as before."""
    response = await api.post(
        "/api/v1/events/route",
        json={"reason": "check", "event_ids": [], "dry_run": True},
        headers={"idempotency-key": "route-1"},
    )
    assert response.status_code != 422 or "Idempotency-Key: POST" not in response.text
