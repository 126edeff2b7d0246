"""``GET /api/v1/tokens`` and ``POST /api/v1/tokens`` say whose a token is and who made it
(docs/access.md, "People and tokens through the API", "Which one it is, said")."""

from __future__ import annotations

import httpx

from integrator.access import Grant, Role
from integrator.access.permissions import local_identity
from integrator.engine import Engine


async def test_the_listing_says_each_tokens_kind_and_maker(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    made = await api.post(
        "/api/v1/tokens", json={"name": "lab-feed", "grants": [{"role": "intake"}]}
    )
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "machine"  # a token route needs tokens.manage: always
    await engine.access.create_token(local_identity("piet"), "prometheus", [Grant(Role.METRICS)])

    listed = await api.get("/api/v1/tokens")
    assert listed.status_code == 200, listed.text
    rows = {row["name"]: row for row in listed.json()}
    caller = rows["lab-feed"]["created_by"]
    assert caller.startswith("token:test-") and caller[len("token:") :] in rows
    assert rows["lab-feed"]["kind"] == "machine"
    assert (rows["prometheus"]["created_by"], rows["prometheus"]["kind"]) == (
        "local:piet",
        "machine",
    )
