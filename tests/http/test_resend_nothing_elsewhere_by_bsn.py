"""``POST /api/v1/resend`` with ``dry_run`` by a ``bsn`` that selects nothing says where the
patient's referral went instead, as a dry run by a ZD number does
(``test_resend_nothing_elsewhere``) and ``messages list --bsn`` says it
(``message_reads.elsewhere``): an event of the patient that arrived for a provider no
destination serves (unrouted), input of the patient that intake refused. The BSN is never
echoed: ``zd_number`` is null, and ``see`` names the searches that take the BSN in their body.
Who does not read patient data in every cluster is told nothing, whether there is any or none.
The selection's view of patient data is the one entry recorded; the answer adds none.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store.records import RejectedKeys
from tests.http.support import bearer, token_for
from tests.store.factories import make_event

BSN = "999990019"
OTHER = "999990020"


async def _went_elsewhere(engine: Engine) -> None:
    """The patient's event for a provider no destination serves, and their rejected input."""
    bsn_hash = engine.settings.bsn_hash(BSN)
    event = make_event(zd_number="ZD720000001", provider_id="ziekenhuis-oost", bsn_hash=bsn_hash)
    assert await engine.store.accept_event(event, [])
    await engine.store.reject_event(
        b"{}",
        "http",
        [{"path": "event_id", "rule": "required", "message": "is required"}],
        RejectedKeys(bsn_hash=bsn_hash),
    )


def _by_bsn(bsn: str) -> dict[str, Any]:
    return {"filter": {"bsn": bsn}, "reason": "GP called", "dry_run": True}


async def _planned(client: httpx.AsyncClient, token: str, bsn: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/resend", json=_by_bsn(bsn), headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert BSN not in answer.text and BSN not in str(answer.headers)
    planned: dict[str, Any] = answer.json()
    assert planned["total"] == 0
    return planned


async def test_a_dry_run_by_bsn_that_selects_nothing_says_where_it_went(
    engine: Engine, app: EngineApp
) -> None:
    await _went_elsewhere(engine)
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        planned = await _planned(client, support, BSN)
        assert planned["elsewhere"] == {
            "zd_number": None,
            "rejected": 1,
            "unrouted": 1,
            "outside_terms": 0,
            "see": ["/api/v1/rejected/search", "/api/v1/events/search"],
        }
        # Where it points finds it, the BSN in the body.
        found = await client.post(
            "/api/v1/events/search",
            json={"bsn": BSN, "unrouted": True},
            headers=bearer(support),
        )
        assert found.status_code == 200 and len(found.json()) == 1, found.text
        nothing = (await _planned(client, support, OTHER))["elsewhere"]
        assert (nothing["rejected"], nothing["unrouted"], nothing["see"]) == (0, 0, [])
    entries = await engine.store.list_audit(limit=1000)
    assert all(BSN not in str((e.target, e.reason, e.details)) for e in entries)
    views = [e.details for e in entries if e.action == PATIENT_DATA_VIEW]
    # Each selection's view (a search of messages that found none), and the search made to
    # look at the events: the answers added none.
    assert sorted((v["view"], v["found"]) for v in views) == [
        ("events.search", 1),
        ("messages.search", 0),
        ("messages.search", 0),
    ]


async def test_who_does_not_read_patient_data_everywhere_is_not_told(
    engine: Engine, app: EngineApp
) -> None:
    await _went_elsewhere(engine)
    card = await token_for(engine, Grant(Role.RESEND, "CARD"), name="card-support")
    mixed = await token_for(
        engine, Grant(Role.VIEWER), Grant(Role.RESEND, "CARD"), name="mixed-support"
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        for token in (card, mixed):
            told = [(await _planned(client, token, bsn))["elsewhere"] for bsn in (BSN, OTHER)]
            assert (
                told[0]
                == told[1]
                == {
                    "zd_number": None,
                    "rejected": None,
                    "unrouted": 0,
                    "outside_terms": 0,
                    "see": [],
                }
            )
