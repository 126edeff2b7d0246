"""Tokens made through the HTTP API (docs/access.md, "Who may make one", "Not with a token").

The audit's findings, as an API caller meets them: an ``admin@*`` token made a ``resend`` token
and read patients with it; a token's successors went on working after it was revoked. Now a
role that reads patient data goes onto a token only where its maker holds it, and a token made
by a token stops with it.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.conftest import BSN, submit
from tests.http.support import MAKER, api_client, token_for
from tests.http.test_people import accept, signed_in

ADMIN = Grant(Role.ADMIN)


def grant(role: str, cluster: str | None = None) -> dict[str, Any]:
    return {"role": role, "cluster": cluster}


async def made(client: httpx.AsyncClient, name: str, *grants: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/api/v1/tokens", json={"name": name, "grants": list(grants)})
    assert answer.status_code == 201, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


async def test_an_admin_token_cannot_make_a_token_that_reads_patient_data(
    engine: Engine,
) -> None:
    bot = await token_for(engine, ADMIN, name="admin-bot")
    async with api_client(engine, bot) as admin:
        for grants in ([grant("resend")], [grant("intake"), grant("resend", "CARD")]):
            refused = await admin.post(
                "/api/v1/tokens", json={"name": "upstream", "grants": grants}
            )
            assert refused.status_code == 403, refused.text
            detail = refused.json()["detail"]
            assert "resend reads patient data" in detail
            assert "only where its maker holds it" in detail
        intake = await made(admin, "upstream", grant("intake"), grant("metrics"))
    [bot_row] = [t for t in await engine.store.list_tokens() if t.name == "admin-bot"]
    assert intake["maker_token"] == bot_row.id
    assert {t.name for t in await engine.store.list_tokens()} == {"admin-bot", "upstream"}


async def test_a_token_holding_resend_may_give_it_within_its_own_clusters(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    bot = await token_for(engine, ADMIN, Grant(Role.RESEND, "CARD"), name="support-bot")
    async with api_client(engine, bot) as maker:
        everywhere = await maker.post(
            "/api/v1/tokens", json={"name": "wide", "grants": [grant("resend")]}
        )
        assert everywhere.status_code == 403
        card = await made(maker, "card-support", grant("resend", "CARD"))
    async with api_client(engine, card["token"]) as support:
        found = await support.post("/api/v1/messages/search", json={"bsn": BSN})
        assert found.status_code == 200, found.text
        assert (await support.get(f"/api/v1/messages/{message_id}")).status_code == 200


async def test_tokens_made_by_a_revoked_token_stop_with_it(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """admin-bot made api-made (admin@*), which made child2: revoking admin-bot stops both."""
    bot = await token_for(engine, ADMIN, name="admin-bot")
    async with api_client(engine, bot) as admin_bot:
        api_made = await made(admin_bot, "api-made", grant("admin"))
    async with api_client(engine, api_made["token"]) as second:
        child2 = await made(second, "child2", grant("intake"))
        async with api_client(engine, child2["token"]) as third:
            assert (await third.get("/api/v1/messages")).status_code == 403  # works, no role
            [bot_row] = [t for t in await engine.store.list_tokens() if t.name == "admin-bot"]
            revoked = await api.delete(
                f"/api/v1/tokens/{bot_row.id}", headers={"x-integrator-reason": "leaked"}
            )
            assert revoked.status_code == 200, revoked.text
            answer = revoked.json()
            assert (answer["status"], answer["dependent_tokens"]) == ("revoked", 2)
            assert sorted(t["name"] for t in answer["stopped"]) == ["api-made", "child2"]
            assert (await second.get("/api/v1/tokens")).status_code == 401
            assert (await third.get("/api/v1/messages")).status_code == 401
    listed = {t["name"]: t["status"] for t in (await api.get("/api/v1/tokens")).json()}
    assert (listed["api-made"], listed["child2"]) == ("stopped", "stopped")
    [revoke] = [a for a in await engine.store.list_audit(limit=1000) if a.action == "token.revoke"]
    assert revoke.details["dependent_tokens"] == 2


async def test_a_token_made_by_a_token_may_not_outlive_it(engine: Engine) -> None:
    bot = await token_for(engine, ADMIN, name="admin-bot")  # 90 days, made just now
    async with api_client(engine, bot) as admin:
        longer = await admin.post(
            "/api/v1/tokens",
            json={"name": "longer", "grants": [grant("intake")], "expires_in_days": 730},
        )
        assert longer.status_code == 422, longer.text
        detail = longer.json()["detail"]
        [bot_row] = [t for t in await engine.store.list_tokens() if t.name == "admin-bot"]
        assert detail.startswith("expires_in_days: at most until ")
        assert bot_row.expires_at.isoformat(timespec="seconds") in detail
        defaulted = await made(admin, "defaulted", grant("intake"))
    assert defaulted["expires_at"] == bot_row.expires_at.isoformat()
    assert "longer" not in {t.name for t in await engine.store.list_tokens()}


async def test_deactivating_a_person_answers_with_the_machine_tokens_they_made(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    link = await engine.access.invite(MAKER, "ada@example.nl", [ADMIN])
    assert link.link is not None
    codes = await accept(engine, link.link)
    ada = await signed_in(engine, "ada@example.nl", codes[0])
    upstream = await engine.access.create_token(ada, "upstream", [Grant(Role.INTAKE)])

    gone = await api.post(
        f"/api/v1/people/{link.person_id}/deactivate", json={"reason": "left the team"}
    )

    assert gone.status_code == 200, gone.text
    answer = gone.json()
    assert answer["status"] == "deactivated"
    assert answer["machine_tokens"] == [
        {
            "id": upstream.id,
            "name": "upstream",
            "grants": ["intake@*"],
            "suspended": [],
            "expires_at": upstream.expires_at.isoformat(),
        }
    ]
    async with api_client(engine, upstream.token) as machine:
        assert (await machine.get("/api/v1/messages")).status_code == 403  # still works
    [entry] = [
        a for a in await engine.store.list_audit(limit=1000) if a.action == "person.deactivate"
    ]
    assert entry.details["machine_tokens_kept"] == 1
