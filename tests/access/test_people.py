"""Admins manage people and grants, only inside their own clusters; the store's use-once steps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from integrator.access import (
    AccessDenied,
    AccessService,
    BadAccessInput,
    Grant,
    Identity,
    Role,
    UnknownAccount,
)
from integrator.clock import ManualClock
from integrator.store import NewInvitation, Store
from tests.access.conftest import LOCAL, login_as, onboard

CARD_ADMIN = Grant(Role.ADMIN, "CARD")


@pytest.fixture
async def card_admin(service: AccessService, clock: ManualClock) -> Identity:
    member = await onboard(service, clock, "card-admin@example.nl", CARD_ADMIN)
    return await login_as(service, clock, member)


async def test_a_cluster_admin_gives_grants_in_that_cluster_only(
    service: AccessService, card_admin: Identity
) -> None:
    await service.invite(card_admin, "anna@example.nl", [Grant(Role.VIEWER, "CARD")])
    for outside in (Grant(Role.VIEWER, "ONCO"), Grant(Role.VIEWER), Grant(Role.ADMIN)):
        with pytest.raises(AccessDenied, match=str(outside).replace("*", r"\*")):
            await service.invite(card_admin, "bert@example.nl", [outside])


async def test_a_cluster_admin_sees_only_people_and_grants_reaching_that_cluster(
    service: AccessService, card_admin: Identity
) -> None:
    await service.invite(
        LOCAL, "anna@example.nl", [Grant(Role.RESEND, "CARD"), Grant(Role.RESEND, "ONCO")]
    )
    await service.invite(LOCAL, "bert@example.nl", [Grant(Role.VIEWER, "ONCO")])
    await service.invite(LOCAL, "carla@example.nl", [Grant(Role.VIEWER)])
    seen = {view.email: view.grants for view in await service.list_people(card_admin)}
    assert seen == {
        "anna@example.nl": (Grant(Role.RESEND, "CARD"),),
        "card-admin@example.nl": (CARD_ADMIN,),
        "carla@example.nl": (Grant(Role.VIEWER),),  # all clusters reach CARD too
    }
    everyone = {view.email for view in await service.list_people(LOCAL)}
    assert "bert@example.nl" in everyone


async def test_listing_people_needs_the_admin_role(
    service: AccessService, clock: ManualClock
) -> None:
    member = await onboard(service, clock, "anna@example.nl", Grant(Role.VIEWER))
    anna = await login_as(service, clock, member)
    with pytest.raises(AccessDenied):
        await service.list_people(anna)
    with pytest.raises(AccessDenied):
        await service.invite(anna, "bert@example.nl", [Grant(Role.VIEWER)])


async def test_set_grants_leaves_other_clusters_alone(
    service: AccessService, store: Store, card_admin: Identity
) -> None:
    await service.invite(
        LOCAL, "anna@example.nl", [Grant(Role.RESEND, "CARD"), Grant(Role.RESEND, "ONCO")]
    )
    view = await service.set_grants(
        card_admin, "anna@example.nl", [Grant(Role.VIEWER, "CARD")], reason="moved to viewing"
    )
    assert view.grants == (Grant(Role.VIEWER, "CARD"),)
    assert view.inactive_grants == (Grant(Role.RESEND, "CARD"),)
    person = await store.get_person(email="anna@example.nl")
    assert person is not None
    assert sorted(person.active_grants, key=str) == [("resend", "ONCO"), ("viewer", "CARD")]
    [entry] = [
        e
        for e in await store.list_audit(target="person:anna@example.nl")
        if e.action == "person.grants"
    ]
    assert entry.actor == "person:card-admin@example.nl"
    assert entry.details == {"added": ["viewer@CARD"], "removed": ["resend@CARD"]}
    with pytest.raises(BadAccessInput, match="--role: "):
        await service.set_grants(LOCAL, "anna@example.nl", [], reason="why")


async def test_deactivating_an_account_needs_an_admin_wherever_it_reaches(
    service: AccessService, card_admin: Identity
) -> None:
    await service.invite(
        LOCAL, "anna@example.nl", [Grant(Role.RESEND, "CARD"), Grant(Role.RESEND, "ONCO")]
    )
    with pytest.raises(AccessDenied, match="outside your clusters") as outside:
        await service.deactivate_person(card_admin, "anna@example.nl", reason="why")
    assert "anna" not in str(outside.value)  # no error echoes the address
    await service.deactivate_role(card_admin, "anna@example.nl", Role.RESEND, "CARD", reason="why")
    with pytest.raises(AccessDenied):
        await service.deactivate_role(
            card_admin, "anna@example.nl", Role.RESEND, "ONCO", reason="why"
        )
    await service.deactivate_person(LOCAL, "anna@example.nl", reason="why")
    with pytest.raises(BadAccessInput, match="deactivated already") as again:
        await service.deactivate_person(LOCAL, "anna@example.nl", reason="why")
    assert "anna" not in str(again.value)  # no error echoes the address
    with pytest.raises(BadAccessInput, match="the account is deactivated"):
        await service.deactivate_role(LOCAL, "anna@example.nl", Role.VIEWER, None, reason="why")
    with pytest.raises(UnknownAccount):
        await service.deactivate_person(LOCAL, "nobody@example.nl", reason="why")


async def test_a_deactivated_accounts_roles_stay_as_they_were_when_it_was_deactivated(
    service: AccessService, store: Store
) -> None:
    """Its grants are the record of what it could do until then, in force nowhere: taking one
    away afterwards changed that record and was audited as if it did something."""
    await service.invite(LOCAL, "anna@example.nl", [Grant(Role.RESEND, "CARD")])
    await service.deactivate_person(LOCAL, "anna@example.nl", reason="left")
    entries = len(await store.list_audit(limit=1000))
    with pytest.raises(BadAccessInput) as refused:
        await service.deactivate_role(LOCAL, "anna@example.nl", Role.RESEND, "CARD", reason="x")
    assert str(refused.value) == (
        "cannot take a role away from this person: the account is deactivated, and its "
        "roles stay as they were then, in force nowhere; nothing was changed"
    )
    assert refused.value.code == "access.deactivated_roles_kept"
    [anna] = [p for p in await service.list_people(LOCAL) if p.email == "anna@example.nl"]
    assert [str(g) for g in anna.grants] == ["resend@CARD"]
    assert len(await store.list_audit(limit=1000)) == entries


async def test_a_role_taken_away_without_its_cluster_names_the_grants_held(
    service: AccessService,
) -> None:
    """'holds no active grant viewer@*' alone did not say that viewer@CARD is held, and is
    taken away by naming CARD."""
    await service.invite(LOCAL, "new1@example.nl", [Grant(Role.VIEWER, "CARD")])
    with pytest.raises(BadAccessInput) as refused:
        await service.deactivate_role(LOCAL, "new1@example.nl", Role.VIEWER, None, reason="x")
    assert str(refused.value) == (
        "this person holds no active grant viewer@*; of viewer they hold viewer@CARD: "
        "name its cluster"
    )
    assert refused.value.code == "access.no_such_grant_held"


# -- the store's use-once steps, raced ----------------------------------------------------------


async def _invited(store: Store, clock: ManualClock) -> tuple[str, NewInvitation]:
    invitation = NewInvitation(
        id="inv-1",
        token_hash="a" * 64,
        created_by="local:piet",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=7),
    )
    await store.add_person(
        "p-1",
        email="anna@example.nl",
        name="Anna",
        grant_specs=[("viewer", None)],
        invitation=invitation,
    )
    return "p-1", invitation


async def test_racing_attempts_get_one_number_each_and_none_past_the_lock(
    store: Store, clock: ManualClock
) -> None:
    person_id, _ = await _invited(store, clock)
    until = clock.now() + timedelta(minutes=15)
    numbers = await asyncio.gather(
        *(
            store.reserve_login_attempt(
                person_id, now=clock.now(), max_failures=5, lock_until=until
            )
            for _ in range(20)
        )
    )
    assert sorted(n for n in numbers if n is not None) == [1, 2, 3, 4, 5]
    assert numbers.count(None) == 15


async def test_an_invitation_completes_once_even_when_raced(
    store: Store, clock: ManualClock
) -> None:
    person_id, invitation = await _invited(store, clock)

    async def complete(code_hash: str) -> bool:
        return await store.complete_invitation(
            invitation.id,
            person_id,
            password_hash="$argon2id$x",
            totp_step=1,
            recovery_code_hashes=[code_hash],
            now=clock.now(),
        )

    results = await asyncio.gather(complete("b" * 64), complete("c" * 64))
    assert sorted(results) == [False, True]
    assert await store.unused_recovery_codes(person_id) == 1  # the loser wrote nothing


async def test_an_expired_invitation_does_not_complete(store: Store, clock: ManualClock) -> None:
    person_id, invitation = await _invited(store, clock)
    done = await store.complete_invitation(
        invitation.id,
        person_id,
        password_hash="$argon2id$x",
        totp_step=1,
        recovery_code_hashes=[],
        now=invitation.expires_at,
    )
    assert not done
    person = await store.get_person(person_id=person_id)
    assert person is not None and person.status == "invited"


async def test_a_totp_step_and_a_recovery_code_are_claimed_once(
    store: Store, clock: ManualClock
) -> None:
    person_id, invitation = await _invited(store, clock)
    assert await store.complete_invitation(
        invitation.id,
        person_id,
        password_hash="$argon2id$x",
        totp_step=100,
        recovery_code_hashes=["d" * 64],
        now=clock.now(),
    )
    steps = await asyncio.gather(*(store.claim_totp_step(person_id, 101) for _ in range(3)))
    assert sorted(steps) == [False, False, True]
    assert not await store.claim_totp_step(person_id, 100)
    codes = await asyncio.gather(
        *(store.use_recovery_code(person_id, "d" * 64, now=clock.now()) for _ in range(3))
    )
    assert sorted(codes) == [False, False, True]


async def test_login_attempts_are_counted_first_and_lock_at_the_limit(
    store: Store, clock: ManualClock
) -> None:
    person_id, _ = await _invited(store, clock)
    now = clock.now()
    until = now + timedelta(minutes=15)

    async def reserve(at: datetime) -> int | None:
        return await store.reserve_login_attempt(
            person_id, now=at, max_failures=3, lock_until=until
        )

    # The third attempt is still checked, and locks the account: the rest are refused unseen.
    assert [await reserve(now) for _ in range(5)] == [1, 2, 3, None, None]
    person = await store.get_person(person_id=person_id)
    assert person is not None and (person.failed_logins, person.locked_until) == (0, until)
    assert await reserve(until) == 1  # the lock is over: counting starts again
    await store.record_login_success(person_id)
    person = await store.get_person(person_id=person_id)
    assert person is not None and (person.failed_logins, person.locked_until) == (0, None)


async def test_emails_are_unique_and_stored_lower_cased(store: Store, clock: ManualClock) -> None:
    from integrator.store import Conflict, StoreError

    await _invited(store, clock)
    second = NewInvitation("inv-2", "e" * 64, "local:piet", clock.now(), clock.now())
    with pytest.raises(Conflict):
        await store.add_person(
            "p-2", email="anna@example.nl", name="A", grant_specs=[], invitation=second
        )
    with pytest.raises(StoreError):  # the check constraint refuses an upper-case address
        await store.add_person(
            "p-3", email="Bert@example.nl", name="B", grant_specs=[], invitation=second
        )
    assert [p.email for p in await store.list_people()] == ["anna@example.nl"]


OWN = "another admin, or the server's CLI"


async def test_nobody_changes_their_own_roles_or_deactivates_themselves(
    service: AccessService, clock: ManualClock
) -> None:
    root = await onboard(service, clock, "root@example.nl", Grant(Role.ADMIN))
    me = await login_as(service, clock, root)
    # An admin does not read patient data: giving themselves resend would be that in one step.
    with pytest.raises(AccessDenied, match=OWN):
        await service.set_grants(
            me, root.email, [Grant(Role.ADMIN), Grant(Role.RESEND)], reason="need it"
        )
    with pytest.raises(AccessDenied, match=OWN):
        await service.deactivate_role(me, root.email, Role.ADMIN, None, reason="leaving")
    with pytest.raises(AccessDenied, match=OWN):
        await service.deactivate_person(me, root.email, reason="leaving")
    [view] = [v for v in await service.list_people(me) if v.email == root.email]
    assert view.status == "active" and view.grants == (Grant(Role.ADMIN),)

    # The server's CLI is no person, and trusted by design: it may.
    changed = await service.set_grants(
        LOCAL, root.email, [Grant(Role.ADMIN), Grant(Role.RESEND, "CARD")], reason="on call"
    )
    assert set(changed.grants) == {Grant(Role.ADMIN), Grant(Role.RESEND, "CARD")}


async def test_nor_with_a_token_of_their_own(service: AccessService, clock: ManualClock) -> None:
    # Admin in CARD, support in ONCO: a token with both is hers (she manages no tokens in ONCO).
    eva = await onboard(
        service, clock, "eva@example.nl", Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "ONCO")
    )
    signed_in = await login_as(service, clock, eva)
    own = await service.create_token(
        signed_in, "eva-script", [Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "ONCO")]
    )
    token = await service.authenticate_token(own.token)
    assert token is not None and own.owner_id is not None
    with pytest.raises(AccessDenied, match=OWN):
        await service.set_grants(token, eva.email, [Grant(Role.RESEND, "CARD")], reason="x")
    with pytest.raises(AccessDenied, match=OWN):
        await service.deactivate_role(token, eva.email, Role.ADMIN, "CARD", reason="x")


async def test_changing_someones_access_needs_a_reason(
    service: AccessService, store: Store
) -> None:
    await service.invite(LOCAL, "anna@example.nl", [Grant(Role.RESEND, "CARD")])
    anna = "anna@example.nl"
    for blank in (None, "", "   "):
        with pytest.raises(BadAccessInput, match="--reason: a reason is required"):
            await service.set_grants(LOCAL, anna, [Grant(Role.RESEND)], reason=blank)
        with pytest.raises(BadAccessInput, match="--reason: a reason is required"):
            await service.deactivate_role(LOCAL, anna, Role.RESEND, "CARD", reason=blank)
        with pytest.raises(BadAccessInput, match="--reason: a reason is required"):
            await service.deactivate_person(LOCAL, anna, reason=blank)
    person = await store.get_person(email=anna)
    assert person is not None and person.status == "invited"
    assert person.active_grants == [("resend", "CARD")]
    assert [e.action for e in await store.list_audit(target=f"person:{anna}")] == ["person.invite"]

    await service.deactivate_person(LOCAL, anna, reason="  left the team  ")
    [entry] = [
        e for e in await store.list_audit(target=f"person:{anna}") if e.action != "person.invite"
    ]
    assert (entry.action, entry.reason) == ("person.deactivate", "left the team")


async def test_a_role_that_acts_for_all_clusters_only_is_refused_for_one(
    service: AccessService, store: Store, card_admin: Identity
) -> None:
    """``intake`` (an event goes to every destination of its provider) and ``metrics`` are
    only ever asked for every cluster: given for CARD they were accepted, then refused at the
    first submit or scrape. Refused when given now, naming the rule; nothing is written."""
    await service.invite(LOCAL, "anna@example.nl", [Grant(Role.VIEWER, "CARD")])
    before = len(await store.list_audit(limit=1000))
    for role in (Role.INTAKE, Role.METRICS):
        scoped = Grant(role, "CARD")
        rule = (
            f"--cluster: {role.value} is given for all clusters only .*: leave the cluster CARD out"
        )
        with pytest.raises(BadAccessInput, match=rule) as refused:
            await service.create_token(LOCAL, f"{role.value}-card", [scoped])
        assert refused.value.code == "access.role_for_all_clusters"
        with pytest.raises(BadAccessInput, match=rule):
            await service.invite(LOCAL, f"{role.value}@example.nl", [scoped])
        with pytest.raises(BadAccessInput, match=rule):
            await service.set_grants(
                LOCAL, "anna@example.nl", [Grant(Role.VIEWER, "CARD"), scoped], reason="why"
            )
        # A one-cluster admin may not give them at all: refused as beyond their clusters.
        with pytest.raises(AccessDenied):
            await service.create_token(card_admin, f"{role.value}-all", [Grant(role)])
    assert await service.list_tokens(LOCAL) == []
    assert {v.email for v in await service.list_people(LOCAL)} == {
        "anna@example.nl",
        "card-admin@example.nl",
    }
    anna = await store.get_person(email="anna@example.nl")
    assert anna is not None and anna.active_grants == [("viewer", "CARD")]
    assert len(await store.list_audit(limit=1000)) == before
    made = await service.create_token(LOCAL, "platform", [Grant(Role.INTAKE)])
    assert made.grants == (Grant(Role.INTAKE),)
