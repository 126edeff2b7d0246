"""Dead letters: reading them back with reason, attempts and last ACK; discarding, audited."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deadletter import (
    AlreadyResolved,
    MissingReason,
    NotADeadLetter,
    UnknownDeadLetter,
    discard,
    get_dead_letter,
    list_dead_letters,
)
from integrator.cli import app
from integrator.store import Store
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import messages, start_engine, submit
from tests.integrator.support import settings_for


async def make_letters(tmp_path: Path, referral_data: dict[str, Any]) -> tuple[str, str]:
    """One dead letter (AR) and one delivered message; returns their ids."""
    async with MisbehavingReceiver(["AR"]) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            dead, delivered = await submit(engine, referral_data, 2)
            assert await engine.wait_settled(timeout=10)
            statuses = [m.status for m in await messages(engine, [dead, delivered])]
            assert statuses == ["dead", "delivered"]
            return dead, delivered
        finally:
            await engine.stop()


async def test_dead_letter_has_reason_attempts_and_last_ack(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    dead, delivered = await make_letters(tmp_path, referral_data)
    async with await Store.open(settings_for(tmp_path).database_url) as store:
        [letter] = await list_dead_letters(store)
        assert letter.message.id == dead
        assert letter.reason is not None and letter.reason.startswith("ACK AR")
        assert [a.outcome for a in letter.attempts] == ["deadletter"]
        assert letter.last_ack is not None and letter.last_ack.ack_code == "AR"
        with pytest.raises(NotADeadLetter):
            await get_dead_letter(store, delivered)
        with pytest.raises(UnknownDeadLetter):
            await get_dead_letter(store, "nope")


async def test_discard_needs_a_reason_is_audited_and_keeps_history(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    dead, _ = await make_letters(tmp_path, referral_data)
    async with await Store.open(settings_for(tmp_path).database_url) as store:
        with pytest.raises(MissingReason):
            await discard(store, dead, actor="anna", reason="  ")
        await discard(store, dead, actor="anna", reason="sent by fax instead")
        message = await store.get_message(dead)
        assert message is not None and message.status == "cancelled"
        assert message.last_error is not None and message.last_error.startswith("ACK AR")
        assert len(await store.list_attempts(dead)) == 1
        [entry] = await store.list_audit(target=dead)
        assert (entry.actor, entry.action, entry.reason) == (
            "anna",
            "deadletter.discard",
            "sent by fax instead",
        )
        assert await list_dead_letters(store) == []
        with pytest.raises(AlreadyResolved) as second:  # a second discard changes nothing
            await discard(store, dead, actor="anna", reason="again")
        assert (second.value.how, second.value.by, second.value.at) == (
            "discarded",
            "anna",
            entry.at,
        )
        assert len(await store.list_audit(target=dead)) == 1


def test_cli_list_show_discard(tmp_path: Path, referral_data: dict[str, Any]) -> None:
    dead, delivered = asyncio.run(make_letters(tmp_path, referral_data))
    env = {
        "INTEGRATOR_DATABASE_URL": settings_for(tmp_path).database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["deadletter", *args], env=env)

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["last_ack_code"], row["attempts"]) == (dead, "AR", 1)
    assert run("list").exit_code == 0

    shown = run("show", dead, "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["reason"].startswith("ACK AR") and "MSA|AR" in detail["last_ack"]
    assert [a["outcome"] for a in detail["attempt_history"]] == ["deadletter"]
    human = run("show", dead)
    assert human.exit_code == 0 and "Last ACK" in human.stdout

    assert run("show", "unknown-id").exit_code == 2
    assert run("show", delivered).exit_code == 2
    assert run("discard", dead).exit_code == 2  # no --reason
    assert run("discard", "unknown-id", "--reason", "x").exit_code == 2

    done = run("discard", dead, "--reason", "duplicate referral", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["actor"] == "local:piet"
    assert json.loads(run("list", "--json").stdout) == []
    again = run("discard", dead, "--reason", "duplicate referral")
    assert again.exit_code == 1, again.output  # README: nothing done, not bad input
    assert again.stdout == ""
    said = " ".join(again.stderr.split())
    assert re.search(
        rf"error: dead letter {dead} was already resolved: discarded by local:piet at "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00; nothing was changed",
        said,
    ), said

    async def audit() -> Any:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_audit(target=dead)

    entries = asyncio.run(audit())
    # The two shows were views of the receiver's words (patient data), recorded before the
    # discard; the refused shows recorded nothing.
    assert [(e.action, e.actor) for e in entries if e.action == "patient_data.view"] == [
        ("patient_data.view", "local:piet")
    ] * 2
    [entry] = [e for e in entries if e.action != "patient_data.view"]
    assert (entry.actor, entry.reason) == ("local:piet", "duplicate referral")
