"""The access refusals name the rule, never what was typed (docs/access.md, "The CLI"; the
common rule "no error echoes").

Found in a security review: ``integrator users reset-2fa`` (and every ``users`` command)
answered an unknown address with "nobody has the address <it>", ``tokens revoke`` with a
token pasted in its id's place printed the token back, and the refusals of a link not shown
and of a mail not sent named the person's address, in the CLI, the API and both console
languages.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

from integrator.access import AccessDenied, AccessService, Grant, Role
from integrator.access.mail import MailFailed, SmtpMailer
from integrator.clock import ManualClock
from integrator.console.refusals import said, say
from integrator.store import Store
from tests.access.conftest import LOCAL, onboard
from tests.access.mailbox import SENDER
from tests.access.test_mail import mailing
from tests.services import free_port

ADDRESS = "nobody.here@example.nl"


def _refusal(result: Result) -> str:
    """What a refused command printed, its lines joined (the console wraps long ones)."""
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def test_the_users_commands_do_not_say_an_unknown_address_back(
    cli: Callable[..., Result],
) -> None:
    for args in (
        ("users", "reset-2fa", ADDRESS),
        ("users", "reinvite", ADDRESS),
        ("users", "grant", ADDRESS, "--role", "viewer", "--reason", "x"),
        ("users", "deactivate", ADDRESS, "--reason", "left"),
        ("users", "deactivate", ADDRESS, "--role", "viewer", "--reason", "x"),
    ):
        shown = _refusal(cli(*args))
        assert "EMAIL: no account has this e-mail address" in shown, (args, shown)
        assert "nobody.here" not in shown, (args, shown)


def test_create_admin_of_an_address_with_an_account_does_not_say_it_back(
    cli: Callable[..., Result],
) -> None:
    assert cli("users", "invite", ADDRESS, "--role", "viewer").exit_code == 0
    assert cli("users", "deactivate", ADDRESS, "--reason", "left").exit_code == 0
    shown = _refusal(cli("users", "create-admin", ADDRESS))
    assert "EMAIL: this address has an account already (deactivated)" in shown, shown
    assert "nobody.here" not in shown


def test_a_token_pasted_where_its_id_belongs_is_not_printed_back(
    cli: Callable[..., Result],
) -> None:
    made = cli("tokens", "create", "ci-intake", "--role", "intake", "--json")
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)["token"]
    for args in (("tokens", "revoke", token), ("tokens", "revoke", token, "--json")):
        refused = cli(*args)
        assert refused.exit_code == 2, refused.output
        assert token not in refused.output and token[4:20] not in refused.output
        assert "no token with that id" in refused.output
    assert "active" in cli("tokens", "list").stdout  # and it was not revoked


async def test_the_link_not_shown_names_the_rule_not_the_address(
    service: AccessService, clock: ManualClock
) -> None:
    """Without a mail server, an admin without ``resend`` gets no link for an account that
    holds it: the refusal says why, in every language, without the address."""
    await service.invite(LOCAL, ADDRESS, [Grant(Role.RESEND)])
    await onboard(service, clock, "support.one@example.nl", Grant(Role.RESEND, "CARD"))
    made = await service.create_token(LOCAL, "admin-bot", [Grant(Role.ADMIN)])
    admin = await service.authenticate_token(made.token)
    assert admin is not None
    for attempt in (
        service.reinvite(admin, ADDRESS),
        service.reset_second_factor(admin, "support.one@example.nl"),
    ):
        with pytest.raises(AccessDenied) as refused:
            await attempt
        denied = refused.value
        dutch = say("nl", said(denied))
        assert dutch.startswith("de link wordt niet aan jou getoond"), dutch
        for shown in (str(denied), say("en", said(denied)), dutch):
            assert "@example.nl" not in shown, shown


async def test_a_mail_not_sent_names_what_failed_not_the_address(
    store: Store, clock: ManualClock, service: AccessService
) -> None:
    await onboard(service, clock, ADDRESS, Grant(Role.VIEWER))
    nobody = SmtpMailer("127.0.0.1", free_port(), sender=SENDER, starttls=False, timeout=10)
    mailer = mailing(store, clock, nobody)
    attempts = {
        "the person is invited, but the invitation could not be sent": mailer.invite(
            LOCAL, "someone.else@example.nl", [Grant(Role.VIEWER)]
        ),
        "the second factor is reset, but its setup link could not be sent": (
            mailer.reset_second_factor(LOCAL, ADDRESS)
        ),
    }
    dutch_starts = iter(("de persoon is uitgenodigd", "de tweede factor is gereset"))
    for start, attempt in attempts.items():
        with pytest.raises(MailFailed) as failed:
            await attempt
        english, dutch = str(failed.value), say("nl", said(failed.value))
        assert english.startswith(start), english
        assert dutch.startswith(next(dutch_starts)), dutch
        for shown in (english, say("en", said(failed.value)), dutch):
            assert "@example.nl" not in shown, shown
            assert "127.0.0.1:" in shown and "#" not in shown  # what failed; not the link


def test_an_address_that_reads_as_markup_is_printed_as_it_is(
    cli: Callable[..., Result],
) -> None:
    """``a[/]b@example.nl`` passes the address rule; printed as rich markup, its ``[/]``
    crashed ``users invite`` after the invitation was made (the one-time link never shown),
    and every later command printing the address."""
    odd = "a[/]b:smile:@example.nl"
    invited = cli("users", "invite", odd, "--role", "viewer")
    assert invited.exit_code == 0, invited.output
    assert f"Invitation link for {odd}, valid until" in invited.stdout
    assert "/invitation#" in invited.stdout
    granted = cli("users", "grant", odd, "--role", "reports", "--reason", "monthly figures")
    assert granted.exit_code == 0, granted.output
    assert granted.stdout.startswith(f"{odd}: invited; grants: reports@*")
    deactivated = cli("users", "deactivate", odd, "--reason", "left")
    assert deactivated.exit_code == 0, deactivated.output
    assert deactivated.stdout.startswith(f"{odd} is deactivated.")
    # And the listing: its cells were rich text too, where ``:smile:`` became an emoji.
    listed = cli("users", "list")
    assert listed.exit_code == 0, listed.output
    assert odd in listed.stdout, listed.stdout
