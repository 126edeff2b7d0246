"""An option given another option of its command as its value is refused before anything runs
(``integrator.cli.swallowed``): ``resend ID --reason --dry-run``, the reason forgotten, took
``--dry-run`` as the reason and resent the message for real, and ``deadletter discard
--destination D --reason --dry-run`` discarded every dead letter of D, where support had asked
to look first (found by a support walkthrough)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from integrator.store import AttemptRecord, Store
from tests.cli_in_process import run_cli
from tests.store.factories import T0, make_event, make_message


def a_dead_letter(tmp_path: Path) -> tuple[dict[str, str], str]:
    """A store holding one dead letter of ``ziekenhuis-noord``; the environment to reach it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    message = make_message()

    async def fill() -> None:
        async with await Store.open(url) as store:
            await store.accept_event(make_event(), [message])
            tried = AttemptRecord(message.id, 1, T0, 12.5, "failed", error="refused")
            await store.record_attempt(tried, status="dead")

    asyncio.run(fill())
    (tmp_path / "destinations").mkdir()
    env = {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
    }
    return env, message.id


def untouched(env: dict[str, str], message_id: str) -> None:
    async def read() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            message = await store.get_message(message_id)
            assert message is not None and message.status == "dead"
            assert (await store.list_resends(message_id))[1] == []

    asyncio.run(read())


@pytest.mark.parametrize(
    "args",
    [
        ["resend", "{id}", "--reason", "--dry-run"],
        ["deadletter", "resend", "{id}", "--reason", "--dry-run"],
        ["deadletter", "discard", "--destination", "ziekenhuis-noord", "--reason", "--dry-run"],
        ["deadletter", "discard", "{id}", "--reason", "--dry-run"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_forgotten_reason_does_not_take_the_dry_run_and_nothing_is_done(
    tmp_path: Path, args: list[str]
) -> None:
    env, message_id = a_dead_letter(tmp_path)
    done = run_cli(*(message_id if a == "{id}" else a for a in args), env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stderr.replace("│", " ").split())
    assert (
        "--reason: got no value (--dry-run is an option of this command, not a value for "
        "--reason); give --reason its value before --dry-run" in said
    )
    untouched(env, message_id)


def test_with_json_the_refusal_names_the_option(tmp_path: Path) -> None:
    env, _ = a_dead_letter(tmp_path)
    done = run_cli("messages", "list", "--json", "--zd", "--status", env=env)
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["fields"] == ["--zd"] and error["rule"].startswith("got no value (--status is ")


def test_a_value_that_only_starts_like_an_option_is_a_value(tmp_path: Path) -> None:
    """``--reason "-- see ticket"`` is a reason; only one of the command's own options is not."""
    env, message_id = a_dead_letter(tmp_path)
    done = run_cli(
        "deadletter", "discard", message_id, "--reason", "--see ticket 4711", "--dry-run", env=env
    )
    assert done.returncode == 0, done.stderr
    untouched(env, message_id)
