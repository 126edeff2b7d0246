"""Invitations by e-mail, through a real SMTP server on loopback (docs/access.md).

With a mailer the link goes to the invited person and to nobody else: the admin's answer holds
no link. A mail that cannot be sent leaves the person invited and says to send it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from integrator.access import AccessService, AccessSettings, Grant, InvitationInvalid, Role, totp
from integrator.access.mail import (
    MailFailed,
    SmtpMailer,
    invitation_mail,
    second_factor_reset_mail,
)
from integrator.access.passwords import Passwords
from integrator.clock import ManualClock
from integrator.store import AuditFilter, Store
from tests.access.conftest import BASE_URL, LOCAL, PASSWORD, link_secret
from tests.access.mailbox import SENDER, Mailbox, mailbox
from tests.services import free_port

MailMaker = Callable[[str, str, str, datetime], EmailMessage]


@pytest.fixture
def inbox() -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


def mailing(store: Store, clock: ManualClock, mailer: SmtpMailer) -> AccessService:
    return AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
        mailer=mailer,
    )


async def test_the_invitation_is_mailed_and_its_link_works_and_is_shown_to_nobody_else(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    service = mailing(store, clock, inbox.mailer())
    invited = await service.invite(LOCAL, "anna@example.nl", [Grant(Role.VIEWER)], name="Anna")
    assert invited.link is None and invited.sent
    assert "link" not in invited.to_json() and invited.to_json()["sent"] is True
    [mail] = inbox.messages
    assert (mail["To"], mail["From"]) == ("anna@example.nl", SENDER)
    assert "Hello Anna" in mail.get_content()
    assert mail["Subject"] == "Uitnodiging voor Integrator / Your invitation to Integrator"
    link = inbox.link()
    assert link.startswith(f"{BASE_URL}/invitation#")
    start = await service.begin_accept(link_secret(link))
    code = totp.code_at(start.totp_secret, clock.now())
    await service.finish_accept(link_secret(link), PASSWORD, code)
    [entry] = await store.list_audit(AuditFilter(action="person.invite"))
    assert entry.details["mail"] == "sent" and link_secret(link) not in repr(entry)


async def test_the_mail_gives_the_expiry_in_the_readers_zone_and_has_a_date_and_an_id(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    # Before, the expiry was UTC ("until 2026-12-10T17:26+00:00": an hour early to a reader in
    # Amsterdam, two in summer), and the mail had no Date (RFC 5322 requires one) nor Message-ID.
    amsterdam = ZoneInfo("Europe/Amsterdam")
    service = AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL, zone=amsterdam),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
        mailer=inbox.mailer(),
    )
    invited = await service.invite(LOCAL, "dirk@example.nl", [Grant(Role.VIEWER)])
    local = invited.expires_at.astimezone(amsterdam)
    [mail] = inbox.messages
    summer = local.utcoffset() == timedelta(hours=2)
    offset = "+02:00" if summer else "+01:00"
    assert f"until {local:%Y-%m-%d %H:%M} ({offset})." in mail.get_content()
    sent_at = parsedate_to_datetime(mail["Date"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert mail["Message-ID"].endswith("@example.nl>"), mail["Message-ID"]


async def test_sending_again_mails_a_new_link_and_the_first_stops_working(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    service = mailing(store, clock, inbox.mailer())
    await service.invite(LOCAL, "bo@example.nl", [Grant(Role.VIEWER)])
    again = await service.reinvite(LOCAL, "bo@example.nl")
    assert again.link is None
    first, second = inbox.link(0), inbox.link(1)
    assert first != second
    with pytest.raises(InvitationInvalid, match="replaced"):
        await service.begin_accept(link_secret(first))
    await service.begin_accept(link_secret(second))


async def test_a_mail_that_cannot_be_sent_leaves_the_person_invited_to_send_again(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    nobody = SmtpMailer("127.0.0.1", free_port(), sender=SENDER, starttls=False, timeout=10)
    with pytest.raises(MailFailed) as failed:
        await mailing(store, clock, nobody).invite(LOCAL, "cor@example.nl", [Grant(Role.VIEWER)])
    message = str(failed.value)
    assert "the person is invited, but the invitation could not be sent" in message
    assert "send the invitation again" in message and "#" not in message
    [person] = await mailing(store, clock, nobody).list_people(LOCAL)
    assert (person.email, person.status) == ("cor@example.nl", "invited")
    [entry] = await store.list_audit(AuditFilter(action="person.invite"))
    assert entry.details["mail"] == "failed"
    # Once mail works, sending it again delivers a link that works.
    await mailing(store, clock, inbox.mailer()).reinvite(LOCAL, "cor@example.nl")
    await mailing(store, clock, inbox.mailer()).begin_accept(link_secret(inbox.link()))


async def test_a_refused_recipient_is_a_clear_failure(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    inbox.refuse = "550 no such user"
    with pytest.raises(MailFailed, match=r"refused the message \(SMTP 550\)"):
        await mailing(store, clock, inbox.mailer()).invite(
            LOCAL, "dirk@example.nl", [Grant(Role.VIEWER)]
        )
    assert inbox.messages == []


async def test_with_starttls_required_nothing_is_sent_in_the_clear(
    store: Store, clock: ManualClock, inbox: Mailbox
) -> None:
    # The test server offers no STARTTLS: the mailer must give up rather than send the link.
    strict = SmtpMailer("127.0.0.1", inbox.port, sender=SENDER, starttls=True, timeout=10)
    with pytest.raises(MailFailed, match="SMTPNotSupportedError"):
        await mailing(store, clock, strict).invite(LOCAL, "eva@example.nl", [Grant(Role.VIEWER)])
    assert inbox.messages == []


@pytest.mark.parametrize("make", [invitation_mail, second_factor_reset_mail])
def test_a_mail_says_it_all_in_dutch_first_then_in_english(make: MailMaker) -> None:
    """The console speaks Dutch unless asked otherwise; the engine does not know which the
    person reads, so the mail holds both, each whole: the link and its expiry in each."""
    expires = datetime(2026, 12, 10, 18, 26, tzinfo=ZoneInfo("Europe/Amsterdam"))
    link = f"{BASE_URL}/invitation#secret"
    body = make("anna@example.nl", "Anna", link, expires).get_content()
    dutch, marker, english = body.partition("-- English below --")
    assert marker, body
    assert dutch.startswith("Beste Anna,") and english.strip().startswith("Hello Anna,")
    for text in (dutch, english):
        assert link in text and "2026-12-10 18:26 (+01:00)" in text
    assert "De link werkt één keer" in dutch and "The link works once" in english
