"""``GET /api/v1/people`` and ``GET /api/v1/tokens`` page as the other listings do.

They answered every person and every token in one list, however many: the only listings of the
API without ``limit`` and ``offset``. Now they take both, with the same names and bounds as
``/messages`` (``limit`` 1 to 1000, default 100; ``offset`` from 0), answer the same list, and
say how many there are in all in ``X-Total-Count`` as ``/rejected`` does.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import MAKER, token_for


async def pages(api: httpx.AsyncClient, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of ``path`` of ``limit`` items, each checked for the total it says."""
    whole = await api.get(path)
    assert whole.status_code == 200, whole.text
    total = int(whole.headers["X-Total-Count"])
    found: list[list[dict[str, Any]]] = []
    for offset in range(0, total + limit, limit):
        page = await api.get(path, params={"limit": limit, "offset": offset})
        assert page.status_code == 200, page.text
        assert page.headers["X-Total-Count"] == str(total)
        found.append(page.json())
    assert [item for page in found for item in page] == whole.json()
    return found


async def test_people_come_in_pages_by_address(engine: Engine, api: httpx.AsyncClient) -> None:
    for n in (3, 1, 5, 2, 4):
        await engine.access.invite(MAKER, f"p{n}@example.nl", [Grant(Role.VIEWER)])
    found = await pages(api, "/api/v1/people", 2)
    assert [[p["email"] for p in page] for page in found] == [
        ["p1@example.nl", "p2@example.nl"],
        ["p3@example.nl", "p4@example.nl"],
        ["p5@example.nl"],
        [],
    ]


async def test_tokens_come_in_pages_newest_first(engine: Engine, api: httpx.AsyncClient) -> None:
    for n in range(4):
        await token_for(engine, Grant(Role.VIEWER), name=f"feed-{n}")
    found = await pages(api, "/api/v1/tokens", 3)
    assert [len(page) for page in found] == [3, 2, 0]  # the four and the client's own
    names = [t["name"] for page in found for t in page]
    assert names[:4] == ["feed-3", "feed-2", "feed-1", "feed-0"]  # made after the client's


@pytest.mark.parametrize("path", ["/api/v1/people", "/api/v1/tokens"])
@pytest.mark.parametrize(
    ("query", "name", "rule"),
    [
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 1001}, "limit", "less than or equal to 1000"),
        ({"limit": "ten"}, "limit", "a valid integer"),
        ({"offset": -1}, "offset", "greater than or equal to 0"),
        ({"offset": 2**31}, "offset", "less than or equal to 2147483647"),
    ],
)
async def test_a_bad_limit_or_offset_is_refused_naming_it_and_the_rule(
    api: httpx.AsyncClient, path: str, query: dict[str, Any], name: str, rule: str
) -> None:
    answer = await api.get(path, params=query)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", name]
    assert rule in error["msg"], error


async def test_the_document_declares_the_paging_and_the_total(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    for path in ("/api/v1/people", "/api/v1/tokens"):
        operation = document["paths"][path]["get"]
        declared = {p["name"]: p for p in operation["parameters"]}
        assert declared["limit"]["schema"]["maximum"] == 1000
        assert declared["limit"]["schema"]["default"] == 100
        assert declared["offset"]["schema"]["minimum"] == 0
        assert "X-Total-Count" in declared["offset"]["description"]
        assert "X-Total-Count" in operation["responses"]["200"]["headers"], path
