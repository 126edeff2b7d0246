"""A token a person made loses the roles that read patient data with its maker (docs/access.md,
"Who may make one"), as an API caller meets it.

Found by an audit: a person who lost ``resend`` (the grant taken away, or the account
deactivated) still read patients through a machine token they had made in the console while
they held it, because the rule ("a token made in the console or through the API holds a role
that reads patient data only where its maker holds it") was only checked when the token was
made. Now it holds at every use: the token keeps its other roles (an upstream system must not
stop when its admin leaves), and the 403 says which role is suspended and why.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrator.access import Grant, Identity, Role
from integrator.engine import Engine
from tests.http.conftest import submit
from tests.http.support import MAKER, api_client
from tests.http.test_people import accept, audit, signed_in

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
VIEWER = Grant(Role.VIEWER)


async def _ada(engine: Engine, *grants: Grant) -> tuple[str, Identity]:
    """ada@example.nl, invited with ``grants`` and signed in to the console: her id and session."""
    link = await engine.access.invite(MAKER, "ada@example.nl", list(grants))
    assert link.link is not None
    codes = await accept(engine, link.link)
    return link.person_id, await signed_in(engine, "ada@example.nl", codes[0])


async def _reads(engine: Engine, token: str, message_id: str) -> tuple[int, int, str]:
    """What ``token`` gets on a patient-data route and on a route without patient data, and
    the patient-data route's refusal, if any."""
    async with api_client(engine, token) as client:
        message = await client.get(f"/api/v1/messages/{message_id}")
        listing = await client.get("/api/v1/messages")
    detail = message.json().get("detail", "") if message.status_code != 200 else ""
    return message.status_code, listing.status_code, detail


def _suspended_names(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {t["name"]: t["suspended"] for t in answer["tokens_suspended"]}


async def test_a_token_made_in_the_console_loses_resend_when_its_maker_does(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    ada_id, ada = await _ada(engine, ADMIN, RESEND)
    bot = await engine.access.create_token(ada, "support-bot", [RESEND, VIEWER])
    assert await _reads(engine, bot.token, message_id) == (200, 200, "")

    taken = await api.post(
        f"/api/v1/people/{ada_id}/roles/resend/deactivate", json={"reason": "moved to sales"}
    )

    assert taken.status_code == 200, taken.text
    assert _suspended_names(taken.json()) == {"support-bot": ["resend@*"]}
    status, listing, detail = await _reads(engine, bot.token, message_id)
    assert (status, listing) == (403, 200)  # no patient data; its viewer role still works
    assert "this token holds resend@*, but it is suspended" in detail
    assert "only where its maker holds it now" in detail
    assert "its maker no longer holds resend for all clusters" in detail
    assert "999990019" not in detail
    [entry] = await audit(engine, "person.role_deactivate")
    assert entry.details["tokens_suspended"] == 1
    assert entry.details["tokens_suspended_ids"] == [bot.id]

    listed = {t["name"]: t for t in (await api.get("/api/v1/tokens")).json()}
    assert listed["support-bot"]["grants_in_force"] == [{"role": "viewer", "cluster": None}]
    [suspended] = listed["support-bot"]["suspended"]
    assert (suspended["role"], suspended["cluster"]) == ("resend", None)
    assert "its maker no longer holds resend" in suspended["reason"]

    given = await api.put(
        f"/api/v1/people/{ada_id}/grants",
        json={"grants": [{"role": "admin"}, {"role": "resend"}], "reason": "back in support"},
    )
    assert given.status_code == 200, given.text
    assert given.json()["tokens_suspended"] == []
    assert await _reads(engine, bot.token, message_id) == (200, 200, "")


async def test_replacing_a_makers_grants_names_the_tokens_that_lose_resend(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    ada_id, ada = await _ada(engine, ADMIN, RESEND)
    bot = await engine.access.create_token(ada, "support-bot", [RESEND, VIEWER])

    changed = await api.put(
        f"/api/v1/people/{ada_id}/grants",
        json={"grants": [{"role": "admin"}], "reason": "no longer in support"},
    )

    assert changed.status_code == 200, changed.text
    assert _suspended_names(changed.json()) == {"support-bot": ["resend@*"]}
    assert (await _reads(engine, bot.token, message_id))[:2] == (403, 200)
    [entry] = await audit(engine, "person.grants")
    assert (entry.details["tokens_suspended"], entry.details["tokens_suspended_ids"]) == (
        1,
        [bot.id],
    )


async def test_a_token_made_through_the_api_with_a_persons_token_loses_resend_with_her(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """Through the API a person acts with a token she made in the console; the machine token
    it makes depends on it, and so on her."""
    message_id = await submit(engine, referral_data)
    ada_id, ada = await _ada(engine, ADMIN, RESEND)
    ada_bot = await engine.access.create_token(ada, "ada-bot", [ADMIN, RESEND, VIEWER])
    async with api_client(engine, ada_bot.token) as ada_api:
        answer = await ada_api.post(
            "/api/v1/tokens",
            json={"name": "api-support", "grants": [{"role": "resend"}, {"role": "viewer"}]},
        )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert await _reads(engine, made["token"], message_id) == (200, 200, "")

    taken = await api.post(
        f"/api/v1/people/{ada_id}/roles/resend/deactivate", json={"reason": "moved to sales"}
    )

    assert taken.status_code == 200, taken.text
    assert _suspended_names(taken.json()) == {"ada-bot": ["resend@*"], "api-support": ["resend@*"]}
    status, listing, detail = await _reads(engine, made["token"], message_id)
    assert (status, listing) == (403, 200)
    assert "the token that made it no longer holds resend" in detail


async def test_deactivating_the_maker_keeps_the_tokens_other_roles_only(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    ada_id, ada = await _ada(engine, ADMIN, RESEND)
    bot = await engine.access.create_token(ada, "support-bot", [RESEND, VIEWER])
    upstream = await engine.access.create_token(ada, "upstream", [Grant(Role.INTAKE)])
    assert await _reads(engine, bot.token, message_id) == (200, 200, "")

    gone = await api.post(f"/api/v1/people/{ada_id}/deactivate", json={"reason": "left"})

    assert gone.status_code == 200, gone.text
    answer = gone.json()
    assert _suspended_names(answer) == {"support-bot": ["resend@*"]}
    kept = {t["name"]: t for t in answer["machine_tokens"]}
    assert (kept["support-bot"]["grants"], kept["support-bot"]["suspended"]) == (
        ["resend@*", "viewer@*"],
        ["resend@*"],
    )
    assert (kept["upstream"]["id"], kept["upstream"]["suspended"]) == (upstream.id, [])
    status, listing, detail = await _reads(engine, bot.token, message_id)
    assert (status, listing) == (403, 200)
    assert "its maker's account is deactivated" in detail
    [entry] = await audit(engine, "person.deactivate")
    assert entry.details["machine_tokens_kept"] == 2
    assert (entry.details["tokens_suspended"], entry.details["tokens_suspended_ids"]) == (
        1,
        [bot.id],
    )


async def test_a_token_made_on_the_servers_cli_is_bound_to_nobody(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    ada_id, _ = await _ada(engine, ADMIN, RESEND)
    cli_made = await engine.access.create_token(MAKER, "anna-support", [RESEND, VIEWER])

    taken = await api.post(
        f"/api/v1/people/{ada_id}/roles/resend/deactivate", json={"reason": "moved"}
    )
    gone = await api.post(f"/api/v1/people/{ada_id}/deactivate", json={"reason": "left"})

    assert taken.json()["tokens_suspended"] == gone.json()["tokens_suspended"] == []
    assert await _reads(engine, cli_made.token, message_id) == (200, 200, "")
    stored = await engine.store.get_token(token_id=cli_made.id)
    assert stored is not None and stored.maker_person_id is None
