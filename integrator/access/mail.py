"""Sending invitation and setup links by e-mail: one narrow ``Mailer`` and its SMTP sender.

The service depends only on ``Mailer``, so tests and a future transport (an HTTP mail API) can
stand in without the rules changing. ``SmtpMailer`` uses the standard library's ``smtplib`` in a
worker thread: an invitation is a rare, small message, and a thread keeps the event loop free
while the mail server takes its time, without one more dependency.

A failure of any kind (no connection, refused login, refused recipient, timeout) becomes one
``MailFailed`` whose text names what failed and never the message: the link in it is a secret.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from integrator.errors import IntegratorError


class MailFailed(IntegratorError):
    """The mail server did not take the message."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail system, or raise ``MailFailed``."""


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 30.0

    async def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.sender
        # RFC 5322 requires the origination date; without a Message-ID and a Date, mail
        # filters score an invitation as likely spam, and it may never reach the colleague.
        if "Date" not in message:
            message["Date"] = formatdate(localtime=True)
        if "Message-ID" not in message:
            message["Message-ID"] = make_msgid(domain=_domain_of(self.sender))
        await asyncio.to_thread(self._send_now, message)

    def _send_now(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise self._refused(exc.smtp_code) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _text in exc.recipients.values()})
            raise self._refused(*codes) from None
        except (smtplib.SMTPException, OSError) as exc:
            server, why = f"{self.host}:{self.port}", type(exc).__name__
            raise MailFailed(f"no mail sent through {server} ({why})").coded(
                "mail.not_sent", server=server, why=why
            ) from None

    def _refused(self, *codes: int) -> MailFailed:
        answer = ", ".join(str(code) for code in codes)
        server = f"{self.host}:{self.port}"
        return MailFailed(f"the mail server {server} refused the message (SMTP {answer})").coded(
            "mail.refused", server=server, answer=answer
        )


def _domain_of(sender: str) -> str | None:
    """The domain of the sender's address, for the Message-ID (rather than this host's name,
    which ``make_msgid`` would otherwise put in every mail)."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or None


def _until(expires_at: datetime) -> str:
    """``2026-12-10 18:26 (+01:00)``: the expiry as the reader's clock shows it, in the zone
    the caller gave, with the offset, so it names one moment also in the hour that repeats."""
    offset = expires_at.strftime("%z")
    return f"{expires_at:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})"


#: Between the Dutch text and the English one: the console speaks Dutch by default and
#: English on request, and the engine does not know which the invited person reads, so a mail
#: holds both, Dutch first.
_BETWEEN = "\n-- English below --\n\n"


def _both(to: str, subject_nl: str, subject_en: str, dutch: str, english: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = f"{subject_nl} / {subject_en}"
    message.set_content(dutch + _BETWEEN + english)
    return message


def invitation_mail(to: str, name: str, link: str, expires_at: datetime) -> EmailMessage:
    """The invitation as a plain-text mail: the link, how long it works, what comes next."""
    until = _until(expires_at)
    return _both(
        to,
        "Uitnodiging voor Integrator",
        "Your invitation to Integrator",
        f"Beste {name},\n\n"
        "Je bent uitgenodigd voor Integrator, de HL7-integratie-engine. Open deze link om een\n"
        "wachtwoord te kiezen en de tweede factor (een authenticator-app) in te stellen:\n\n"
        f"{link}\n\n"
        f"De link werkt één keer, tot {until}. Is hij verlopen,\n"
        "vraag dan de beheerder die je uitnodigde om hem opnieuw te sturen.\n",
        f"Hello {name},\n\n"
        "You have been invited to Integrator, the HL7 integration engine. Open this link to\n"
        "choose a password and set up the second factor (an authenticator app):\n\n"
        f"{link}\n\n"
        f"The link works once, until {until}. If it has\n"
        "expired, ask the admin who invited you to send it again.\n",
    )


def second_factor_reset_mail(to: str, name: str, link: str, expires_at: datetime) -> EmailMessage:
    """After an admin reset the person's second factor: why the old one stopped, the link to
    set up the account again, and whom to tell if they did not ask for it."""
    until = _until(expires_at)
    return _both(
        to,
        "Stel het inloggen bij Integrator opnieuw in",
        "Set up your Integrator sign-in again",
        f"Beste {name},\n\n"
        "Een beheerder heeft de tweede factor van je Integrator-account gereset: je\n"
        "authenticator-app, je herstelcodes en je wachtwoord geven geen toegang meer, en je\n"
        "open sessies zijn beëindigd. Open deze link om een nieuw wachtwoord te kiezen en de\n"
        "tweede factor (een authenticator-app) opnieuw in te stellen; je krijgt nieuwe\n"
        "herstelcodes:\n\n"
        f"{link}\n\n"
        f"De link werkt één keer, tot {until}. Is hij verlopen, vraag\n"
        "dan een beheerder om hem opnieuw te sturen. Heb je hier niet om gevraagd, meld het\n"
        "dan aan een beheerder.\n",
        f"Hello {name},\n\n"
        "An admin has reset the second factor of your Integrator account: your authenticator\n"
        "app, your recovery codes and your password no longer sign you in, and your open\n"
        "sessions have ended. Open this link to choose a new password and set up the second\n"
        "factor (an authenticator app) again; you get new recovery codes:\n\n"
        f"{link}\n\n"
        f"The link works once, until {until}. If it has\n"
        "expired, ask an admin to send it again. If you did not ask for this, tell an admin.\n",
    )
