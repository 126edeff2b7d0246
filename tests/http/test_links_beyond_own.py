"""An ``admin`` token reads no patient data through a person's link (docs/access.md, "Who sees
patient data").

The audit's two routes, as an API caller met them with no mail server set: (A) invite an
address of one's own with ``resend`` and accept the link from the answer; (B) reset a support
colleague's second factor, take the setup link from the answer, choose her password and read
patients as her. Both are refused now, and so are sending an invitation again and giving
``resend`` with the grants route.
"""

from __future__ import annotations

import httpx

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import api_client, token_for
from tests.http.test_people import accept, audit, grant


async def test_an_admin_token_gets_no_link_or_grant_that_reads_patient_data(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    support = await api.post(
        "/api/v1/people", json={"email": "anna@example.nl", "grants": [grant("resend", "CARD")]}
    )
    assert support.status_code == 201, support.text
    anna = support.json()["person"]
    await accept(engine, support.json()["link"])
    pending = await api.post(
        "/api/v1/people", json={"email": "bert@example.nl", "grants": [grant("resend")]}
    )
    bert = pending.json()["person"]
    viewer = await api.post(
        "/api/v1/people", json={"email": "carla@example.nl", "grants": [grant("viewer")]}
    )
    carla = viewer.json()["person"]

    bot = await token_for(engine, Grant(Role.ADMIN), name="admin-bot")
    async with api_client(engine, bot) as admin:
        # A: no invitation with resend, so no link to accept.
        invited = await admin.post(
            "/api/v1/people", json={"email": "mallory.x@x.nl", "grants": [grant("resend")]}
        )
        assert invited.status_code == 403, invited.text
        assert "resend reads patient data" in invited.json()["detail"]
        assert "link" not in invited.json()
        # B: no setup link for Anna, and nothing reset.
        reset = await admin.post(f"/api/v1/people/{anna}/second-factor/reset", json={})
        assert reset.status_code == 403, reset.text
        detail = reset.json()["detail"]
        assert "the link is not shown to you" in detail and "anna@" not in detail
        assert "INTEGRATOR_SMTP_HOST" in detail and "integrator users reset-2fa" in detail
        # Nor a new invitation link for Bert, invited with resend by someone who holds it.
        again = await admin.post(f"/api/v1/people/{bert}/invitation")
        assert again.status_code == 403 and "integrator users reinvite" in again.json()["detail"]
        # Nor resend through the grants route.
        given = await admin.put(
            f"/api/v1/people/{carla}/grants",
            json={"grants": [grant("viewer"), grant("resend")], "reason": "support"},
        )
        assert given.status_code == 403, given.text
        # What reads no patient data goes on as before.
        plain = await admin.post(f"/api/v1/people/{carla}/invitation")
        assert plain.status_code == 201 and "link" in plain.json()

    people = {p["email"]: p for p in (await api.get("/api/v1/people")).json()}
    assert "mallory.x@x.nl" not in people
    assert people["anna@example.nl"]["status"] == "active"
    assert people["carla@example.nl"]["grants"] == [grant("viewer")]
    assert await audit(engine, "person.reset_second_factor") == []
    assert [e.target for e in await audit(engine, "person.reinvite")] == ["person:carla@example.nl"]
