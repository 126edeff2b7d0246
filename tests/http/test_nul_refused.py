"""A NUL character (U+0000) in a path, a query value or a JSON body is a 422 naming where it was, on
every route, on PostgreSQL too (whose text holds none: the store failed and the route answered
a plain 500, with an ERROR log line per request); nothing is stored and nothing echoed."""

from __future__ import annotations

from pathlib import Path

from tests.http.support import api_client, postgresql_engine


async def test_a_nul_is_refused_where_it_was_on_postgresql(tmp_path: Path) -> None:
    async with postgresql_engine(tmp_path) as engine, api_client(engine) as api:
        queries = [
            await api.get("/api/v1/messages", params={"control_id": "a\x00b"}),
            await api.get("/api/v1/messages.csv", params={"control_id": "a\x00b"}),
            await api.get("/api/v1/events", params={"provider": "a\x00b"}),
            await api.get("/api/v1/rejected", params={"provider": "a\x00b"}),
            await api.get("/api/v1/audit", params={"actor": "token:a\x00b"}),
        ]
        bodies = [
            await api.post("/api/v1/messages/search", json={"control_id": "a\x00b"}),
            await api.post("/api/v1/audit/search", json={"target": "a\x00b"}),
            await api.post(
                "/api/v1/people",
                json={
                    "email": "x@example.nl",
                    "name": "a\x00b",
                    "grants": [{"role": "viewer"}],
                },
            ),
        ]
        people = (await api.get("/api/v1/people")).json()
        paths = [
            await api.get("/api/v1/destinations/a%00b/history"),
            await api.get("/api/v1/destinations/a%00b"),
        ]
    for answer in queries + bodies + paths:
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["msg"] == "must not contain the NUL character (U+0000)"
        assert "a\x00b" not in answer.text and "\\u0000" not in answer.text
    assert [a.json()["detail"][0]["loc"] for a in queries[:2]] == [["query", "control_id"]] * 2
    assert {tuple(a.json()["detail"][0]["loc"]) for a in bodies} == {("body",)}
    assert {tuple(a.json()["detail"][0]["loc"]) for a in paths} == {("path", "destination_id")}
    assert all(p["email"] != "x@example.nl" for p in people)  # nobody was invited
