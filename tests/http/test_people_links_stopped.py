"""A link shown before the account was given patient data stops with that change, through the
API (docs/access.md, "Who sees patient data"): ``PUT /api/v1/people/{id}/grants`` says
``links_stopped``, and the old link is refused as a replaced one is."""

from __future__ import annotations

import httpx
import pytest

from integrator.access import Grant, InvitationInvalid, Role
from integrator.engine import Engine
from tests.http.support import api_client, token_for
from tests.http.test_people import accept, audit, grant


async def test_resend_given_to_an_invited_viewer_stops_the_link_an_admin_saw(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    plain = await token_for(engine, Grant(Role.ADMIN), name="plain-admin")
    async with api_client(engine, plain) as admin:
        invited = await admin.post(
            "/api/v1/people", json={"email": "mallory@example.nl", "grants": [grant("viewer")]}
        )
    assert invited.status_code == 201, invited.text
    shown = invited.json()
    assert shown["sent"] is False  # no mail server: shown to the admin without resend
    person_id = shown["person"]

    # Another admin, who holds resend, gives it to the account not yet set up.
    changed = await api.put(
        f"/api/v1/people/{person_id}/grants",
        json={"grants": [grant("viewer"), grant("resend")], "reason": "support"},
    )
    assert changed.status_code == 200, changed.text
    answer = changed.json()
    assert answer["links_stopped"] is True and answer["invitation_expires_at"] is None
    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        await accept(engine, shown["link"])
    [entry] = await audit(engine, "person.grants")
    assert entry.details["links_stopped"] == 1 and shown["link"] not in repr(entry.details)

    # The first admin is not shown a new one; the admin who holds resend is, and it works.
    async with api_client(engine, plain) as admin:
        refused = await admin.post(f"/api/v1/people/{person_id}/invitation")
    assert refused.status_code == 403, refused.text
    again = await api.post(f"/api/v1/people/{person_id}/invitation")
    assert again.status_code == 201, again.text
    await accept(engine, again.json()["link"])

    # A change that gives no new patient data says so, and stops nothing.
    kept = await api.put(
        f"/api/v1/people/{person_id}/grants",
        json={"grants": [grant("resend"), grant("admin")], "reason": "more"},
    )
    assert kept.status_code == 200 and kept.json()["links_stopped"] is False
