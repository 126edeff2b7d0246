"""Whose a token is, said where it is made and listed, and the tokens a review of a person in
the audit trail has to take in (docs/access.md, "Who may make one", "Which one it is, said",
"Finding entries")."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from integrator.access import AccessDenied, AccessService, Grant, Identity, Role, totp
from integrator.clock import ManualClock, SystemClock
from integrator.store import Store
from tests.access.conftest import LOCAL, PASSWORD, login_as, onboard


async def test_an_admin_makes_a_machine_token_in_their_clusters_and_their_own_beyond(
    service: AccessService, clock: ManualClock
) -> None:
    """docs/access.md, "Which one it is, said": the same admin makes either kind, and the
    token as made and as listed says which, with its maker as the audit trail names them."""
    member = await onboard(
        service,
        clock,
        "ada@example.nl",
        Grant(Role.ADMIN, "CARD"),
        Grant(Role.VIEWER, "LAB"),
    )
    ada = await login_as(service, clock, member)
    machine = await service.create_token(ada, "card-feed", [Grant(Role.VIEWER, "CARD")])
    own = await service.create_token(ada, "ada-lab", [Grant(Role.VIEWER, "LAB")])
    assert (machine.kind, own.kind) == ("machine", "own")
    assert (machine.to_json()["kind"], own.to_json()["kind"]) == ("machine", "own")
    listed = {view.name: view for view in await service.list_tokens(LOCAL)}
    assert listed["card-feed"].kind == "machine" and listed["card-feed"].owner_actor is None
    assert listed["ada-lab"].kind == "own"
    assert listed["ada-lab"].owner_actor == "person:ada@example.nl"
    for name in ("card-feed", "ada-lab"):
        shown = listed[name].to_json()
        assert shown["created_by"] == "person:ada@example.nl"
        assert shown["kind"] == listed[name].kind
    cli_made = await service.create_token(LOCAL, "prometheus", [Grant(Role.METRICS)])
    assert cli_made.kind == "machine"


async def test_a_persons_token_actors_take_in_every_token_they_own_or_made(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    """docs/access.md, "Finding entries": what a person does with a token is recorded as the
    token, so a review of them names their own tokens, the machines' tokens made in their
    sessions and the tokens those made, revoked ones too; nobody else's."""
    ada_member = await onboard(service, clock, "ada@example.nl", Grant(Role.ADMIN))
    ada = await login_as(service, clock, ada_member)
    sam_member = await onboard(service, clock, "sam@example.nl", Grant(Role.VIEWER))
    sam = await login_as(service, clock, sam_member)

    machine = await service.create_token(ada, "ada-feed", [Grant(Role.ADMIN)])
    await service.create_token(sam, "sam-cli", [Grant(Role.VIEWER)])
    made_by_token = await service.authenticate_token(machine.token)
    assert made_by_token is not None
    await service.create_token(made_by_token, "ada-feed-child", [Grant(Role.VIEWER)])
    gone = await service.create_token(sam, "sam-old", [Grant(Role.VIEWER)])
    await service.revoke_token(sam, gone.id, reason="replaced")
    await service.create_token(LOCAL, "prometheus", [Grant(Role.METRICS)])

    found = await service.token_actors_of(LOCAL, "person:ADA@example.nl")
    assert sorted(found) == ["token:ada-feed", "token:ada-feed-child"]
    assert sorted(await service.token_actors_of(LOCAL, "person:sam@example.nl")) == [
        "token:sam-cli",
        "token:sam-old",
    ]
    for nobody in ("person:nobody@example.nl", "token:ada-feed", "local:piet", "system"):
        assert await service.token_actors_of(LOCAL, nobody) == []
    # Who may not read the whole trail is not told.
    with pytest.raises(AccessDenied):
        await service.token_actors_of(sam, "person:ada@example.nl")


# -- the CLI ---------------------------------------------------------------------------------


def _person_with_tokens(env: dict[str, str], link: str, email: str) -> list[Identity]:
    """The invited person accepts and signs in, and makes a token of their own."""
    secret = link.split("#", 1)[1]

    async def accept() -> list[Identity]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            access = AccessService(store, SystemClock())
            start = await access.begin_accept(secret)
            code = totp.code_at(start.totp_secret, datetime.now(UTC))
            codes = (await access.finish_accept(secret, PASSWORD, code)).recovery_codes
            session = await access.login(email, PASSWORD, codes[0])
            who = await access.authenticate_session(session.session)
            assert who is not None
            await access.create_token(who, "sam-cli", [Grant(Role.VIEWER)])
            return [who]

    return asyncio.run(accept())


def test_tokens_create_and_list_say_whose_token_and_who_made_it(
    cli: Any, env: dict[str, str]
) -> None:
    """docs/access.md, "Commands": `tokens create` says it is a machine's token, `tokens list`
    has its kind and maker, in the table and in --json."""
    created = cli("tokens", "create", "ci-intake", "--role", "intake")
    assert created.exit_code == 0, created.output
    assert "A machine's token: it goes on working when the person who made it" in " ".join(
        created.stderr.split()
    )
    invited = cli("users", "invite", "sam@example.nl", "--role", "viewer", "--json")
    assert invited.exit_code == 0, invited.output
    _person_with_tokens(env, json.loads(invited.stdout)["link"], "sam@example.nl")

    rows = {row["name"]: row for row in json.loads(cli("tokens", "list", "--json").stdout)}
    assert (rows["ci-intake"]["kind"], rows["ci-intake"]["created_by"]) == (
        "machine",
        "local:piet",
    )
    assert (rows["sam-cli"]["kind"], rows["sam-cli"]["created_by"]) == (
        "own",
        "person:sam@example.nl",
    )
    wide = cli("tokens", "list")  # piped: 160 columns, room for every column
    assert wide.exit_code == 0, wide.output
    header = next(line for line in wide.stdout.splitlines() if line.lstrip().startswith("id"))
    assert "kind" in header and "made by" in header, wide.stdout
    [sam_line] = [line for line in wide.stdout.splitlines() if "sam-cli" in line]
    assert " own " in sam_line and "person:sam@example.nl" in sam_line, sam_line


def test_audit_list_of_a_person_names_their_tokens_to_search_too(
    cli: Any, env: dict[str, str]
) -> None:
    """docs/access.md, "Finding entries": the listing is what --actor asked for, and stderr
    names the person's tokens with the command for each."""
    invited = cli("users", "invite", "sam@example.nl", "--role", "viewer", "--json")
    assert invited.exit_code == 0, invited.output
    _person_with_tokens(env, json.loads(invited.stdout)["link"], "sam@example.nl")

    listed = cli("audit", "list", "--actor", "person:Sam@example.nl", "--json")
    assert listed.exit_code == 0, listed.output
    assert {entry["actor"] for entry in json.loads(listed.stdout)} == {"person:sam@example.nl"}
    said = " ".join(listed.stderr.split())
    assert (
        "person:sam@example.nl's tokens act as token:sam-cli, which this search does not take "
        "in; search them too:"
    ) in said, listed.stderr
    assert "integrator audit list --actor token:sam-cli" in said
    # Another actor: no such line.
    other = cli("audit", "list", "--actor", "local:piet")
    assert other.exit_code == 0, other.output
    assert "search them too" not in other.stderr
