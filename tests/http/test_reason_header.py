"""The ``X-Integrator-Reason`` header is read as UTF-8, on every route that takes it.

Header values are bytes; the server decodes them as latin-1, so a reason typed in Dutch
(``één``) would be stored as mojibake without the dependency that reads them back as UTF-8.
"""

from __future__ import annotations

import httpx

from integrator.engine import Engine

REASON = "storing — één uur onderhoud"


async def test_a_utf8_reason_is_stored_as_sent_for_destinations_and_tokens(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    header = {b"x-integrator-reason": REASON.encode()}
    paused = await api.post("/api/v1/destinations/noord/pause", headers=header)
    assert paused.status_code == 200, paused.text
    history = (await api.get("/api/v1/destinations/noord/history")).json()
    assert history[-1]["reason"] == REASON
    # Only the newest: a destination paused and resumed daily gains two revisions a day.
    newest = await api.get("/api/v1/destinations/noord/history", params={"last": 1})
    assert newest.json() == history[-1:] and len(history) > 1
    refused = await api.get("/api/v1/destinations/noord/history", params={"last": 0})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "last"]
    made = (
        await api.post("/api/v1/tokens", json={"name": "ops", "grants": [{"role": "metrics"}]})
    ).json()
    revoked = await api.delete(f"/api/v1/tokens/{made['id']}", headers=header)
    assert revoked.status_code == 200, revoked.text
    entries = await engine.store.list_audit(limit=1000)
    reasons = {a.action: a.reason for a in entries}
    assert reasons["destination.pause"] == reasons["token.revoke"] == REASON, reasons


async def test_a_reason_that_is_not_utf8_is_refused_naming_the_header(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    latin1 = {b"x-integrator-reason": "één uur".encode("latin-1")}
    paused = await api.post("/api/v1/destinations/noord/pause", headers=latin1)
    assert paused.status_code == 422
    [error] = paused.json()["detail"]
    assert error["loc"] == ["header", "X-Integrator-Reason"]
    assert error["msg"] == "must be UTF-8 text" and "input" not in error
    assert engine.catalog.destinations["noord"].enabled is True
    assert len((await api.get("/api/v1/destinations/noord/history")).json()) == 1


async def test_the_length_of_a_reason_counts_characters_not_bytes(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    header = {b"x-integrator-reason": ("é" * 1000).encode()}
    paused = await api.post("/api/v1/destinations/noord/pause", headers=header)
    assert paused.status_code == 200, paused.text
    longer = {b"x-integrator-reason": ("é" * 1001).encode()}
    resumed = await api.post("/api/v1/destinations/noord/resume", headers=longer)
    assert resumed.status_code == 422
    assert resumed.json()["detail"][0]["loc"] == ["header", "X-Integrator-Reason"]


async def test_a_body_sent_to_a_route_that_reads_none_is_refused_and_nothing_is_done(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Resend and discard take their reason in the body, so a client sends a pause's there
    too: it was taken, ignored, and the pause recorded without a reason; a test message asked
    for by a body key went out as the default type. Refused now, naming where it goes."""
    paused = await api.post(
        "/api/v1/destinations/noord/pause", json={"reason": "maintenance, ticket 4711"}
    )
    tested = await api.post(
        "/api/v1/destinations/noord/test", json={"event_type": "diagnostic_request"}
    )
    made = (
        await api.post("/api/v1/tokens", json={"name": "ops", "grants": [{"role": "metrics"}]})
    ).json()
    revoked = await api.request(
        "DELETE", f"/api/v1/tokens/{made['id']}", json={"reason": "leaked in a ticket"}
    )
    for answer in (paused, tested, revoked):
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body"]
        assert error["msg"].startswith("this route takes no body")
        assert "X-Integrator-Reason" in error["msg"]
    assert engine.catalog.destinations["noord"].enabled is True
    assert len((await api.get("/api/v1/destinations/noord/history")).json()) == 1
    listed = (await api.get("/api/v1/tokens")).json()
    assert any(t["id"] == made["id"] and t["revoked_at"] is None for t in listed), listed
    # Without a body (or an empty one) the same routes work as before.
    assert (await api.post("/api/v1/destinations/noord/pause")).status_code == 200
    assert (await api.delete(f"/api/v1/tokens/{made['id']}")).status_code == 200
