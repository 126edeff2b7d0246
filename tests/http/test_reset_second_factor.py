"""Resetting a person's second factor through the HTTP API (docs/access.md).

A real engine and store; the person accepts and signs in with the service, as the console does.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integrator.access import Grant, LoginRefused, Role
from integrator.engine import Engine
from tests.http.support import add_lab_cluster, api_client, token_for
from tests.http.test_people import accept, audit, grant, secret_of, signed_in

EMAIL = "anna@example.nl"


def _reset(person_id: str) -> str:
    return f"/api/v1/people/{person_id}/second-factor/reset"


async def _active(
    api: httpx.AsyncClient, engine: Engine, email: str, *grants: dict[str, Any]
) -> tuple[str, list[str]]:
    """An accepted person: their id and recovery codes."""
    invited = await api.post("/api/v1/people", json={"email": email, "grants": list(grants)})
    assert invited.status_code == 201, invited.text
    return invited.json()["person"], await accept(engine, invited.json()["link"])


async def test_an_admin_resets_a_second_factor_and_the_new_link_sets_up_a_new_one(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    person_id, codes = await _active(api, engine, EMAIL, grant("resend", "CARD"))
    session = (await engine.access.login(EMAIL, "lange zin als wachtwoord", codes[0])).session
    assert await engine.access.authenticate_session(session) is not None

    done = await api.post(_reset(person_id), json={"reason": "phone lost"})
    assert done.status_code == 201, done.text
    shown = done.json()
    assert (shown["email"], shown["person"], shown["sent"]) == (EMAIL, person_id, False)
    # At once: her session is gone and her recovery codes (and TOTP secret) open nothing.
    assert await engine.access.authenticate_session(session) is None
    with pytest.raises(LoginRefused):
        await engine.access.login(EMAIL, "lange zin als wachtwoord", codes[1])
    person = (await api.get(f"/api/v1/people/{person_id}")).json()
    assert person["status"] == "invited" and person["grants"] == [grant("resend", "CARD")]

    # The link sets up a new factor; she signs in with it and keeps her grants.
    new_codes = await accept(engine, shown["link"])
    identity = await signed_in(engine, EMAIL, new_codes[0])
    assert identity.grants == {Grant(Role.RESEND, "CARD")}

    [entry] = await audit(engine, "person.reset_second_factor")
    assert entry.actor.startswith("token:test-") and entry.target == f"person:{EMAIL}"
    assert entry.reason == "phone lost" and entry.details["source"] == "127.0.0.1"
    assert entry.details["sessions_ended"] == 1 and entry.details["recovery_codes_retired"] == 9
    assert secret_of(shown["link"]) not in repr(await engine.store.list_audit(limit=1000))

    # Without a body too; while it is pending, a second reset names the way on.
    assert (await api.post(_reset(person_id))).status_code == 201
    pending = await api.post(_reset(person_id), json={"reason": "again"})
    assert pending.status_code == 422
    assert pending.json() == {  # without the address: no error echoes
        "detail": "this person is invited and has no second factor yet: send the "
        "invitation again (reinvite) for a new link"
    }


async def test_refusals_name_the_rule_and_change_nothing(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    await add_lab_cluster(engine)
    card, _ = await _active(api, engine, "carla@example.nl", grant("viewer", "CARD"))
    both, _ = await _active(
        api, engine, "bram@example.nl", grant("viewer", "CARD"), grant("viewer", "LAB")
    )
    gone, _ = await _active(api, engine, "dirk@example.nl", grant("viewer"))
    left = await api.post(f"/api/v1/people/{gone}/deactivate", json={"reason": "left"})
    assert left.status_code == 200

    deactivated = await api.post(_reset(gone))
    assert deactivated.status_code == 422
    assert deactivated.json() == {  # without the address: no error echoes
        "detail": "this account is deactivated: only an active account has a second factor to reset"
    }
    for body, field in (({"reason": "x" * 1001}, "reason"), ({"actor": "x"}, "actor")):
        bad = await api.post(_reset(card), json=body)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", field]

    lab_admin = await token_for(engine, Grant(Role.ADMIN, "LAB"), name="lab-admin")
    viewer = await token_for(engine, Grant(Role.VIEWER), name="a-viewer")
    async with api_client(engine, lab_admin) as lab, api_client(engine, viewer) as looker:
        outside = await lab.post(_reset(card))
        assert outside.status_code == 404
        assert outside.json() == {"detail": "no person with that id"}
        whole = await lab.post(_reset(both))
        assert whole.status_code == 403 and "outside your clusters" in whole.json()["detail"]
        no_role = await looker.post(_reset(card))
        assert no_role.status_code == 403 and "people.manage" in no_role.json()["detail"]
    nobody = await api.post(_reset("00000000-0000-4000-8000-000000000000"))
    assert nobody.status_code == 404

    assert await audit(engine, "person.reset_second_factor") == []
    people = {p["email"]: p["status"] for p in (await api.get("/api/v1/people")).json()}
    assert people["carla@example.nl"] == people["bram@example.nl"] == "active"
