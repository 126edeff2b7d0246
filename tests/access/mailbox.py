"""A real SMTP server on loopback (aiosmtpd, in a thread of its own) that keeps what it gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from integrator.access.mail import SmtpMailer
from tests.services import free_port

SENDER = "integrator@example.nl"
#: The second factor reset's subject, Dutch and English (the mail holds both).
RESET_SUBJECT = "Stel het inloggen bij Integrator opnieuw in / Set up your Integrator sign-in again"


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: str | None = None  # an SMTP answer to every recipient, e.g. "550 no such user"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def mailer(self) -> SmtpMailer:
        return SmtpMailer("127.0.0.1", self.port, sender=SENDER, starttls=False, timeout=10)

    def link(self, index: int = -1) -> str:
        """The invitation link in a received mail."""
        body = self.messages[index].get_content()
        found = re.findall(r"\S+/invitation#\S+", body)
        assert found, body
        assert len(set(found)) == 1, "one link, in the Dutch text and the English one"
        return str(found[0])


@contextmanager
def mailbox(port: int | None = None) -> Iterator[Mailbox]:
    """A server on ``port`` (default: a free one) until the block ends."""
    box = Mailbox(port or free_port())
    # A generous start-up wait: the machine may be busy.
    controller = Controller(box, hostname="127.0.0.1", port=box.port, ready_timeout=30)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
