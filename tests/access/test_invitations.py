"""Inviting people, accepting with a password and a second factor, and the link's lifecycle."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text

from integrator.access import (
    AccessDenied,
    AccessService,
    BadAccessInput,
    Grant,
    InvitationInvalid,
    Role,
    totp,
)
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import BASE_URL, LOCAL, PASSWORD, link_secret, login_as, onboard
from tests.store.conftest import Site
from tests.store.helpers import raw_connection

VIEWER_CARD = Grant(Role.VIEWER, "CARD")


async def _accept(service: AccessService, clock: ManualClock, link: str | None) -> list[str]:
    start = await service.begin_accept(link_secret(link))
    code = totp.code_at(start.totp_secret, clock.now())
    return (await service.finish_accept(link_secret(link), PASSWORD, code)).recovery_codes


async def test_an_invitation_is_a_link_whose_secret_is_stored_only_hashed(
    service: AccessService, store: Store, site: Site, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, " Anna@Example.NL ", [VIEWER_CARD], name="Anna")
    assert invitation.email == "anna@example.nl"
    assert invitation.link is not None
    assert invitation.link.startswith(f"{BASE_URL}/invitation#")
    assert invitation.expires_at == clock.now() + timedelta(days=7)
    secret = link_secret(invitation.link)
    async with raw_connection(site) as conn:
        rows = [tuple(r) for r in await conn.execute(text("SELECT * FROM invitations"))]
    assert len(rows) == 1 and all(secret not in str(value) for value in rows[0])

    person = await store.get_person(email="anna@example.nl")
    assert person is not None
    assert (person.name, person.status, person.password_hash) == ("Anna", "invited", None)
    assert person.active_grants == [("viewer", "CARD")]
    [entry] = await store.list_audit(target="person:anna@example.nl")
    assert (entry.actor, entry.action) == ("local:piet", "person.invite")
    assert entry.details["grants"] == ["viewer@CARD"]


async def test_accepting_takes_two_steps_and_activates_the_account(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    start = await service.begin_accept(link_secret(invitation.link))
    assert start.email == "anna@example.nl" and start.name == "anna"
    assert start.provisioning_uri.startswith("otpauth://totp/")
    assert start.totp_secret in start.provisioning_uri

    code = totp.code_at(start.totp_secret, clock.now())
    done = await service.finish_accept(link_secret(invitation.link), PASSWORD, code)
    assert len(done.recovery_codes) == 10
    person = await store.get_person(email="anna@example.nl")
    assert person is not None and person.status == "active"
    assert person.password_hash is not None and person.password_hash.startswith("$argon2id$")
    assert person.totp_last_step == totp.step_at(clock.now())  # that code cannot log in
    assert await store.unused_recovery_codes(person.id) == 10
    actions = [e.action for e in await store.list_audit(target="person:anna@example.nl")]
    assert actions == ["person.accept", "invitation.open", "person.invite"]


async def test_a_weak_password_or_wrong_code_leaves_the_link_usable(
    service: AccessService, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    secret = link_secret(invitation.link)
    start = await service.begin_accept(secret)
    code = totp.code_at(start.totp_secret, clock.now())
    with pytest.raises(BadAccessInput, match="password: a password needs at least 12"):
        await service.finish_accept(secret, "kort", code)
    with pytest.raises(BadAccessInput, match=r"password: .*e-mail"):
        await service.finish_accept(secret, "anna@example.nl", code)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(BadAccessInput, match="code: "):
        await service.finish_accept(secret, PASSWORD, wrong)
    assert len((await service.finish_accept(secret, PASSWORD, code)).recovery_codes) == 10


async def test_finishing_needs_the_first_step(service: AccessService) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    with pytest.raises(BadAccessInput, match="open the invitation first"):
        await service.finish_accept(link_secret(invitation.link), PASSWORD, "123456")


async def test_a_link_works_once(service: AccessService, clock: ManualClock) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    await _accept(service, clock, invitation.link)
    with pytest.raises(InvitationInvalid, match="used already"):
        await service.begin_accept(link_secret(invitation.link))
    with pytest.raises(InvitationInvalid, match="used already"):
        await service.finish_accept(link_secret(invitation.link), PASSWORD, "123456")


async def test_an_invitation_on_day_8_is_refused(
    service: AccessService, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    late = await service.invite(LOCAL, "bert@example.nl", [VIEWER_CARD])
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert len(await _accept(service, clock, invitation.link)) == 10  # the last second of day 7
    clock.advance(timedelta(days=1))  # day 8
    with pytest.raises(InvitationInvalid, match="expired"):
        await service.begin_accept(link_secret(late.link))


async def test_the_link_expiring_between_the_two_steps_is_refused(
    service: AccessService, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    start = await service.begin_accept(link_secret(invitation.link))
    clock.advance(timedelta(minutes=1))
    code = totp.code_at(start.totp_secret, clock.now())
    with pytest.raises(InvitationInvalid, match="expired"):
        await service.finish_accept(link_secret(invitation.link), PASSWORD, code)


async def test_reinviting_revokes_the_old_link(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    first = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    clock.advance(timedelta(days=6))
    second = await service.reinvite(LOCAL, "ANNA@example.nl")
    assert second.link != first.link
    assert second.expires_at == clock.now() + timedelta(days=7)
    with pytest.raises(InvitationInvalid, match="replaced"):
        await service.begin_accept(link_secret(first.link))
    clock.advance(timedelta(days=5))  # past the first link's 7 days, within the second's
    assert len(await _accept(service, clock, second.link)) == 10
    with pytest.raises(BadAccessInput, match="active, not invited") as accepted:
        await service.reinvite(LOCAL, "anna@example.nl")
    assert "anna" not in str(accepted.value)  # no error echoes the address
    actions = [e.action for e in await store.list_audit(target="person:anna@example.nl")]
    assert "person.reinvite" in actions


async def test_invite_refuses_bad_input_naming_the_rule(
    service: AccessService, clock: ManualClock
) -> None:
    with pytest.raises(BadAccessInput, match=r"--role: .*at least one role"):
        await service.invite(LOCAL, "anna@example.nl", [])
    with pytest.raises(BadAccessInput, match="EMAIL: not an e-mail address"):
        await service.invite(LOCAL, "anna", [VIEWER_CARD])
    await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    with pytest.raises(BadAccessInput) as taken:
        await service.invite(LOCAL, "Anna@example.nl", [Grant(Role.RESEND)])
    assert str(taken.value).startswith(
        "EMAIL: an account or an open invitation already has this e-mail address;"
    )
    assert "anna" not in str(taken.value).lower()  # the rule, not the address typed


async def test_a_deactivated_invitee_cannot_use_the_link(service: AccessService) -> None:
    invitation = await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    await service.deactivate_person(LOCAL, "anna@example.nl", reason="left before starting")
    with pytest.raises(InvitationInvalid):
        await service.begin_accept(link_secret(invitation.link))


async def test_inviting_a_deactivated_address_says_it_is_final(service: AccessService) -> None:
    """It said "send the invitation again", which in turn was refused as "deactivated, not
    invited": a circle that never stated the rule."""
    await service.invite(LOCAL, "leaver@example.nl", [VIEWER_CARD])
    await service.deactivate_person(LOCAL, "leaver@example.nl", reason="left")
    with pytest.raises(BadAccessInput) as refused:
        await service.invite(LOCAL, "leaver@example.nl", [VIEWER_CARD])
    assert str(refused.value) == (
        "EMAIL: this e-mail address belongs to a deactivated account: deactivating is final, "
        "and the address cannot be invited again"
    )
    assert refused.value.code == "access.email_deactivated"


async def test_unknown_links_are_refused(service: AccessService) -> None:
    with pytest.raises(InvitationInvalid, match="not known"):
        await service.begin_accept("no-such-link")


async def test_create_admin_bootstraps_an_admin_for_all_clusters(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    first = await service.create_admin("root@example.nl", by=LOCAL)
    admin = await store.get_person(email="root@example.nl")
    assert admin is not None and admin.active_grants == [("admin", None)]
    [entry] = await store.list_audit(target="person:root@example.nl")
    assert (entry.actor, entry.action) == ("local:piet", "person.create_admin")
    assert entry.details["active_admins_before"] == 0

    # Asked again before it was accepted: a new link, the old one stops working.
    again = await service.create_admin("root@example.nl", by=LOCAL)
    with pytest.raises(InvitationInvalid, match="replaced"):
        await service.begin_accept(link_secret(first.link))
    await _accept(service, clock, again.link)

    # Several admins may exist; the audit entry says how many there were.
    await service.create_admin("second@example.nl", by=LOCAL)
    [entry] = await store.list_audit(target="person:second@example.nl")
    assert entry.details["active_admins_before"] == 1

    with pytest.raises(BadAccessInput, match="has an account already"):
        await service.create_admin("root@example.nl", by=LOCAL)


async def test_create_admin_is_for_the_server_only(
    service: AccessService, clock: ManualClock
) -> None:
    member = await onboard(service, clock, "root@example.nl", Grant(Role.ADMIN))
    admin = await login_as(service, clock, member)
    with pytest.raises(AccessDenied):
        await service.create_admin("other@example.nl", by=admin)
    # Through the front doors an admin invites another admin like anybody else.
    await service.invite(admin, "other@example.nl", [Grant(Role.ADMIN)])


async def test_an_invited_person_gets_the_admin_grant_from_create_admin(
    service: AccessService, store: Store
) -> None:
    await service.invite(LOCAL, "anna@example.nl", [VIEWER_CARD])
    link = await service.create_admin("anna@example.nl", by=LOCAL)
    person = await store.get_person(email="anna@example.nl")
    assert person is not None
    assert sorted(person.active_grants, key=str) == [("admin", None), ("viewer", "CARD")]
    # Said, in the answer and the audit trail: a mistyped address is a colleague made admin.
    assert link.invited_before_with == (VIEWER_CARD,)
    assert link.to_json()["invited_before_with"] == [str(VIEWER_CARD)]
    entry = (await store.list_audit(target="person:anna@example.nl", limit=1))[0]
    assert entry.action == "person.create_admin"
    assert entry.details["invited_before_with"] == [str(VIEWER_CARD)]
    # Asked again: admin is held already, nothing more to say.
    again = await service.create_admin("anna@example.nl", by=LOCAL)
    assert again.invited_before_with == () and "invited_before_with" not in again.to_json()


async def test_invisible_characters_pasted_with_an_address_are_left_out(
    service: AccessService, clock: ManualClock
) -> None:
    """A zero-width space (or a byte order mark, a word joiner…) copied along from a chat or a
    mail program made an account nobody could sign in to, and a second one for the same
    address that looked the same: the address is taken without them, at invitation and at
    sign-in."""
    pasted = "\u200bjan@example.org\u200b\ufeff"
    member = await onboard(service, clock, pasted, VIEWER_CARD)
    [person] = [p for p in await service.list_people(LOCAL) if "jan" in p.email]
    assert person.email == "jan@example.org"
    typed = dataclasses.replace(member, email="jan@example.org")
    assert (await login_as(service, clock, typed)).display == "person:jan@example.org"
    pasted_again = dataclasses.replace(member, email="jan@\u2060example.org")
    assert (await login_as(service, clock, pasted_again)).display == "person:jan@example.org"
    with pytest.raises(BadAccessInput, match="already has this e-mail address"):
        await service.invite(LOCAL, "jan@example.org\u200d", [VIEWER_CARD])
