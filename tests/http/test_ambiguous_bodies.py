"""A body that can be read two ways is refused, naming where: never read one way, silently.

Found probing the API: a key given twice was read as Python reads it, the last one winning, so
``{"dry_run": true, …, "dry_run": false}`` resent for real what its sender may have meant as a
trial (intake refused such an event already); and pydantic's lax reading took ``"off"`` for
false and ``true`` for one day.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from tests.http.conftest import BSN, submit
from tests.http.test_bad_input import refused

JSON = {"content-type": "application/json"}
WHY = {"x-integrator-reason": "tuning"}


async def _messages(api: httpx.AsyncClient) -> list[str]:
    found = await api.post("/api/v1/messages/search", json={"bsn": BSN})
    assert found.status_code == 200, found.text
    return [m["id"] for m in found.json()]


async def test_a_key_given_twice_is_refused_at_its_place_and_nothing_is_resent(
    api: httpx.AsyncClient, engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    body = (
        f'{{"reason": "GP called", "message_ids": ["{message_id}"], '
        '"dry_run": true, "dry_run": false}'
    )
    response = await api.post("/api/v1/resend", content=body.encode(), headers=JSON)
    error = refused(response, "body", "dry_run")
    assert error["type"] == "duplicate_key"
    assert "given twice" in error["msg"]
    assert await _messages(api) == [message_id]  # no resend made


async def test_a_key_given_twice_deep_in_a_definition_leaves_the_destination_as_it_was(
    api: httpx.AsyncClient,
) -> None:
    before = (await api.get("/api/v1/destinations/noord/history")).json()
    body = b'{"retry": {"max_attempts": 6, "max_attempts": 60}}'
    response = await api.patch(
        "/api/v1/destinations/noord",
        content=body,
        headers={"content-type": "application/merge-patch+json", **WHY},
    )
    assert refused(response, "body", "retry", "max_attempts")["type"] == "duplicate_key"
    assert (await api.get("/api/v1/destinations/noord/history")).json() == before


async def test_a_key_the_api_does_not_declare_is_not_repeated_when_given_twice(
    api: httpx.AsyncClient,
) -> None:
    body = b'{"zd_number": "ZD1", "jansen": 1, "jansen": 2}'
    response = await api.post("/api/v1/messages/search", content=body, headers=JSON)
    assert refused(response, "body", "…")["type"] == "duplicate_key"
    assert "jansen" not in response.text


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_no_json(api: httpx.AsyncClient, constant: str) -> None:
    body = f'{{"zd_number": "ZD1", "limit": {constant}}}'.encode()
    response = await api.post("/api/v1/messages/search", content=body, headers=JSON)
    assert refused(response, "body")["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("url", "body", "key"),
    [
        ("/api/v1/resend", {"reason": "r", "message_ids": ["{id}"], "dry_run": "off"}, "dry_run"),
        ("/api/v1/resend", {"reason": "r", "message_ids": ["{id}"], "dry_run": 0}, "dry_run"),
        ("/api/v1/deadletters/discard", {"reason": "r", "all": "yes"}, "all"),
        ("/api/v1/events/route", {"reason": "r", "event_ids": [], "dry_run": "no"}, "dry_run"),
        ("/api/v1/events/search", {"zd_number": "ZD1", "unrouted": 1}, "unrouted"),
        ("/api/v1/messages/search", {"zd_number": "ZD1", "limit": "10"}, "limit"),
        ("/api/v1/messages/search", {"zd_number": "ZD1", "offset": True}, "offset"),
        (
            "/api/v1/tokens",
            {"name": "t", "grants": [{"role": "viewer", "cluster": None}], "expires_in_days": True},
            "expires_in_days",
        ),
    ],
)
async def test_a_yes_or_no_or_a_number_must_be_json_s_own(
    api: httpx.AsyncClient,
    engine: Engine,
    referral_data: dict[str, Any],
    url: str,
    body: dict[str, Any],
    key: str,
) -> None:
    message_id = await submit(engine, referral_data)
    tokens = (await api.get("/api/v1/tokens")).json()
    sent = json.loads(json.dumps(body).replace("{id}", message_id))
    response = await api.post(url, json=sent)
    error = refused(response, "body", key)
    assert error["type"] in {"bool_type", "int_type"}, error
    assert await _messages(api) == [message_id]  # nothing resent
    assert (await api.get("/api/v1/tokens")).json() == tokens  # no token made
