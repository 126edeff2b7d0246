"""A token a person made holds a role that reads patient data only where that person holds it
NOW, at every use (docs/access.md, "Who may make one").

Found by an audit: the rule was checked only when the token was made, so a person who lost
``resend`` (the grant taken away, or the account deactivated) still read patients through a
machine's token they had made in the console. Now such a role is suspended on the token while
its maker lacks it; the token keeps its other roles (an upstream system must not stop when its
admin leaves), the change's answer and audit entry name the tokens that lost it, and listings
show the suspended grant with why. A token made on the server's CLI is bound to nobody.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from integrator.access import AccessService, Grant, Identity, IdentityKind, Permission, Role, totp
from integrator.access.permissions import SuspendedGrant
from integrator.clock import ManualClock, SystemClock
from integrator.clusters import ClusterScope, NotPermitted
from integrator.store import Store
from integrator.store.tables import grants as grants_table
from tests.access.conftest import LOCAL, PASSWORD, login_as, onboard
from tests.store.conftest import Site
from tests.store.helpers import raw_connection

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
RESEND_CARD = Grant(Role.RESEND, "CARD")
RESEND_LAB = Grant(Role.RESEND, "LAB")
VIEWER = Grant(Role.VIEWER)
INTAKE = Grant(Role.INTAKE)


async def _ada(service: AccessService, clock: ManualClock, *grants: Grant) -> Identity:
    member = await onboard(service, clock, "ada@example.nl", *grants)
    return await login_as(service, clock, member)


async def _as(service: AccessService, raw: str) -> Identity:
    identity = await service.authenticate_token(raw)
    assert identity is not None  # it works, whatever it may do
    return identity


async def _audit(store: Store, action: str) -> Any:
    [entry] = [e for e in await store.list_audit() if e.action == action]
    return entry


async def test_a_role_taken_from_the_maker_is_suspended_on_the_tokens_they_made(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _ada(service, clock, ADMIN, RESEND_CARD, RESEND_LAB)
    bot = await service.create_token(ada, "support-bot", [RESEND_CARD, RESEND_LAB, VIEWER])
    stored = await store.get_token(token_id=bot.id)
    assert stored is not None and stored.maker_person_id == ada.id
    before = await _as(service, bot.token)
    assert before.may(Permission.PATIENT_DATA_READ, "CARD")

    view = await service.deactivate_role(LOCAL, "ada@example.nl", Role.RESEND, "CARD", reason="x")

    after = await _as(service, bot.token)
    assert not after.may(Permission.PATIENT_DATA_READ, "CARD")
    assert after.may(Permission.PATIENT_DATA_READ, "LAB")  # where she still holds it
    assert after.may(Permission.MESSAGES_READ)  # viewer: not hers to take
    [held] = after.suspended_for(Permission.PATIENT_DATA_READ)
    assert held.grant == RESEND_CARD
    assert str(held.reason) == (
        "resend reads patient data, and a token made in the console or through the API holds "
        "it only where its maker holds it now: its maker no longer holds resend for cluster CARD"
    )
    assert getattr(held.reason, "code", None) == "access.token_suspended_maker"
    assert view.to_json()["tokens_suspended"] == [
        {"id": bot.id, "name": "support-bot", "suspended": ["resend@CARD"]}
    ]
    entry = await _audit(store, "person.role_deactivate")
    assert entry.details == {
        "grant": "resend@CARD",
        "tokens_suspended": 1,
        "tokens_suspended_ids": [bot.id],
    }
    [listed] = await service.list_tokens(LOCAL)
    assert listed.status == "active"
    assert listed.in_force == (RESEND_LAB, VIEWER)
    assert [s.grant for s in listed.suspended] == [RESEND_CARD]
    shown = listed.to_json()
    assert shown["grants_in_force"] == [
        {"role": "resend", "cluster": "LAB"},
        {"role": "viewer", "cluster": None},
    ]
    assert shown["suspended"][0]["reason"] == str(held.reason)

    # Given back, it is in force again: the token never lost the grant, only its use.
    await service.set_grants(
        LOCAL, "ada@example.nl", [ADMIN, RESEND_CARD, RESEND_LAB], reason="back"
    )
    assert (await _as(service, bot.token)).may(Permission.PATIENT_DATA_READ, "CARD")


async def test_replacing_the_makers_grants_names_what_it_took_from_their_tokens(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _ada(service, clock, ADMIN, RESEND)
    bot = await service.create_token(ada, "support-bot", [RESEND, VIEWER])
    upstream = await service.create_token(ada, "upstream", [INTAKE])

    view = await service.set_grants(LOCAL, "ada@example.nl", [ADMIN], reason="sales now")

    assert [(t.token.name, t.lost) for t in view.tokens_suspended or ()] == [
        ("support-bot", (RESEND,))
    ]
    entry = await _audit(store, "person.grants")
    assert (entry.details["tokens_suspended"], entry.details["tokens_suspended_ids"]) == (
        1,
        [bot.id],
    )
    assert not (await _as(service, bot.token)).may_somewhere(Permission.PATIENT_DATA_READ)
    assert (await _as(service, upstream.token)).may(Permission.EVENTS_SUBMIT)


async def test_deactivating_the_maker_keeps_their_tokens_other_roles_only(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _ada(service, clock, ADMIN, RESEND)
    bot = await service.create_token(ada, "support-bot", [ADMIN, RESEND, VIEWER])
    upstream = await service.create_token(ada, "upstream", [INTAKE])
    bot_identity = await _as(service, bot.token)
    child = await service.create_token(bot_identity, "support-child", [RESEND])

    done = await service.deactivate_person(LOCAL, "ada@example.nl", reason="left")

    after = await _as(service, bot.token)
    assert not after.may_somewhere(Permission.PATIENT_DATA_READ)
    assert after.may(Permission.MESSAGES_READ)
    [held] = after.suspended
    assert held.reason.endswith("its maker's account is deactivated")
    assert (await _as(service, upstream.token)).may(Permission.EVENTS_SUBMIT)
    # A token the token made holds resend only where its maker does: nowhere now.
    orphan = await _as(service, child.token)
    assert orphan.grants == frozenset()
    assert "the token that made it no longer holds resend" in orphan.suspended[0].reason

    assert {t.token.name: t.lost for t in done.tokens_suspended} == {
        "support-bot": (RESEND,),
        "support-child": (RESEND,),
    }
    shown = done.to_json()
    kept = {t["name"]: t["suspended"] for t in shown["machine_tokens"]}
    assert kept == {"support-bot": ["resend@*"], "upstream": []}
    entry = await _audit(store, "person.deactivate")
    assert entry.details["machine_tokens_kept"] == 2
    assert entry.details["tokens_suspended"] == 2
    assert sorted(entry.details["tokens_suspended_ids"]) == sorted([bot.id, child.id])


async def test_a_token_made_on_the_servers_cli_is_bound_to_nobody(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _ada(service, clock, ADMIN, RESEND)
    cli_made = await service.create_token(LOCAL, "anna-support", [RESEND])
    stored = await store.get_token(token_id=cli_made.id)
    assert stored is not None and stored.maker_person_id is None

    taken = await service.deactivate_role(LOCAL, "ada@example.nl", Role.RESEND, None, reason="x")
    gone = await service.deactivate_person(LOCAL, "ada@example.nl", reason="left")

    assert taken.tokens_suspended == () and gone.tokens_suspended == ()
    anna = await _as(service, cli_made.token)
    assert anna.may(Permission.PATIENT_DATA_READ) and anna.suspended == ()
    assert ada.id not in {t.maker_person_id for t in await store.list_tokens()}


async def test_a_token_of_ones_own_shows_the_grants_its_owner_lost_as_suspended(
    service: AccessService, clock: ManualClock
) -> None:
    """Not new (a token of one's own always acted only within its owner's grants), but now
    shown, so a 403 does not puzzle its owner."""
    member = await onboard(service, clock, "bo@example.nl", RESEND, VIEWER)
    bo = await login_as(service, clock, member)
    own = await service.create_token(bo, "bo-cli", [RESEND, VIEWER])
    assert own.owner_id == bo.id

    view = await service.deactivate_role(LOCAL, "bo@example.nl", Role.RESEND, None, reason="x")

    assert [t.token.name for t in view.tokens_suspended or ()] == ["bo-cli"]
    [held] = (await _as(service, own.token)).suspended
    assert held.grant == RESEND and "its owner no longer holds resend@*" in held.reason


def test_the_cli_names_the_tokens_a_taken_role_is_suspended_on(
    cli: Any, env: dict[str, str]
) -> None:
    invited = cli(
        "users", "invite", "ada@example.nl", "--role", "admin", "--role", "resend", "--json"
    )
    assert invited.exit_code == 0, invited.output
    secret = json.loads(invited.stdout)["link"].split("#", 1)[1]

    async def ada_makes_a_token() -> str:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            access = AccessService(store, SystemClock())
            start = await access.begin_accept(secret)
            code = totp.code_at(start.totp_secret, datetime.now(UTC))
            codes = (await access.finish_accept(secret, PASSWORD, code)).recovery_codes
            session = await access.login("ada@example.nl", PASSWORD, codes[0])
            ada = await access.authenticate_session(session.session)
            assert ada is not None
            return (await access.create_token(ada, "support-bot", [RESEND, VIEWER])).id

    made_id = asyncio.run(ada_makes_a_token())
    cli("tokens", "create", "anna-support", "--role", "resend")

    taken = cli("users", "deactivate", "ada@example.nl", "--role", "resend", "--reason", "moved")

    assert taken.exit_code == 0, taken.output
    assert "1 token ada@example.nl made lose grants with it" in taken.stdout
    assert f"{made_id}  support-bot  suspended: resend@*" in taken.stdout
    as_json = json.loads(
        cli("users", "grant", "ada@example.nl", "--role", "admin", "--reason", "x", "--json").stdout
    )
    assert as_json["tokens_suspended"] == []  # nothing more to take
    listed = cli("tokens", "list")
    assert listed.exit_code == 0, listed.output
    assert "resend@* (suspended)" in listed.stdout
    assert "support-bot: resend@* is suspended: resend reads patient data" in listed.stdout
    rows = {row["name"]: row for row in json.loads(cli("tokens", "list", "--json").stdout)}
    assert rows["support-bot"]["grants_in_force"] == [{"role": "viewer", "cluster": None}]
    assert rows["anna-support"]["suspended"] == []  # the CLI's token: bound to nobody

    gone = cli("users", "deactivate", "ada@example.nl", "--reason", "left")
    assert gone.exit_code == 0, gone.output
    assert "support-bot  resend@* (suspended), viewer@*" in gone.stdout


def test_a_refusal_in_a_cluster_names_the_suspended_grant_that_would_carry_it() -> None:
    """A token that still acts with ``resend`` elsewhere gets past the route's check; in the
    cluster where it is suspended, the refusal says why (the API answers it as 403)."""
    why = "resend reads patient data, and …: its maker no longer holds resend for cluster CARD"
    token = Identity(
        kind=IdentityKind.TOKEN,
        id="t-1",
        display="token:support-bot",
        grants=frozenset({VIEWER, RESEND_LAB}),
        suspended=(SuspendedGrant(RESEND_CARD, why),),
    )
    with pytest.raises(NotPermitted) as refused:
        ClusterScope(token, Permission.MESSAGES_RESEND).check(["CARD"])
    assert str(refused.value) == (
        "this needs the messages.resend permission in cluster CARD; this token holds "
        f"resend@CARD, but it is suspended: {why}"
    )
    ClusterScope(token, Permission.MESSAGES_RESEND).check(["LAB"])  # in force there


async def test_a_one_cluster_intake_given_before_that_was_refused_is_shown_suspended(
    service: AccessService, store: Store, site: Site
) -> None:
    """``intake@CARD`` is refused when given now; a token given it before holds it still, and
    it was refused at every use without a word. Listings show it suspended, saying why, and
    the token acts without it, with its other grants."""
    made = await service.create_token(LOCAL, "card-platform", [Grant(Role.VIEWER, "CARD")])
    async with raw_connection(site) as conn:  # as the store of an earlier version left it
        await conn.execute(
            insert(grants_table).values(
                token_id=made.id, role="intake", cluster="CARD", created_at=datetime.now(UTC)
            )
        )
        await conn.commit()
    [view] = await service.list_tokens(LOCAL)
    assert view.grants == (Grant(Role.VIEWER, "CARD"), Grant(Role.INTAKE, "CARD"))
    [held] = view.suspended
    assert held.grant == Grant(Role.INTAKE, "CARD")
    assert held.reason.code == "access.token_suspended_one_cluster"  # type: ignore[attr-defined]
    assert "intake acts for all clusters only" in str(held.reason)
    identity = await _as(service, made.token)
    assert identity.may(Permission.MESSAGES_READ, "CARD")
    assert not identity.may(Permission.EVENTS_SUBMIT, "CARD")
