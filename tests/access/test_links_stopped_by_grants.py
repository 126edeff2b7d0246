"""A link shown to an admin stops when the account is given patient data later (docs/access.md,
"Who sees patient data").

Found by a security review: with no mail server, an admin without ``resend`` invited someone as
a viewer (or reset a viewer's second factor) and was shown the link, as they may. Another admin
then gave that still-invited account ``resend@CARD``. The first admin still held the old link,
chose the account's password and second factor with it and read patient data as the account.
Now a change of grants that gives an account a role that reads patient data where it held
none stops its open links at once, and says so.
"""

from __future__ import annotations

import pytest

from integrator.access import (
    AccessService,
    Grant,
    Identity,
    InvitationInvalid,
    Role,
    totp,
)
from integrator.clock import ManualClock
from integrator.store import AuditFilter, Store
from tests.access.conftest import LOCAL, PASSWORD, Member, link_secret, login_as, onboard

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
RESEND_CARD = Grant(Role.RESEND, "CARD")
VIEWER = Grant(Role.VIEWER)
MALLORY = "mallory@example.nl"


async def _admin(
    service: AccessService, clock: ManualClock, email: str, *grants: Grant
) -> Identity:
    member = await onboard(service, clock, email, *grants)
    return await login_as(service, clock, member)


async def _admins(service: AccessService, clock: ManualClock) -> tuple[Identity, Identity]:
    """An admin who reads no patient data, and one who holds ``resend@CARD``."""
    plain = await _admin(service, clock, "beheer@example.nl", ADMIN)
    card = await _admin(service, clock, "kaart@example.nl", ADMIN, RESEND_CARD)
    return plain, card


async def _refused(service: AccessService, clock: ManualClock, link: str | None) -> None:
    """The link neither opens nor, opened before, completes a setup."""
    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        await service.begin_accept(link_secret(link))
    code = totp.code_at(totp.new_secret(), clock.now())
    with pytest.raises(InvitationInvalid):
        await service.finish_accept(link_secret(link), PASSWORD, code)


async def test_an_invitation_shown_before_resend_was_given_stops_working(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    plain, card = await _admins(service, clock)
    shown = await service.invite(plain, MALLORY, [VIEWER])
    assert shown.link is not None  # a viewer reads no patient data: shown, as it may be
    # Opened already (the secret scanned), before the grant: finishing is refused all the same.
    opened = await service.begin_accept(link_secret(shown.link))

    view = await service.set_grants(card, MALLORY, [VIEWER, RESEND_CARD], reason="support")
    assert view.links_stopped is True
    assert view.to_json()["links_stopped"] is True
    assert view.status == "invited" and view.invitation_expires_at is None

    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        await service.begin_accept(link_secret(shown.link))
    code = totp.code_at(opened.totp_secret, clock.now())
    with pytest.raises(InvitationInvalid):
        await service.finish_accept(link_secret(shown.link), PASSWORD, code)
    person = await store.get_person(email=MALLORY)
    assert person is not None and person.status == "invited" and person.password_hash is None

    [entry] = await store.list_audit(AuditFilter(action="person.grants"))
    assert entry.details["added"] == ["resend@CARD"]
    assert entry.details["links_stopped"] == 1
    assert shown.link not in repr(entry.details)

    # The way on: a new link, shown only to someone who may see it, and it works.
    again = await service.reinvite(card, MALLORY)
    start = await service.begin_accept(link_secret(again.link))
    code = totp.code_at(start.totp_secret, clock.now())
    await service.finish_accept(link_secret(again.link), PASSWORD, code)


async def test_a_reset_setup_link_shown_before_resend_was_given_stops_working(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    plain, card = await _admins(service, clock)
    await onboard(service, clock, MALLORY, VIEWER)
    shown = await service.reset_second_factor(plain, MALLORY, reason="phone lost")
    assert shown.link is not None

    view = await service.set_grants(card, MALLORY, [VIEWER, RESEND_CARD], reason="support")
    assert view.links_stopped is True and view.second_factor_reset

    await _refused(service, clock, shown.link)
    person = await store.get_person(email=MALLORY)
    assert person is not None and person.status == "invited"
    [entry] = await store.list_audit(AuditFilter(action="person.grants"))
    assert entry.details["links_stopped"] == 1


async def test_wider_resend_stops_the_link_and_the_server_cli_too(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    card = await _admin(service, clock, "kaart@example.nl", ADMIN, RESEND_CARD)
    shown = await service.invite(card, MALLORY, [RESEND_CARD])
    assert shown.link is not None  # card reads patient data in CARD: shown
    # Given resend for all clusters (on the server): beyond what card was shown it for.
    view = await service.set_grants(LOCAL, MALLORY, [RESEND], reason="all clusters")
    assert view.links_stopped is True
    await _refused(service, clock, shown.link)


async def test_a_change_giving_no_new_patient_data_keeps_the_link(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    plain, card = await _admins(service, clock)
    shown = await service.invite(plain, MALLORY, [VIEWER])
    view = await service.set_grants(plain, MALLORY, [VIEWER, ADMIN], reason="more")
    assert view.links_stopped is False and view.to_json()["links_stopped"] is False
    invited = await service.invite(LOCAL, "anna@example.nl", [RESEND])
    # resend@CARD is within resend for all clusters: nothing new is read.
    kept = await service.set_grants(card, "anna@example.nl", [RESEND_CARD], reason="only CARD")
    assert kept.links_stopped is False
    for link in (shown.link, invited.link):
        start = await service.begin_accept(link_secret(link))
        code = totp.code_at(start.totp_secret, clock.now())
        await service.finish_accept(link_secret(link), PASSWORD, code)
    entries = await store.list_audit(AuditFilter(action="person.grants"))
    assert all("links_stopped" not in e.details for e in entries)


async def test_an_active_account_given_resend_has_no_link_to_stop(
    service: AccessService, clock: ManualClock
) -> None:
    _, card = await _admins(service, clock)
    member: Member = await onboard(service, clock, MALLORY, VIEWER)
    view = await service.set_grants(card, MALLORY, [VIEWER, RESEND_CARD], reason="support")
    assert view.links_stopped is False and view.status == "active"
    assert member.email == MALLORY
