"""``integrator users reset-2fa`` through the real command line app (docs/access.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from integrator.access import AccessService, LoginRefused, totp
from integrator.clock import SystemClock
from integrator.store import AuditRecord, Store
from tests.access.conftest import PASSWORD, link_secret
from tests.access.mailbox import RESET_SUBJECT, SENDER, mailbox

EMAIL = "anna@example.nl"


def _on_store(env: dict[str, str], action: Any) -> Any:
    async def run() -> Any:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await action(store, AccessService(store, SystemClock()))

    return asyncio.run(run())


def _accept(env: dict[str, str], link: str) -> tuple[str, list[str]]:
    """Accept as the person would: (their TOTP secret, their recovery codes)."""

    async def accept(store: Store, access: AccessService) -> tuple[str, list[str]]:
        start = await access.begin_accept(link_secret(link))
        code = totp.code_at(start.totp_secret, SystemClock().now())
        done = await access.finish_accept(link_secret(link), PASSWORD, code)
        return start.totp_secret, done.recovery_codes

    result: tuple[str, list[str]] = _on_store(env, accept)
    return result


def _login_refused(env: dict[str, str], code: str) -> bool:
    async def login(store: Store, access: AccessService) -> bool:
        try:
            await access.login(EMAIL, PASSWORD, code)
        except LoginRefused:
            return True
        return False

    refused: bool = _on_store(env, login)
    return refused


def _audit(env: dict[str, str]) -> list[AuditRecord]:
    async def read(store: Store, access: AccessService) -> list[AuditRecord]:
        return await store.list_audit(target=f"person:{EMAIL}")

    entries: list[AuditRecord] = _on_store(env, read)
    return entries


def _active_anna(cli: Any, env: dict[str, str]) -> list[str]:
    invited = cli("users", "invite", EMAIL, "--role", "resend", "--cluster", "CARD", "--json")
    assert invited.exit_code == 0, invited.output
    return _accept(env, json.loads(invited.stdout)["link"])[1]


def test_reset_2fa_prints_a_setup_link_that_sets_up_a_new_factor(
    cli: Any, env: dict[str, str]
) -> None:
    codes = _active_anna(cli, env)
    done = cli("users", "reset-2fa", "Anna@Example.nl", "--reason", "lost phone")
    assert done.exit_code == 0, done.output
    assert f"The second factor of {EMAIL} is reset" in done.stdout
    link = next(line for line in done.stdout.splitlines() if "/invitation#" in line)
    assert link.startswith("http://127.0.0.1:9090/invitation#")
    assert _login_refused(env, codes[0])  # her recovery codes stopped

    [entry] = [e for e in _audit(env) if e.action == "person.reset_second_factor"]
    assert (entry.actor, entry.reason) == ("local:piet", "lost phone")
    assert link_secret(link) not in repr(entry)
    pending = json.loads(cli("users", "list", "--json").stdout)
    [anna] = [p for p in pending if p["email"] == EMAIL]
    assert (anna["status"], anna["second_factor_reset"]) == ("invited", True)
    assert "invited again (second factor reset)" in cli("users", "list").stdout
    _accept(env, link)
    listed = json.loads(cli("users", "list", "--json").stdout)
    [anna] = [p for p in listed if p["email"] == EMAIL]
    assert (anna["status"], anna["second_factor_reset"]) == ("active", False)
    assert anna["grants"] == [{"role": "resend", "cluster": "CARD"}]

    again = cli("users", "reset-2fa", EMAIL, "--json", "--base-url", "https://x.nl")
    assert again.exit_code == 0, again.output
    shown = json.loads(again.stdout)
    assert shown["email"] == EMAIL and shown["sent"] is False
    assert shown["link"].startswith("https://x.nl/invitation#")


def test_reset_2fa_refusals_name_the_rule(cli: Any, env: dict[str, str]) -> None:
    assert cli("users", "invite", "bo@example.nl", "--role", "viewer").exit_code == 0
    cases = {
        ("users", "reset-2fa", "bo@example.nl"): "this person is invited",
        ("users", "reset-2fa", "nobody@example.nl"): "EMAIL: no account has this e-mail address",
        ("users", "reset-2fa", "nobody"): "EMAIL: not an e-mail address",
    }
    assert cli("users", "deactivate", "bo@example.nl", "--reason", "left").exit_code == 0
    cases[("users", "reset-2fa", "bo@example.nl")] = "this account is deactivated"
    for args, rule in cases.items():
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert rule in " ".join(result.stderr.split()), (args, result.stderr)


def test_reset_2fa_mails_the_link_when_a_mail_server_is_set(cli: Any, env: dict[str, str]) -> None:
    _active_anna(cli, env)
    with mailbox() as inbox:
        env.update(
            INTEGRATOR_SMTP_HOST="127.0.0.1",
            INTEGRATOR_SMTP_PORT=str(inbox.port),
            INTEGRATOR_SMTP_FROM=SENDER,
            INTEGRATOR_SMTP_STARTTLS="false",
        )
        done = cli("users", "reset-2fa", EMAIL)
        assert done.exit_code == 0, done.output
        assert f"Setup link sent by e-mail to {EMAIL}" in done.stdout
        assert "/invitation#" not in done.stdout
        [mail] = inbox.messages
        assert mail["Subject"] == RESET_SUBJECT
    [entry] = [e for e in _audit(env) if e.action == "person.reset_second_factor"]
    assert entry.details["mail"] == "sent"
