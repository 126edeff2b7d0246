"""Rejected input found through the API by what could be read from it: ``GET
/api/v1/rejected?zd_number=…&provider=…`` and, by BSN, ``POST /api/v1/rejected/search`` with
the BSN in the body, audited as a view of patient data and never in a URL or a log line."""

from __future__ import annotations

from typing import Any

import httpx
from structlog.testing import capture_logs

from integrator.access.permissions import Grant, Role
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.http.support import api_client, token_for

BSN = "999990019"  # the sample referral's patient


async def _refuse(api: httpx.AsyncClient, zd_number: str, provider: str) -> str:
    event: dict[str, Any] = load_sample("referral")
    event.update(event_id="not-a-uuid", zd_number=zd_number)
    event["provider"]["id"] = provider
    answer = await api.post("/api/v1/events", json=event)
    assert answer.status_code == 422, answer.text
    rejected_id: str = answer.json()["rejected_id"]
    return rejected_id


async def test_the_listing_shows_and_takes_the_zd_number_and_provider(
    api: httpx.AsyncClient,
) -> None:
    first = await _refuse(api, "zd300000001", "ziekenhuis-noord")
    second = await _refuse(api, "ZD300000002", "lab-west")

    async def listed(**terms: str) -> tuple[list[str], str]:
        answer = await api.get("/api/v1/rejected", params=terms)
        assert answer.status_code == 200, answer.text
        assert BSN not in answer.text
        return [r["id"] for r in answer.json()], answer.headers["x-total-count"]

    everything = (await api.get("/api/v1/rejected")).json()
    assert [(r["zd_number"], r["provider_id"]) for r in everything] == [
        ("ZD300000002", "lab-west"),
        ("ZD300000001", "ziekenhuis-noord"),
    ]
    assert await listed(zd_number="zd300000001") == ([first], "1")
    assert await listed(provider="lab-west") == ([second], "1")
    assert await listed(zd_number="ZD300000001", provider="lab-west") == ([], "0")
    refused = await api.get("/api/v1/rejected", params={"zd_number": "ZD3000"})
    assert refused.status_code == 422
    assert "zd_number" in refused.text and "ZD3000" not in refused.text


async def test_a_search_by_bsn_is_a_post_audited_and_never_in_a_url_or_log(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    first = await _refuse(api, "ZD300000001", "ziekenhuis-noord")
    await _refuse(api, "ZD300000002", "lab-west")
    with capture_logs() as logs:
        found = await api.post(
            "/api/v1/rejected/search", json={"bsn": "999 990 019", "provider": "ziekenhuis-noord"}
        )
    assert found.status_code == 200, found.text
    assert [r["id"] for r in found.json()] == [first]
    assert found.headers["x-total-count"] == "1"
    assert BSN not in str(logs) and BSN not in found.text
    assert BSN not in str(found.request.url)
    views = [
        e
        for e in await engine.store.list_audit(limit=50)
        if e.action == "patient_data.view" and e.details["view"] == "rejected.search"
    ]
    [view] = views
    assert view.actor.startswith("token:")
    assert view.details["bsn_hash"] == engine.settings.bsn_hash(BSN)
    assert view.details["found"] == 1
    assert BSN not in str(view.details)

    # In the address it is refused, and not searched or recorded.
    in_url = await api.get("/api/v1/rejected", params={"bsn": BSN})
    assert in_url.status_code >= 400 and BSN not in in_url.text
    assert len(
        [e for e in await engine.store.list_audit(limit=50) if e.action == "patient_data.view"]
    ) == len(views)


async def test_a_search_by_bsn_needs_patient_data_for_all_clusters(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    await _refuse(api, "ZD300000001", "ziekenhuis-noord")
    viewer = await token_for(engine, Grant(Role.VIEWER))
    async with api_client(engine, viewer) as as_viewer:
        by_zd = await as_viewer.get("/api/v1/rejected", params={"zd_number": "ZD300000001"})
        assert by_zd.status_code == 200 and len(by_zd.json()) == 1
        by_bsn = await as_viewer.post("/api/v1/rejected/search", json={"bsn": BSN})
        assert by_bsn.status_code == 403
    support_in_one = await token_for(engine, Grant(Role.RESEND, "CARD"))
    async with api_client(engine, support_in_one) as in_one_cluster:
        refused = await in_one_cluster.post("/api/v1/rejected/search", json={"bsn": BSN})
        assert refused.status_code == 403
    recorded = [
        e for e in await engine.store.list_audit(limit=50) if e.action == "patient_data.view"
    ]
    assert recorded == []
