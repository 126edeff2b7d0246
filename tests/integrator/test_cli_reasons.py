"""Every command that takes ``--reason`` takes at most ``MAX_REASON`` characters of it.

The bound is the services' (``integrator.reasons``): the destinations' revisions, the access
service's people and tokens, the routing of events. A reason of 1,000 characters is recorded
whole; one of 1,001 is refused with exit 2 naming the option and the bound, never the reason
(it may be a name pasted into the wrong place), and nothing is changed or audited: no
revision, no file written, no person, grant or token made or taken, no event routed. The
resend and discard commands are tested with their rules (tests/resend/test_resend_rules.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from integrator.access import AccessService, totp
from integrator.clock import SystemClock
from integrator.reasons import MAX_REASON
from integrator.store import Store
from tests.access.conftest import PASSWORD, link_secret
from tests.cli_in_process import run_cli as cli
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "destinations" / "ziekenhuis-noord.yaml"
REFERRAL = ROOT / "config" / "samples" / "referral.json"
NOORD = "ziekenhuis-noord"
ANNA = "anna@example.nl"

LONGEST = "y" * MAX_REASON
TOO_LONG = "Jan van der Berg " + "x" * (MAX_REASON + 1 - len("Jan van der Berg "))


def _run(env: dict[str, str], *args: str) -> str:
    """A setup step that must work; its stdout."""
    done = cli(*args, env=env)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _noord(env: dict[str, str]) -> Path:
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / EXAMPLE.name
    shutil.copy(EXAMPLE, path)
    return path


def _on_store(env: dict[str, str], action: Callable[[Store], Any]) -> Any:
    async def run() -> Any:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await action(store)

    return asyncio.run(run())


# Each command as a setup that makes what it works on and returns its arguments, --reason aside.


def _add(env: dict[str, str]) -> tuple[str, ...]:
    new = Path(env["INTEGRATOR_DESTINATIONS_DIR"]).parent / "kliniek-zuid.yaml"
    new.write_text(EXAMPLE.read_text().replace(f"id: {NOORD}", "id: kliniek-zuid"))
    return ("destinations", "add", str(new))


def _update(env: dict[str, str]) -> tuple[str, ...]:
    _noord(env)
    return ("destinations", "update", NOORD, "--set", f"port={free_port()}")


def _pause(env: dict[str, str]) -> tuple[str, ...]:
    _noord(env)
    return ("destinations", "pause", NOORD)


def _resume(env: dict[str, str]) -> tuple[str, ...]:
    _noord(env)
    _run(env, "destinations", "pause", NOORD)
    return ("destinations", "resume", NOORD)


def _remove(env: dict[str, str]) -> tuple[str, ...]:
    _noord(env)
    return ("destinations", "remove", NOORD)


def _rollback(env: dict[str, str]) -> tuple[str, ...]:
    _noord(env)
    _run(env, "destinations", "update", NOORD, "--set", f"port={free_port()}")
    _run(env, "destinations", "update", NOORD, "--set", f"port={free_port()}")
    _run(env, "destinations", "pause", NOORD)  # kept by the rollback: not a change of its own
    return ("destinations", "rollback", NOORD, "1")


def _invite(env: dict[str, str]) -> tuple[str, ...]:
    return ("users", "invite", ANNA, "--role", "viewer")


def _invited(env: dict[str, str]) -> str:
    """Anna invited as a viewer; her invitation link."""
    link: str = json.loads(_run(env, "users", "invite", ANNA, "--role", "viewer", "--json"))["link"]
    return link


def _grant(env: dict[str, str]) -> tuple[str, ...]:
    _invited(env)
    return ("users", "grant", ANNA, "--role", "resend")


def _deactivate(env: dict[str, str]) -> tuple[str, ...]:
    _invited(env)
    return ("users", "deactivate", ANNA)


def _take_role(env: dict[str, str]) -> tuple[str, ...]:
    _invited(env)
    return ("users", "deactivate", ANNA, "--role", "viewer")


def _reset_second_factor(env: dict[str, str]) -> tuple[str, ...]:
    secret = link_secret(_invited(env))

    async def accept(store: Store) -> None:
        access = AccessService(store, SystemClock())
        start = await access.begin_accept(secret)
        code = totp.code_at(start.totp_secret, SystemClock().now())
        await access.finish_accept(secret, PASSWORD, code)

    _on_store(env, accept)
    return ("users", "reset-2fa", ANNA)


def _create_token(env: dict[str, str]) -> tuple[str, ...]:
    return ("tokens", "create", "prometheus", "--role", "metrics")


def _revoke_token(env: dict[str, str]) -> tuple[str, ...]:
    made = json.loads(_run(env, "tokens", "create", "prometheus", "--role", "metrics", "--json"))
    return ("tokens", "revoke", made["id"])


def _route(env: dict[str, str]) -> tuple[str, ...]:
    _run(env, "submit", str(REFERRAL))  # nobody serves the provider yet: unrouted
    _noord(env)
    return ("events", "route", "--provider", NOORD)


COMMANDS = [
    _add,
    _update,
    _pause,
    _resume,
    _remove,
    _rollback,
    _invite,
    _grant,
    _deactivate,
    _take_role,
    _reset_second_factor,
    _create_token,
    _revoke_token,
    _route,
]


def _state(env: dict[str, str]) -> tuple[Any, ...]:
    """What a command with a reason could change: the audit trail (every change is audited in
    the transaction that makes it), the destinations' files and revisions, people, tokens,
    messages and the events waiting to be routed."""

    async def read(store: Store) -> tuple[Any, ...]:
        revisions = await store.list_destination_revisions(NOORD)
        messages = await store.list_messages(limit=1000)
        return (
            await store.count_audit(),
            [(r.revision, r.action) for r in revisions],
            await store.list_people(),
            await store.list_tokens(),
            [(m.id, m.status) for m in messages],
            await store.count_unrouted_events(),
        )

    files = {
        path.name: path.read_text()
        for path in sorted(Path(env["INTEGRATOR_DESTINATIONS_DIR"]).iterdir())
    }
    state: tuple[Any, ...] = (files, *_on_store(env, read))
    return state


@pytest.mark.parametrize("command", COMMANDS, ids=[c.__name__.strip("_") for c in COMMANDS])
def test_a_reason_of_1000_characters_is_recorded_and_one_of_1001_refused_changing_nothing(
    env: dict[str, str], command: Callable[[dict[str, str]], tuple[str, ...]]
) -> None:
    _on_store(env, lambda store: store.count_audit())  # made, as `integrator run` makes it
    args = command(env)
    before = _state(env)
    refused = cli(*args, "--reason", TOO_LONG, env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    # The users and tokens commands name the store they used first (``store: …``).
    error = [line for line in refused.stderr.splitlines() if not line.startswith("store: ")]
    assert " ".join(" ".join(error).split()) == f"error: --reason: at most {MAX_REASON} characters"
    assert "Jan" not in refused.stdout + refused.stderr
    assert _state(env) == before

    taken = cli(*args, "--reason", LONGEST, env=env)
    assert taken.returncode == 0, taken.stderr
    [newest] = _on_store(env, lambda store: store.list_audit(limit=1))
    assert newest.reason == LONGEST, (newest.action, newest.reason)
    assert _state(env) != before
