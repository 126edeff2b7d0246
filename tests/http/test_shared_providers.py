"""A destination that serves a provider another destination serves already is made, with a
warning naming the other: a copied file with its providers left as they were sent every event
for them to both, without a word."""

from __future__ import annotations

import httpx

SHARED = "provider 'ziekenhuis-noord' is also served by 'noord'"


async def test_adding_and_updating_warn_of_a_provider_served_elsewhere(
    api: httpx.AsyncClient,
) -> None:
    noord = (await api.get("/api/v1/destinations/noord")).json()["definition"]
    copy = {**noord, "id": "noord-kopie"}
    added = await api.post("/api/v1/destinations", json=copy)
    assert added.status_code == 201, added.text
    [warning] = [w for w in added.json()["warnings"] if "also served" in w]
    assert warning.startswith(f"destination 'noord-kopie': {SHARED}"), warning
    patched = await api.patch("/api/v1/destinations/noord", json={"port": 2599})
    assert patched.status_code == 200, patched.text
    assert any("is also served by 'noord-kopie'" in w for w in patched.json()["warnings"])
    moved = await api.patch("/api/v1/destinations/noord-kopie", json={"providers": ["lab-x"]})
    assert moved.status_code == 200, moved.text
    assert not [w for w in moved.json()["warnings"] if "also served" in w]
