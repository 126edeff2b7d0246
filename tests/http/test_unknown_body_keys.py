"""A key a body's object does not take is answered with the keys it does, as a query parameter
a route does not take is: pydantic's "Extra inputs are not permitted" told a script what was
wrong, not what to send (a batch resend's ``filter: {"zd": …}``). The key sent is never
repeated (``…``), only the names the API declares."""

from __future__ import annotations

from integrator.http.bodies import SearchTerms
from tests.http.test_access import World, world  # noqa: F401 (the fixture)


async def test_an_unknown_key_is_answered_with_the_keys_its_object_takes(
    world: World,  # noqa: F811
) -> None:
    async with world.client(world.everything) as admin:
        nested = await admin.post(
            "/api/v1/resend",
            json={"reason": "GP phoned", "filter": {"zd": "ZD100000001"}, "dry_run": True},
        )
        top = await admin.post("/api/v1/messages/search", json={"jansen_1980": "x"})
    assert nested.status_code == 422, nested.text
    [error] = nested.json()["detail"]
    assert error["loc"] == ["body", "filter", "…"]
    assert error["msg"] == "unknown key; this object takes " + ", ".join(SearchTerms.model_fields)
    assert "ZD100000001" not in nested.text and '"zd"' not in nested.text
    assert top.status_code == 422, top.text
    [error] = top.json()["detail"]
    assert error["loc"] == ["body", "…"] and "jansen" not in top.text
    assert error["msg"].startswith("unknown key; this object takes bsn, zd_number, ")
    assert error["msg"].endswith(", limit, offset, after")
