"""``integrator users …`` and ``integrator tokens …`` through the real command line app."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrator.access import AccessService, Grant, Identity, Role, totp
from integrator.access import service as access_service
from integrator.cli.views import short_ids
from integrator.clock import SystemClock
from integrator.store import AuditRecord, Store
from tests.access.conftest import PASSWORD
from tests.access.mailbox import SENDER, mailbox
from tests.cli_in_process import json_error, run_cli

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SHOWN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
ANY_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+[+-]\d{2}:\d{2}")


def _audit(env: dict[str, str], target: str) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_audit(target=target)

    return asyncio.run(read())


def _authenticate(env: dict[str, str], token: str) -> Identity | None:
    async def check() -> Identity | None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await AccessService(store, SystemClock()).authenticate_token(token)

    return asyncio.run(check())


def test_create_admin_prints_a_one_time_link(cli: Any, env: dict[str, str]) -> None:
    done = cli("users", "create-admin", "Root@Example.nl", "--name", "Beheer")
    assert done.exit_code == 0, done.output
    assert "root@example.nl" in done.stdout
    link = next(line for line in done.stdout.splitlines() if "/invitation#" in line)
    assert link.startswith("http://127.0.0.1:9090/invitation#")

    again = cli("users", "create-admin", "root@example.nl", "--json", "--base-url", "https://x.nl")
    assert again.exit_code == 0, again.output
    shown = json.loads(again.stdout)
    assert shown["link"].startswith("https://x.nl/invitation#") and shown["link"] != link

    entries = _audit(env, "person:root@example.nl")
    assert [(e.actor, e.action) for e in entries] == [("local:piet", "person.create_admin")] * 2

    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(p["email"], p["name"], p["status"], p["grants"]) for p in listed] == [
        ("root@example.nl", "Beheer", "invited", [{"role": "admin", "cluster": None}])
    ]


def test_create_admin_of_someone_invited_says_what_they_held(cli: Any) -> None:
    assert (
        cli("users", "invite", "bob@example.nl", "--role", "resend", "--cluster", "CARD").exit_code
        == 0
    )
    done = cli("users", "create-admin", "bob@example.nl")
    assert done.exit_code == 0, done.output
    assert (
        "warning: bob@example.nl was invited already (resend@CARD); they now hold admin for "
        "all clusters as well, and the link they were given before no longer works"
    ) in " ".join(done.stderr.split())
    shown = json.loads(cli("users", "create-admin", "carl@example.nl", "--json").stdout)
    assert "invited_before_with" not in shown  # nobody was invited there before


def test_users_commands_refuse_bad_input_with_exit_2(cli: Any) -> None:
    cases = {
        ("users", "create-admin", "root"): "EMAIL: not an e-mail address",
        ("users", "invite", "anna@example.nl"): "--role: an invitation needs at least one role",
        ("users", "invite", "anna@example.nl", "--role", "boss"): "--role: unknown role 'boss'",
        ("users", "deactivate", "nobody@example.nl", "--reason", "x"): "EMAIL: no account has",
        ("users", "deactivate", "nobody@example.nl"): "EMAIL: no account has",
        ("users", "grant", "a@example.nl", "--role", "viewer"): "--reason: a reason is required",
        ("users", "deactivate", "a@example.nl", "--cluster", "CARD"): "--cluster: only together",
    }
    for args, rule in cases.items():
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert rule in " ".join(result.stderr.split()), (args, result.stderr)


def test_deactivating_an_address_with_no_account_says_so_before_asking_for_a_reason(
    cli: Any, env: dict[str, str]
) -> None:
    """docs/access.md, "Commands": `users deactivate` needs `--reason`, but an
    address no account has is said first, as every `users` command says it (exit 2, naming
    EMAIL): asked for a reason first, people wrote one, only to learn then that the address
    they typed was wrong. A real account without a reason is still asked for one."""
    nobody = "nobody@example.org"
    for args in (
        (),
        ("--role", "viewer"),
        ("--role", "viewer", "--cluster", "CARD"),
        ("--reason", "x" * 1001),
    ):
        refused = cli("users", "deactivate", nobody, *args, "--json")
        error = json_error(refused.stdout, 2)
        assert error["fields"] == ["EMAIL"], (args, error)
        assert error["message"].startswith("EMAIL: no account has this e-mail address"), args
        assert nobody not in refused.stdout + refused.stderr  # the address is not said back

    invited = ("users", "invite", "anna@example.nl", "--role", "viewer", "--cluster", "CARD")
    assert cli(*invited).exit_code == 0
    for args in ((), ("--role", "viewer", "--cluster", "CARD")):
        asked = cli("users", "deactivate", "anna@example.nl", *args)
        assert asked.exit_code == 2, (args, asked.output)
        assert "--reason: a reason is required" in " ".join(asked.stderr.split()), args
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(p["status"], p["grants"]) for p in listed] == [
        ("invited", [{"role": "viewer", "cluster": "CARD"}])
    ]


def test_invite_list_grant_and_deactivate(cli: Any, env: dict[str, str]) -> None:
    invited = cli(
        "users", "invite", "anna@example.nl", "--role", "resend", "--role", "viewer",
        "--cluster", "CARD", "--reason", "new colleague", "--json",
    )  # fmt: skip
    assert invited.exit_code == 0, invited.output
    assert "/invitation#" in json.loads(invited.stdout)["link"]
    assert cli("users", "invite", "anna@example.nl", "--role", "viewer").exit_code == 2
    assert cli("users", "reinvite", "anna@example.nl").exit_code == 0

    granted = cli(
        "users", "grant", "anna@example.nl", "--role", "viewer", "--reason", "r", "--json"
    )
    assert granted.exit_code == 0, granted.output
    assert json.loads(granted.stdout)["grants"] == [{"role": "viewer", "cluster": None}]

    taken = cli(
        "users", "deactivate", "anna@example.nl", "--role", "viewer", "--reason", "r", "--json"
    )
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["grants"] == []
    assert cli("users", "deactivate", "anna@example.nl", "--reason", "left").exit_code == 0
    already = cli("users", "deactivate", "anna@example.nl", "--reason", "left")
    assert already.exit_code == 2

    human = cli("users", "list")
    assert human.exit_code == 0 and "deactivated" in human.stdout
    actions = [e.action for e in reversed(_audit(env, "person:anna@example.nl"))]
    assert actions == [
        "person.invite",
        "person.reinvite",
        "person.grants",
        "person.role_deactivate",
        "person.deactivate",
    ]


def test_tokens_create_list_revoke(cli: Any, env: dict[str, str]) -> None:
    created = cli("tokens", "create", "prometheus", "--role", "metrics", "--expires", "30d")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("itg_") and "\n" not in token
    assert "shown once" in created.stderr
    # Which store the token is in, on stderr: `$(integrator tokens create …)` gets the token.
    assert created.stderr.startswith(f"store: {env['INTEGRATOR_DATABASE_URL']}\n")
    identity = _authenticate(env, token)
    assert identity is not None and identity.display == "token:prometheus"

    scoped = cli("tokens", "create", "lab", "--role", "viewer", "--cluster", "CARD", "--json")
    assert scoped.exit_code == 0, scoped.output
    lab = json.loads(scoped.stdout)
    assert lab["grants"] == ["viewer@CARD"] and lab["token"].startswith("itg_")
    # Submitting events is asked for every cluster: for one it would be refused at first use.
    useless = cli("tokens", "create", "lab-in", "--role", "intake", "--cluster", "CARD")
    assert useless.exit_code == 2 and useless.stdout == ""
    assert "--cluster: intake is given for all clusters only" in useless.stderr
    assert "leave the cluster CARD out" in useless.stderr

    listing = cli("tokens", "list", "--json")
    assert listing.exit_code == 0
    assert token not in listing.stdout and lab["token"] not in listing.stdout
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows.keys() == {"prometheus", "lab"}  # nothing made by the refusal
    assert rows["prometheus"]["prefix"] == token[:12]
    assert rows["prometheus"]["status"] == "active"
    assert rows["prometheus"]["last_used_at"] is not None  # authenticated above
    assert cli("tokens", "list").exit_code == 0

    revoked = cli("tokens", "revoke", rows["prometheus"]["id"][:8], "--reason", "rotated")
    assert revoked.exit_code == 0, revoked.output
    assert _authenticate(env, token) is None
    again = cli("tokens", "revoke", rows["prometheus"]["id"])
    assert again.exit_code == 2 and "revoked already" in again.stderr
    entries = _audit(env, "token:prometheus")
    assert [(e.actor, e.action) for e in reversed(entries)] == [
        ("local:piet", "token.create"),
        ("local:piet", "token.revoke"),
    ]


def _local(text: str | None) -> bool:
    """Whether ``text`` is a time in Amsterdam, with its offset (never UTC's, there)."""
    assert text is not None
    moment = datetime.fromisoformat(text)
    return moment.utcoffset() == moment.astimezone(AMSTERDAM).utcoffset()


def _shown(output: str) -> list[str]:
    """The times in ``output``, each checked to be as tables show them: local, to the second."""
    times = ANY_TIME.findall(output)
    assert times and all(SHOWN_TIME.fullmatch(t) and _local(t) for t in times), output
    return times


def test_every_time_tokens_and_invitations_print_is_local(cli: Any, env: dict[str, str]) -> None:
    """They printed ``valid until …+00:00`` and listed UTC (docs/support.md, "Times")."""
    env["INTEGRATOR_TIMEZONE"] = "Europe/Amsterdam"
    created = cli("tokens", "create", "prometheus", "--role", "metrics")
    assert created.exit_code == 0, created.output
    [_] = _shown(created.stderr)
    made = json.loads(cli("tokens", "create", "lab", "--role", "intake", "--json").stdout)
    assert _local(made["expires_at"])
    assert len(_shown(cli("tokens", "list").stdout)) == 2  # each expiry; neither used yet
    [listed, _] = json.loads(cli("tokens", "list", "--json").stdout)
    assert _local(listed["created_at"]) and _local(listed["expires_at"])
    revoked = json.loads(cli("tokens", "revoke", made["id"], "--json").stdout)
    assert _local(revoked["revoked_at"])

    for command in (
        ("users", "create-admin", "root@example.nl"),
        ("users", "invite", "anna@example.nl", "--role", "viewer"),
    ):
        done = cli(*command)
        assert done.exit_code == 0, done.output
        [_] = _shown(done.stdout.split("\n", 1)[0])  # "valid until …"; the link follows
    invited = json.loads(cli("users", "reinvite", "anna@example.nl", "--json").stdout)
    assert _local(invited["expires_at"])


def test_tokens_list_shows_short_ids_that_revoke_takes_back(cli: Any) -> None:
    """The table cut the id with an ellipsis that could not be copied back."""
    for name in ("prometheus", "lab", "grafana"):
        assert cli("tokens", "create", name, "--role", "metrics").exit_code == 0
    ids = {row["name"]: row["id"] for row in json.loads(cli("tokens", "list", "--json").stdout)}
    short = short_ids(ids.values())
    table = cli("tokens", "list")
    assert table.exit_code == 0, table.output
    assert "…" not in table.stdout
    for full in ids.values():
        assert f"{short[full]} " in table.stdout and full not in table.stdout
    revoked = cli("tokens", "revoke", short[ids["lab"]], "--json")
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["id"] == ids["lab"]


def test_tokens_refuse_bad_input_with_exit_2(cli: Any) -> None:
    cases = {
        ("tokens", "create", "x", "--role", "metrics", "--expires", "3w"): "--expires: ",
        ("tokens", "create", "x", "--role", "metrics", "--expires", "800d"): "--expires: ",
        ("tokens", "create", "x"): "--role: a token needs at least one role",
        ("tokens", "create", "bad name", "--role", "metrics"): "NAME: ",
        ("tokens", "create", "x", "--role", "root"): "--role: unknown role",
        ("tokens", "revoke", "abc"): "ID: ",
        ("tokens", "revoke", "abcdef"): "ID: no token",
    }
    for args, rule in cases.items():
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert rule in result.stderr, (args, result.stderr)


def test_invite_mails_the_link_when_a_mail_server_is_set(cli: Any, env: dict[str, str]) -> None:
    with mailbox() as inbox:
        env.update(
            INTEGRATOR_SMTP_HOST="127.0.0.1",
            INTEGRATOR_SMTP_PORT=str(inbox.port),
            INTEGRATOR_SMTP_FROM=SENDER,
            INTEGRATOR_SMTP_STARTTLS="false",
        )
        done = cli("users", "invite", "anna@example.nl", "--role", "viewer")
        assert done.exit_code == 0, done.output
        assert "sent by e-mail to anna@example.nl" in done.stdout
        assert "/invitation#" not in done.stdout
        assert inbox.link().startswith("http://127.0.0.1:9090/invitation#")
        shown = cli("users", "reinvite", "anna@example.nl", "--json")
        assert json.loads(shown.stdout)["sent"] is True and "link" not in json.loads(shown.stdout)
        assert len(inbox.messages) == 2
    # The server is gone: exit 1 with the reason, the person stays invited.
    failed = cli("users", "reinvite", "anna@example.nl")
    assert failed.exit_code == 1
    assert "could not be sent" in failed.output and "/invitation#" not in failed.output
    # A host without a sender is refused before anything is done.
    del env["INTEGRATOR_SMTP_FROM"]
    refused = cli("users", "invite", "bo@example.nl", "--role", "viewer")
    assert refused.exit_code == 2, refused.output
    assert "INTEGRATOR_SMTP_FROM" in refused.output


def test_a_cluster_no_destination_is_in_is_refused_naming_the_known_ones(cli: Any) -> None:
    """A cluster is only the ``cluster`` of destinations (config/destinations: CARD, LAB): a
    grant for another would let its holder see nothing, silently."""
    for args in (
        ("tokens", "create", "x3", "--role", "resend", "--cluster", "NOPE"),
        ("users", "invite", "bert@example.nl", "--role", "viewer", "--cluster", "NOPE"),
    ):
        refused = cli(*args)
        assert refused.exit_code == 2, (args, refused.output)
        said = " ".join(refused.stderr.split())
        assert "--cluster: no destination is in cluster NOPE" in said, said
        assert "the clusters there are: CARD, LAB" in said, said
    assert "x3" not in cli("tokens", "list").stdout
    made = cli("tokens", "create", "x3", "--role", "resend", "--cluster", "LAB", "--json")
    assert made.exit_code == 0, made.output


@pytest.mark.parametrize("cluster", [" LAB ", "LAB ", "  ", ""])
def test_a_blank_or_padded_cluster_is_refused_with_the_rule_of_a_destinations_cluster(
    cli: Any, cluster: str
) -> None:
    """``--cluster " LAB "`` was stripped to LAB here, while the API and the console took
    other views of it; now every front door hands it to the service, which refuses it."""
    for args in (
        ("tokens", "create", "x4", "--role", "resend", "--cluster", cluster),
        ("users", "invite", "bert@example.nl", "--role", "viewer", "--cluster", cluster),
        ("users", "grant", "root@example.nl", "--role", "viewer", "--cluster", cluster),
    ):
        refused = cli(*args, "--reason", "new colleague")
        assert refused.exit_code == 2, (args, refused.output)
        said = " ".join(refused.stderr.split())
        assert "--cluster: the name of cluster '" in said, said
        assert (
            "' must not be blank nor begin or end with white space (leave the cluster out for "
            "all clusters)"
        ) in said, said
    assert "x4" not in cli("tokens", "list").stdout


def test_revoke_by_a_start_several_ids_have_lists_them_to_pick_from(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said only "the start of several token ids; give more", leaving the operator to
    compare ids in ``tokens list`` by eye."""
    ids = iter(
        [
            "abcd1234-0000-4000-8000-000000000001",
            "abcd1234-0000-4000-8000-000000000002",
            "abce1234-0000-4000-8000-000000000003",
        ]
    )
    monkeypatch.setattr(access_service, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    made = {}
    for name in ("prometheus", "grafana", "lab"):
        created = cli("tokens", "create", name, "--role", "metrics", "--json")
        assert created.exit_code == 0, created.output
        made[name] = json.loads(created.stdout)

    refused = cli("tokens", "revoke", "abcd1234")
    assert refused.exit_code == 2, refused.output
    said = refused.stderr
    assert "ID: abcd1234 is the start of 2 token ids" in " ".join(said.split())
    for name in ("prometheus", "grafana"):  # as tokens list shows them: name, prefix, by
        assert name in said and made[name]["prefix"] in said
    assert "lab" not in said and "local:piet" in said
    for token in made.values():  # never a secret
        assert token["token"] not in said
    assert refused.stdout == ""
    assert all(
        row["status"] == "active" for row in json.loads(cli("tokens", "list", "--json").stdout)
    )

    picked = cli("tokens", "revoke", "abcd1234-0000-4000-8000-000000000002", "--json")
    assert picked.exit_code == 0, picked.output
    assert json.loads(picked.stdout)["name"] == "grafana"


def test_revoke_takes_an_id_start_in_any_case(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``tokens revoke ABCD1234`` said "no token" for a token whose id starts ``abcd1234``:
    message ids were matched regardless of case, token ids were not."""
    ids = iter(["abcd1234-0000-4000-8000-000000000001", "abcd1234-0000-4000-8000-000000000002"])
    monkeypatch.setattr(access_service, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    for name in ("prometheus", "grafana"):
        assert cli("tokens", "create", name, "--role", "metrics").exit_code == 0

    several = cli("tokens", "revoke", "ABCD1234")
    assert several.exit_code == 2, several.output
    said = " ".join(several.stderr.split())
    assert "ID: ABCD1234 is the start of 2 token ids" in said
    assert "prometheus" in said and "grafana" in said

    picked = cli("tokens", "revoke", "ABCD1234-0000-4000-8000-000000000001", "--json")
    assert picked.exit_code == 0, picked.output
    assert json.loads(picked.stdout)["name"] == "prometheus"
    assert "no token" in cli("tokens", "revoke", "ABCD9").stderr


def test_the_cli_makes_a_resend_token_and_says_what_a_revocation_stopped(
    cli: Any, env: dict[str, str]
) -> None:
    """The server's CLI may give a token ``resend`` (it reads the database anyway); tokens
    made with a token stop with it, and ``tokens revoke`` says which."""
    support = cli("tokens", "create", "anna-support", "--role", "resend", "--json")
    assert support.exit_code == 0, support.output
    admin = json.loads(cli("tokens", "create", "admin-bot", "--role", "admin", "--json").stdout)

    async def make_two() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            access = AccessService(store, SystemClock())
            bot = await access.authenticate_token(admin["token"])
            assert bot is not None
            made = await access.create_token(bot, "api-made", [Grant(Role.ADMIN)])
            second = await access.authenticate_token(made.token)
            assert second is not None
            await access.create_token(second, "child2", [Grant(Role.INTAKE)])

    asyncio.run(make_two())
    revoked = cli("tokens", "revoke", admin["id"], "--reason", "leaked")
    assert revoked.exit_code == 0, revoked.output
    assert "is revoked; 2 tokens it made stop with it: " in revoked.stdout
    assert "api-made" in revoked.stdout and "child2" in revoked.stdout
    listed = {
        row["name"]: row["status"] for row in json.loads(cli("tokens", "list", "--json").stdout)
    }
    assert listed == {
        "anna-support": "active",
        "admin-bot": "revoked",
        "api-made": "stopped",
        "child2": "stopped",
    }


def test_deactivating_an_admin_prints_the_machine_tokens_they_made(
    cli: Any, env: dict[str, str]
) -> None:
    invited = cli("users", "invite", "ada@example.nl", "--role", "admin", "--json")
    assert invited.exit_code == 0, invited.output
    secret = json.loads(invited.stdout)["link"].split("#", 1)[1]

    async def admin_makes_a_token() -> str:
        """Ada accepts, signs in with a recovery code and makes a machine's token."""
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            access = AccessService(store, SystemClock())
            start = await access.begin_accept(secret)
            code = totp.code_at(start.totp_secret, datetime.now(UTC))
            codes = (await access.finish_accept(secret, PASSWORD, code)).recovery_codes
            session = await access.login("ada@example.nl", PASSWORD, codes[0])
            ada = await access.authenticate_session(session.session)
            assert ada is not None
            made = await access.create_token(ada, "upstream", [Grant(Role.INTAKE)])
            return made.id

    made_id = asyncio.run(admin_makes_a_token())
    done = cli("users", "deactivate", "ada@example.nl", "--reason", "left")
    assert done.exit_code == 0, done.output
    assert "ada@example.nl is deactivated." in done.stdout
    assert "The 1 machine token ada@example.nl made go on working" in done.stdout
    assert made_id in done.stdout and "upstream" in done.stdout and "intake@*" in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("tokens", "list"),
        ("tokens", "list", "--json"),
        ("users", "list"),
        ("tokens", "create", "ci-intake", "--role", "intake"),
        ("tokens", "revoke", "abcd1234", "--reason", "gone"),
        ("users", "create-admin", "ops@example.nl"),
        ("users", "invite", "anna@example.nl", "--role", "viewer"),
    ],
)
def test_users_and_tokens_never_create_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """Run from a directory without the engine's store (the default URL is relative): a
    token or an invitation in a new, empty store is one the running engine refuses."""
    monkeypatch.chdir(tmp_path)
    done = run_cli(*command, env={"USER": "piet"})
    assert done.returncode == 1, done.stdout + done.stderr
    if "--json" in command:  # the same error, as JSON (``integrator.cli.json_errors``)
        assert json_error(done.stdout, 1)["message"].startswith("no store at")
    else:
        assert done.stdout == ""
    assert done.stderr == (
        f"error: no store at sqlite:///{tmp_path}/var/integrator.db; run this from the "
        "engine's directory or set INTEGRATOR_DATABASE_URL to the engine's store (a new store "
        "is made by the engine's first start: integrator run)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_link_on_a_wildcard_host_warns_to_set_the_public_url(
    cli: Any, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image and the systemd example listen on 0.0.0.0: without INTEGRATOR_PUBLIC_URL the
    link is built on it, and reaches nobody. The link is still made; stderr says why it will
    not open and what to set; stdout stays the link (and --json stays JSON)."""
    for name, value in {"INTEGRATOR_HTTP_HOST": "0.0.0.0", "INTEGRATOR_HTTP_PORT": "8080"}.items():
        monkeypatch.setitem(env, name, value)
    made = cli("users", "create-admin", "ops@example.nl")
    assert made.exit_code == 0, made.output
    assert "http://0.0.0.0:8080/invitation#" in made.stdout and "warning" not in made.stdout
    said = " ".join(made.stderr.split())
    assert "warning: the link uses http://0.0.0.0:8080: INTEGRATOR_HTTP_HOST is a wildcard" in said
    assert "set INTEGRATOR_PUBLIC_URL" in said

    as_json = cli("users", "invite", "anna@example.nl", "--role", "viewer", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["link"].startswith("http://0.0.0.0:8080/invitation#")
    assert "set INTEGRATOR_PUBLIC_URL" in " ".join(as_json.stderr.split())

    monkeypatch.setitem(env, "INTEGRATOR_PUBLIC_URL", "https://integrator.example.nl")
    public = cli("users", "reinvite", "anna@example.nl")
    assert public.exit_code == 0, public.output
    assert "https://integrator.example.nl/invitation#" in public.stdout
    assert "warning" not in public.stderr

    # The systemd example file's value, left as it was: a domain reserved for examples.
    monkeypatch.setitem(env, "INTEGRATOR_PUBLIC_URL", "https://integrator.example.org")
    left = cli("users", "reinvite", "anna@example.nl")
    assert left.exit_code == 0, left.output
    assert "https://integrator.example.org/invitation#" in left.stdout
    said = " ".join(left.stderr.split())
    assert "example.org, a domain reserved for examples, which reaches no console" in said
    assert "set INTEGRATOR_PUBLIC_URL" in said


def test_users_list_on_80_columns_keeps_each_address_whole(
    cli: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """The e-mail address is what every ``users`` command takes: never cut to ``anna@exampl…``
    on a narrow terminal; the grants and the rest wrap or give way instead."""
    from tests.integrator.test_cli_narrow_listings import at_80_columns

    addresses = ["annemarie.van.den.berg@ziekenhuis-noord.example.nl", "bea@example.nl"]
    for address in addresses:
        made = cli("users", "invite", address, "--role", "resend", "--cluster", "CARD")
        assert made.exit_code == 0, made.output
    shown = at_80_columns({**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}, "users", "list")
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80, shown
    for address in addresses:
        assert address in shown


def test_users_invite_says_every_mistake_at_once(cli: Any, env: dict[str, str]) -> None:
    """An address that is none and a name too long: both said, one run, exit 2; it said the
    address, and the name only once the address was put right."""
    result = cli("users", "invite", "anna@localhost", "--name", "N" * 250, "--role", "viewer")
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert "EMAIL: not an e-mail address" in said and "--name: at most 200 characters" in said
    assert _audit(env, "person:anna@localhost") == []


def test_users_grant_says_when_a_link_not_yet_used_stopped_working(cli: Any) -> None:
    """A role that reads patient data given to an account still invited stops its link
    (docs/access.md): the CLI says so, and how to send a new one, never the link."""
    invited = cli("users", "invite", "vera@example.nl", "--role", "viewer", "--cluster", "CARD")
    assert invited.exit_code == 0, invited.output
    given = cli(
        "users", "grant", "vera@example.nl", "--role", "viewer", "--role", "resend",
        "--cluster", "CARD", "--cluster", "CARD", "--reason", "joins support",
    )  # fmt: skip
    assert given.exit_code == 0, given.output
    said = " ".join(given.stdout.split())
    assert "vera@example.nl: the link they had not used yet stopped working" in said
    assert "integrator users reinvite vera@example.nl" in said and "/invitation#" not in said
    again = cli("users", "grant", "vera@example.nl", "--role", "viewer", "--cluster", "CARD",
                "--reason", "back to viewing")  # fmt: skip
    assert again.exit_code == 0 and "stopped working" not in again.stdout
