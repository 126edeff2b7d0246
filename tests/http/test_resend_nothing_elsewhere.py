"""``POST /api/v1/resend`` by a ZD number that no message has: the job it starts says, once done,
where that referral went instead (refused by intake, or arrived while no destination served
its provider), as ``integrator resend --zd`` and ``messages list --zd`` do
(``message_reads.zd_elsewhere``): worked out for whoever reads the job, who is told only what
they may look at. The start itself, which an ``Idempotency-Key`` repeats as first answered,
is the job as it starts; its repeat answers the same job and starts none."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.store.records import RejectedKeys
from tests.http.conftest import submit
from tests.http.support import bearer, token_for
from tests.store.factories import make_event

REJECTED_ZD = "ZD710000001"
UNROUTED_ZD = "ZD710000002"
NOWHERE_ZD = "ZD710000003"


async def _went_elsewhere(engine: Engine) -> None:
    """Rejected input with ``REJECTED_ZD``; an event of ``UNROUTED_ZD`` for a provider that no
    destination serves (unrouted: it lies in no cluster)."""
    await engine.store.reject_event(
        json.dumps({"type": "referral", "zd_number": REJECTED_ZD}).encode(),
        "http",
        [{"path": "event_id", "rule": "required", "message": "is required"}],
        RejectedKeys(zd_number=REJECTED_ZD),
    )
    event = make_event(zd_number=UNROUTED_ZD, provider_id="ziekenhuis-oost")
    assert await engine.store.accept_event(event, [])


async def _ended(client: httpx.AsyncClient, job_id: str, token: str) -> dict[str, Any]:
    """The job as ``token`` reads it once it no longer runs (polled, with a deadline)."""
    for _ in range(200):
        answer = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not end")


def _by_zd(zd_number: str, **more: Any) -> dict[str, Any]:
    return {"filter": {"zd_number": zd_number}, "reason": "GP called", **more}


async def test_a_job_that_selected_nothing_by_a_zd_number_says_where_it_went(
    engine: Engine, app: EngineApp
) -> None:
    await _went_elsewhere(engine)
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        jobs = {}
        for zd_number in (REJECTED_ZD, UNROUTED_ZD.lower(), NOWHERE_ZD):
            started = await client.post(
                "/api/v1/resend", json=_by_zd(zd_number), headers=bearer(support)
            )
            assert started.status_code == 202, started.text
            assert "elsewhere" not in started.json()  # the start is the job as it starts
            jobs[zd_number.upper()] = await _ended(client, started.json()["id"], support)

        rejected = jobs[REJECTED_ZD]
        assert (rejected["state"], rejected["total"], rejected["results"]) == ("done", 0, [])
        assert rejected["elsewhere"] == {
            "zd_number": REJECTED_ZD,
            "rejected": 1,
            "unrouted": 0,
            "outside_terms": 0,
            "see": [f"/api/v1/rejected?zd_number={REJECTED_ZD}"],
        }
        assert jobs[UNROUTED_ZD]["elsewhere"] == {
            "zd_number": UNROUTED_ZD,
            "rejected": 0,
            "unrouted": 1,
            "outside_terms": 0,
            "see": [f"/api/v1/events?zd_number={UNROUTED_ZD}&unrouted=true"],
        }
        nowhere = jobs[NOWHERE_ZD]["elsewhere"]
        assert (nowhere["rejected"], nowhere["unrouted"], nowhere["see"]) == (0, 0, [])

        # The dry run says it too, at once.
        planned = await client.post(
            "/api/v1/resend", json=_by_zd(REJECTED_ZD, dry_run=True), headers=bearer(support)
        )
        assert planned.status_code == 200, planned.text
        assert planned.json()["elsewhere"]["rejected"] == 1


async def test_the_pointer_is_worked_out_for_the_job_s_reader(
    engine: Engine, app: EngineApp
) -> None:
    """A job started in one cluster, read by a colleague who reads every cluster: the
    colleague is told of the unrouted event, which lies in no cluster; the starter is not."""
    await _went_elsewhere(engine)
    card = await token_for(engine, Grant(Role.RESEND, "CARD"), name="card-support")
    everywhere = await token_for(engine, Grant(Role.RESEND), name="colleague")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        started = await client.post(
            "/api/v1/resend", json=_by_zd(UNROUTED_ZD), headers=bearer(card)
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        as_starter = (await _ended(client, job_id, card))["elsewhere"]
        as_colleague = (await _ended(client, job_id, everywhere))["elsewhere"]
    assert (as_starter["unrouted"], as_starter["see"]) == (0, [])
    assert as_colleague["unrouted"] == 1
    assert as_colleague["see"] == [f"/api/v1/events?zd_number={UNROUTED_ZD}&unrouted=true"]


async def test_a_repeat_with_the_same_key_answers_the_same_job_and_its_pointer(
    engine: Engine, app: EngineApp
) -> None:
    await _went_elsewhere(engine)
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    headers = {**bearer(support), "Idempotency-Key": "nothing-by-zd-1"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        first = await client.post("/api/v1/resend", json=_by_zd(REJECTED_ZD), headers=headers)
        again = await client.post("/api/v1/resend", json=_by_zd(REJECTED_ZD), headers=headers)
        assert (first.status_code, again.status_code) == (202, 202), again.text
        assert again.headers.get("Idempotency-Replayed") == "true"
        assert again.json() == first.json()  # the same job; no second one started
        job = await _ended(client, first.json()["id"], support)
    assert job["elsewhere"]["rejected"] == 1


async def test_a_job_that_selected_something_has_no_pointer(
    engine: Engine, app: EngineApp, referral_data: dict[str, Any]
) -> None:
    await submit(engine, {**referral_data, "zd_number": NOWHERE_ZD})
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        started = await client.post(
            "/api/v1/resend", json=_by_zd(NOWHERE_ZD), headers=bearer(support)
        )
        assert started.status_code == 202, started.text
        job = await _ended(client, started.json()["id"], support)
    assert (job["state"], job["total"]) == ("done", 1)
    assert "elsewhere" not in job


async def test_a_selection_narrowed_by_other_terms_counts_the_messages_they_left_out(
    engine: Engine, app: EngineApp, referral_data: dict[str, Any]
) -> None:
    """By a ZD number whose one message was delivered, and ``status: dead``: the referral did
    become a message, so that is said and pointed at, beside the rejected input of an earlier
    try (which alone would read as its fate)."""
    event = {**referral_data, "zd_number": REJECTED_ZD}
    await submit(engine, event)
    await _went_elsewhere(engine)
    support = await token_for(engine, Grant(Role.RESEND), name="support")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        narrowed = {"filter": {"zd_number": REJECTED_ZD, "status": "dead"}, "reason": "GP called"}
        planned = await client.post(
            "/api/v1/resend", json={**narrowed, "dry_run": True}, headers=bearer(support)
        )
        assert planned.status_code == 200, planned.text
        assert planned.json()["total"] == 0
        assert planned.json()["elsewhere"] == {
            "zd_number": REJECTED_ZD,
            "rejected": 1,
            "unrouted": 0,
            "outside_terms": 1,
            "see": [
                f"/api/v1/messages?zd_number={REJECTED_ZD}",
                f"/api/v1/rejected?zd_number={REJECTED_ZD}",
            ],
        }
        # By the ZD number alone, the selection finds the message: nothing is said elsewhere.
        alone = await client.post(
            "/api/v1/resend", json=_by_zd(REJECTED_ZD, dry_run=True), headers=bearer(support)
        )
        assert alone.json()["total"] == 1 and alone.json().get("elsewhere") is None
