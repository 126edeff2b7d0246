"""Two ``Authorization`` headers are refused on every route before either token is read
(docs/product.md §7): a security review found the destination routes answering 403 for the
first token's permission, having read it, where the resend routes said ``duplicate_key``."""

from __future__ import annotations

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import token_for


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/destinations/noord/pause"),
        ("POST", "/api/v1/destinations/noord/test"),
        ("GET", "/api/v1/messages"),
        ("POST", "/api/v1/events"),
    ],
)
async def test_two_authorization_headers_are_refused_whichever_comes_first(
    engine: Engine, api: httpx.AsyncClient, method: str, path: str
) -> None:
    viewer = await token_for(engine, Grant(Role.VIEWER), name="only-a-viewer")
    admin = api.headers["authorization"]  # every role for all clusters
    answer = await api.request(
        method,
        path,
        headers=[("authorization", f"Bearer {viewer}"), ("authorization", admin)],
        json={},
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert (error["type"], error["loc"]) == ("duplicate_key", ["header", "Authorization"])
