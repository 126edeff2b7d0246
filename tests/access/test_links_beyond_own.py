"""An admin who reads no patient data gets none through a person's link (docs/access.md,
"Who sees patient data").

Found by an audit, each reproduced against a running engine: with no mail server the link of
an invitation or a second-factor reset comes back to the caller, so an ``admin@*`` token
(1) invited an address with ``resend`` and signed in with the link, and (2) reset a support
colleague's second factor, chose her new password and read patients as her. Now a role that
reads patient data is given to a person only by someone who holds it there, and a link for an
account that would read patient data where the caller does not is mailed or refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from integrator.access import (
    AccessDenied,
    AccessService,
    AccessSettings,
    Grant,
    Identity,
    Role,
)
from integrator.access.passwords import Passwords
from integrator.clock import ManualClock
from integrator.store import AuditFilter, Store
from tests.access.conftest import (
    BASE_URL,
    LOCAL,
    Member,
    login_as,
    next_code,
    onboard,
)
from tests.access.mailbox import Mailbox, mailbox

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
RESEND_CARD = Grant(Role.RESEND, "CARD")
RESEND_LAB = Grant(Role.RESEND, "LAB")
VIEWER = Grant(Role.VIEWER)
SUPPORT = "anna@example.nl"


@pytest.fixture
async def anna(service: AccessService, clock: ManualClock) -> Member:
    """Support staff, given ``resend`` on the server."""
    return await onboard(service, clock, SUPPORT, RESEND_CARD)


async def _admin(
    service: AccessService, clock: ManualClock, *grants: Grant, email: str = "beheer@example.nl"
) -> Identity:
    member = await onboard(service, clock, email, *grants)
    return await login_as(service, clock, member)


async def _admin_token(service: AccessService, *grants: Grant) -> Identity:
    name = "admin-" + "-".join(str(g).replace("@", "-").replace("*", "all") for g in grants)
    made = await service.create_token(LOCAL, name, list(grants))
    identity = await service.authenticate_token(made.token)
    assert identity is not None
    return identity


async def test_an_admin_without_resend_gives_it_to_nobody(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    for admin in (await _admin(service, clock, ADMIN), await _admin_token(service, ADMIN)):
        for grants in ([RESEND], [VIEWER, RESEND_CARD]):
            with pytest.raises(AccessDenied) as refused:
                await service.invite(admin, "mallory@example.nl", grants)
            assert refused.value.code == "access.person_patient_data"
            said = str(refused.value)
            assert "resend reads patient data" in said and "on the server" in said
        with pytest.raises(AccessDenied) as refused:
            await service.set_grants(admin, SUPPORT, [RESEND], reason="more clusters")
        assert refused.value.code == "access.person_patient_data"
    assert await store.get_person(email="mallory@example.nl") is None
    assert await store.list_audit(AuditFilter(action="person.invite")) != []  # the fixtures'
    assert [e.target for e in await store.list_audit(AuditFilter(action="person.grants"))] == []


async def test_grants_held_already_stay_and_resend_is_given_where_the_admin_holds_it(
    service: AccessService, clock: ManualClock, anna: Member
) -> None:
    plain = await _admin(service, clock, ADMIN)
    # Anna keeps resend@CARD when an admin without it changes her other roles: no gift.
    view = await service.set_grants(plain, SUPPORT, [RESEND_CARD, VIEWER], reason="dashboards")
    assert set(view.grants) == {RESEND_CARD, VIEWER}
    card = await _admin_token(service, ADMIN, RESEND_CARD)
    invited = await service.invite(card, "bert@example.nl", [RESEND_CARD])
    assert invited.link is not None  # shown: the caller reads patient data there itself
    with pytest.raises(AccessDenied, match="not hold resend for cluster LAB"):
        await service.invite(card, "carla@example.nl", [RESEND_LAB])


async def test_no_link_for_an_account_reading_patient_data_beyond_the_caller(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    await service.invite(LOCAL, "dirk@example.nl", [RESEND_LAB])  # invited on the server
    for admin in (await _admin(service, clock, ADMIN), await _admin_token(service, ADMIN)):
        with pytest.raises(AccessDenied) as reset:
            await service.reset_second_factor(admin, SUPPORT, reason="phone lost")
        assert reset.value.code == "access.link_patient_data"
        said = str(reset.value)
        assert "INTEGRATOR_SMTP_HOST" in said and "`integrator users reset-2fa`" in said
        with pytest.raises(AccessDenied) as again:
            await service.reinvite(admin, "dirk@example.nl")
        assert again.value.code == "access.link_patient_data"
        assert "`integrator users reinvite`" in str(again.value)
    # Nothing was reset: Anna signs in as before; no link was made or audited.
    await service.login(SUPPORT, anna.password, next_code(anna, clock))
    assert await store.list_audit(AuditFilter(action="person.reset_second_factor")) == []
    assert await store.list_audit(AuditFilter(action="person.reinvite")) == []
    # Someone who holds resend there gets the link; so does the server's CLI.
    card = await _admin_token(service, ADMIN, RESEND_CARD)
    assert (await service.reset_second_factor(card, SUPPORT)).link is not None
    assert (await service.reinvite(LOCAL, "dirk@example.nl")).link is not None
    # An account that reads no patient data gets its link from any admin, as before.
    await onboard(service, clock, "eva@example.nl", VIEWER)
    plain = await _admin(service, clock, ADMIN, email="beheer2@example.nl")
    assert (await service.reset_second_factor(plain, "eva@example.nl")).link is not None


@pytest.fixture
def inbox() -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


async def test_with_a_mail_server_the_link_goes_to_the_person_and_the_grant_rule_holds(
    store: Store, clock: ManualClock, anna: Member, inbox: Mailbox
) -> None:
    mailing = AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
        mailer=inbox.mailer(),
    )
    admin = await _admin_token(mailing, ADMIN)
    done = await mailing.reset_second_factor(admin, SUPPORT, reason="phone lost")
    assert done.sent and done.link is None
    [mail] = inbox.messages
    assert mail["To"] == SUPPORT
    # Mail does not reopen the hole: an address of the admin's own is no way to resend.
    with pytest.raises(AccessDenied) as refused:
        await mailing.invite(admin, "mallory@example.nl", [RESEND])
    assert refused.value.code == "access.person_patient_data"
    assert len(inbox.messages) == 1
