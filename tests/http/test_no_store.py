"""No answer of the API may be kept by a browser or a proxy (``integrator.http.caching``): they
hold patient data. Static assets, which hold none, may be."""

from __future__ import annotations

from typing import Any

import httpx

from integrator.engine import Engine
from tests.http.conftest import submit
from tests.http.support import api_client


async def test_answers_with_data_and_errors_say_not_to_keep_them(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    answers = {
        "listing": await api.get("/api/v1/messages"),
        "one message": await api.get(f"/api/v1/messages/{message_id}"),
        "CSV export": await api.get("/api/v1/messages.csv"),
        "search": await api.post("/api/v1/messages/search", json={"bsn": "999990019"}),
        "refused event": await api.post("/api/v1/events", json={"type": "referral"}),
        "not found": await api.get("/api/v1/messages/00000000-0000-0000-0000-000000000000"),
        "unknown query parameter": await api.get("/api/v1/messages?stauts=dead"),
        "too large": await api.post("/api/v1/messages/search", content=b"{" + b" " * 2**21),
    }
    async with api_client(engine, "not-a-token") as stranger:
        answers["no valid token"] = await stranger.get("/api/v1/messages")
    statuses = {what: answer.status_code for what, answer in answers.items()}
    assert statuses == {
        "listing": 200,
        "one message": 200,
        "CSV export": 200,
        "search": 200,
        "refused event": 422,
        "not found": 404,
        "unknown query parameter": 422,
        "too large": 413,
        "no valid token": 401,
    }
    for what, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", what
        # read as what it is, framed by no other site, no address leaving with a link
        assert answer.headers.get("x-content-type-options") == "nosniff", what
        assert answer.headers.get("x-frame-options") == "DENY", what
        assert answer.headers.get("referrer-policy") == "same-origin", what


async def test_a_slash_too_many_is_a_404_not_a_redirect_to_the_host_named(
    api: httpx.AsyncClient,
) -> None:
    """Starlette answered ``/api/v1/messages/`` with a 307 to the ``Host`` the request named,
    before anyone was asked who they are."""
    for path in ("/api/v1/messages/", "/api/v1/destinations/noord/"):
        answer = await api.get(path, headers={"host": "evil.example"})
        assert answer.status_code in {401, 404}, (path, answer.status_code)
        assert "location" not in answer.headers
        assert "evil.example" not in answer.text


async def test_console_pages_say_it_and_static_assets_may_be_kept(
    api: httpx.AsyncClient,
) -> None:
    page = await api.get("/login")
    assert page.headers.get("cache-control") == "no-store"
    asset = await api.get("/static/console.css")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=3600"
