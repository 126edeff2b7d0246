"""An admin resets a person's second factor (a lost phone), on SQLite and PostgreSQL.

At once the person's TOTP secret, recovery codes, password and sessions stop working; a new
setup link (an invitation link) lets them choose a new password and set up a new factor. Their
grants and own tokens stay. Refusals name the rule; the audit entry holds no secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from integrator.access import (
    AccessDenied,
    AccessService,
    AccessSettings,
    BadAccessInput,
    Grant,
    Identity,
    InvitationInvalid,
    LoginRefused,
    PersonView,
    Role,
    UnknownAccount,
    totp,
)
from integrator.access.mail import MailFailed
from integrator.access.passwords import Passwords
from integrator.clock import ManualClock
from integrator.store import AuditFilter, AuditRecord, Store
from tests.access.conftest import (
    BASE_URL,
    LOCAL,
    Member,
    link_secret,
    login_as,
    next_code,
    onboard,
)
from tests.access.mailbox import RESET_SUBJECT, Mailbox, mailbox
from tests.services import free_port

EMAIL = "anna@example.nl"
RESEND_CARD = Grant(Role.RESEND, "CARD")
VIEWER_LAB = Grant(Role.VIEWER, "LAB")
NEW_PASSWORD = "een heel nieuw wachtwoord"


@pytest.fixture
async def anna(service: AccessService, clock: ManualClock) -> Member:
    return await onboard(service, clock, EMAIL, RESEND_CARD, VIEWER_LAB)


@pytest.fixture
async def admin(service: AccessService, clock: ManualClock) -> Identity:
    """A signed-in admin for all clusters, who holds ``resend`` where Anna does: the setup
    link of an account that reads patient data is shown only to someone who reads it there
    too (test_links_beyond_own.py)."""
    member = await onboard(service, clock, "beheer@example.nl", Grant(Role.ADMIN), RESEND_CARD)
    return await login_as(service, clock, member)


async def _resets(store: Store) -> list[AuditRecord]:
    return await store.list_audit(AuditFilter(action="person.reset_second_factor"))


async def _set_up_again(service: AccessService, clock: ManualClock, link: str) -> Member:
    """The person follows the setup link, as after an invitation."""
    start = await service.begin_accept(link_secret(link))
    done = await service.finish_accept(
        link_secret(link), NEW_PASSWORD, totp.code_at(start.totp_secret, clock.now())
    )
    return Member(EMAIL, NEW_PASSWORD, start.totp_secret, done.recovery_codes)


async def test_a_reset_stops_the_old_factor_codes_and_sessions_and_the_link_sets_up_new_ones(
    service: AccessService, store: Store, clock: ManualClock, anna: Member, admin: Identity
) -> None:
    session = (await service.login(EMAIL, anna.password, next_code(anna, clock))).session
    assert await service.authenticate_session(session) is not None

    link = await service.reset_second_factor(admin, EMAIL, reason="phone stolen on the train")
    assert link.link is not None and link.link.startswith(f"{BASE_URL}/invitation#")
    assert link.expires_at == clock.now() + AccessSettings().invitation_validity

    # At once: the open session is gone, and neither the old TOTP secret nor a recovery code
    # (nor the old password) opens a new one.
    assert await service.authenticate_session(session) is None
    for code in (next_code(anna, clock), anna.recovery_codes[0], anna.recovery_codes[-1]):
        with pytest.raises(LoginRefused):
            await service.login(EMAIL, anna.password, code)
    person = await store.get_person(email=EMAIL)
    assert person is not None
    assert (person.status, person.password_hash, person.totp_stored) == ("invited", None, None)
    assert await store.unused_recovery_codes(person.id) == 0
    # Her grants stay.
    assert sorted(person.active_grants, key=str) == [("resend", "CARD"), ("viewer", "LAB")]

    # The link sets up a new password and factor; she signs in with them, with her grants.
    again = await _set_up_again(service, clock, link.link)
    assert again.totp_secret != anna.totp_secret and len(again.recovery_codes) == 10
    assert set(again.recovery_codes).isdisjoint(anna.recovery_codes)
    identity = await login_as(service, clock, again)
    assert identity.grants == {RESEND_CARD, VIEWER_LAB}
    result = await service.login(EMAIL, NEW_PASSWORD, again.recovery_codes[0])
    assert result.method == "recovery_code"
    with pytest.raises(LoginRefused):  # the old password does not come back
        await service.login(EMAIL, anna.password, next_code(again, clock))
    # The link worked once.
    with pytest.raises(InvitationInvalid, match="used already"):
        await service.begin_accept(link_secret(link.link))

    # Audited as its own action, as the admin, with the reason and no secret of any kind.
    [entry] = await _resets(store)
    assert (entry.actor, entry.target, entry.reason) == (
        "person:beheer@example.nl",
        f"person:{EMAIL}",
        "phone stolen on the train",
    )
    assert entry.details == {
        "sessions_ended": 1,
        "recovery_codes_retired": 10,
        "expires_at": link.expires_at.isoformat(),
    }
    everything = repr(await store.list_audit(limit=1000))
    for secret in (link_secret(link.link), anna.totp_secret, again.totp_secret):
        assert secret not in everything
    for code in [*anna.recovery_codes, *again.recovery_codes]:
        assert code not in everything
    actions = [e.action for e in reversed(await store.list_audit(target=f"person:{EMAIL}"))]
    after = actions[actions.index("person.reset_second_factor") :]
    assert [a for a in after if a in {"invitation.open", "person.accept"}] == [
        "invitation.open",
        "person.accept",
    ]


async def test_the_server_cli_resets_anyone_and_a_pending_reset_is_sent_again_as_an_invitation(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    first = await service.reset_second_factor(LOCAL, EMAIL)
    [entry] = await _resets(store)
    assert entry.actor == "local:piet" and entry.reason is None
    assert entry.details["sessions_ended"] == 0
    # Pending: resetting again is refused, naming the way on; sending the invitation again
    # gives a new link and the first stops working.
    with pytest.raises(BadAccessInput, match=r"is invited .* send the invitation again"):
        await service.reset_second_factor(LOCAL, EMAIL)
    second = await service.reinvite(LOCAL, EMAIL)
    assert first.link is not None and second.link is not None
    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        await service.begin_accept(link_secret(first.link))
    await _set_up_again(service, clock, second.link)
    assert (await store.get_person(email=EMAIL)).status == "active"  # type: ignore[union-attr]


async def test_each_refusal_names_its_rule_and_changes_nothing(
    service: AccessService, store: Store, clock: ManualClock, anna: Member, admin: Identity
) -> None:
    await service.invite(LOCAL, "bert@example.nl", [Grant(Role.VIEWER)])
    with pytest.raises(BadAccessInput, match=r"this person is invited .*\(reinvite\)") as bert:
        await service.reset_second_factor(admin, "bert@example.nl")
    assert "bert" not in str(bert.value)  # no error echoes the address

    carla = await onboard(service, clock, "carla@example.nl", Grant(Role.VIEWER))
    await service.deactivate_person(LOCAL, carla.email, reason="why")
    with pytest.raises(BadAccessInput, match=r"this account is deactivated: only an active"):
        await service.reset_second_factor(admin, carla.email)

    with pytest.raises(UnknownAccount, match=r"^EMAIL: no account has this e-mail address"):
        await service.reset_second_factor(admin, "nobody@example.nl")

    # Without the admin role: refused before anything is looked up.
    viewer = await login_as(
        service,
        clock,
        await onboard(service, clock, "dirk@example.nl", Grant(Role.VIEWER)),
    )
    with pytest.raises(AccessDenied, match="needs the admin role"):
        await service.reset_second_factor(viewer, EMAIL)
    with pytest.raises(AccessDenied, match="needs the admin role"):
        await service.reset_second_factor(viewer, "nobody@example.nl")

    # An admin of CARD only: Anna also holds a role in LAB, so her account is not theirs.
    card_admin = await login_as(
        service,
        clock,
        await onboard(service, clock, "card-admin@example.nl", Grant(Role.ADMIN, "CARD")),
    )
    with pytest.raises(AccessDenied, match="outside your clusters"):
        await service.reset_second_factor(card_admin, EMAIL)

    # Nobody resets their own, not even an admin for all clusters.
    with pytest.raises(AccessDenied, match="cannot reset your own second factor"):
        await service.reset_second_factor(admin, "beheer@example.nl")

    assert await _resets(store) == []
    person = await store.get_person(email=EMAIL)
    assert person is not None and person.status == "active"
    await login_as(service, clock, anna)  # her factor still works


async def test_nobody_resets_their_own_with_a_token_of_their_own_either(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    # Admin in CARD, support in ONCO: a token with both is hers (she manages no tokens in ONCO).
    eva = await onboard(
        service, clock, "eva@example.nl", Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "ONCO")
    )
    signed_in = await login_as(service, clock, eva)
    own = await service.create_token(
        signed_in, "eva-script", [Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "ONCO")]
    )
    assert own.owner_id is not None
    token = await service.authenticate_token(own.token)
    assert token is not None
    with pytest.raises(AccessDenied, match="cannot reset your own second factor"):
        await service.reset_second_factor(token, eva.email)
    assert await _resets(store) == []


async def test_her_own_tokens_keep_working_while_the_reset_is_pending(
    service: AccessService, clock: ManualClock, anna: Member, admin: Identity
) -> None:
    signed_in = await login_as(service, clock, anna)
    own = await service.create_token(signed_in, "anna-script", [RESEND_CARD])
    await service.reset_second_factor(admin, EMAIL)
    held = await service.authenticate_token(own.token)
    assert held is not None and held.grants == {RESEND_CARD}
    # Deactivating the account still stops it.
    await service.deactivate_person(admin, EMAIL, reason="why")
    assert await service.authenticate_token(own.token) is None


async def test_two_resets_at_once_make_one_link(
    service: AccessService, store: Store, anna: Member, admin: Identity
) -> None:
    outcomes = await asyncio.gather(
        service.reset_second_factor(admin, EMAIL),
        service.reset_second_factor(LOCAL, EMAIL),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], BadAccessInput), outcomes
    assert len(await _resets(store)) == 1


# -- by e-mail -----------------------------------------------------------------------------------


@pytest.fixture
def inbox() -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


def _mailing(store: Store, clock: ManualClock, box: Mailbox | None = None) -> AccessService:
    mailer = box.mailer() if box else Mailbox(free_port()).mailer()  # nothing listens there
    return AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
        mailer=mailer,
    )


async def test_with_a_mail_server_the_setup_link_goes_to_the_person_only(
    store: Store, clock: ManualClock, anna: Member, inbox: Mailbox
) -> None:
    service = _mailing(store, clock, inbox)
    done = await service.reset_second_factor(LOCAL, EMAIL, reason="lost phone")
    assert done.sent and done.link is None and "link" not in done.to_json()
    [mail] = inbox.messages
    assert mail["To"] == EMAIL and mail["Subject"] == RESET_SUBJECT
    assert "reset the second factor" in mail.get_content()
    await _set_up_again(service, clock, inbox.link())
    [entry] = await _resets(store)
    assert entry.details["mail"] == "sent"
    assert link_secret(inbox.link()) not in repr(await store.list_audit(limit=1000))


async def test_a_setup_mail_that_cannot_be_sent_still_resets_and_says_to_send_it_again(
    store: Store, clock: ManualClock, anna: Member, inbox: Mailbox
) -> None:
    with pytest.raises(MailFailed, match=r"^the second factor is reset") as failed:
        await _mailing(store, clock).reset_second_factor(LOCAL, EMAIL)
    assert "send the invitation again" in str(failed.value)
    # The old factor stopped all the same: a mail server that is down does not keep it alive.
    with pytest.raises(LoginRefused):
        await _mailing(store, clock).login(EMAIL, anna.password, next_code(anna, clock))
    [entry] = await _resets(store)
    assert entry.details["mail"] == "failed"
    # Once mail works, the invitation sent again brings the link, in the reset's own words.
    await _mailing(store, clock, inbox).reinvite(LOCAL, EMAIL)
    [mail] = inbox.messages
    assert mail["Subject"] == RESET_SUBJECT
    assert "reset the second factor" in mail.get_content()
    [again] = await store.list_audit(AuditFilter(action="person.reinvite"))
    assert again.details["second_factor_reset"] is True
    await _set_up_again(_mailing(store, clock, inbox), clock, inbox.link())


async def test_the_listing_tells_a_pending_reset_from_a_new_invitation(
    service: AccessService, store: Store, clock: ManualClock, anna: Member, admin: Identity
) -> None:
    await service.invite(admin, "bob@example.nl", [VIEWER_LAB])

    def shown(views: list[PersonView]) -> dict[str, tuple[str, bool, str]]:
        return {v.email: (v.status, v.second_factor_reset, v.status_text) for v in views}

    before = shown(await service.list_people(admin))
    assert before[EMAIL] == ("active", False, "active")
    assert before["bob@example.nl"] == ("invited", False, "invited")

    link = await service.reset_second_factor(admin, EMAIL)
    pending = shown(await service.list_people(admin))
    assert pending[EMAIL] == ("invited", True, "invited again (second factor reset)")
    assert pending["bob@example.nl"] == ("invited", False, "invited")
    [anna_json] = [v.to_json() for v in await service.list_people(admin) if v.email == EMAIL]
    assert anna_json["status"] == "invited" and anna_json["second_factor_reset"] is True

    assert link.link is not None
    await _set_up_again(service, clock, link.link)
    assert shown(await service.list_people(admin))[EMAIL] == ("active", False, "active")
