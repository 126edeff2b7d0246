"""``integrator messages try-now`` and ``integrator destinations try-now`` beside a running
engine: the command makes the retry due in the store, and the engine, which only sees the
store, attempts it at its next look. The CLI in process, on the engine's own store and
destinations, as an operator on the server runs it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator import retry_waits
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.cli_in_process import CliOutcome, run_cli
from tests.integrator.test_operators import events, eventually
from tests.integrator.test_try_now import engine_running, waiting


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver(ack_code="AE") as started:
        yield started


@pytest.fixture
async def engine(
    tmp_path: Path, receiver: MllpReceiver, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Engine]:
    monkeypatch.setattr(retry_waits, "POLL_SECONDS", 0.2)  # the engine's look at the store
    async with engine_running(tmp_path, receiver, "rotate") as started:
        yield started


async def cli(engine: Engine, *args: str) -> CliOutcome:
    env = {
        "INTEGRATOR_DATABASE_URL": engine.settings.database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(engine.settings.destinations_dir),
        "USER": "olga",
    }
    return await asyncio.to_thread(run_cli, *args, env=env)


async def test_a_message_tried_now_from_the_command_line_is_delivered_by_the_engine(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    [message_id] = await waiting(engine, 1)
    receiver.ack_code = "AA"
    done = await cli(engine, "messages", "try-now", message_id[:8], "--reason", "GP phoned")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "1 message of noord due now" in said and message_id in said
    assert "The running engine (HTTP at" in said and "attempts it within seconds" in said

    async def delivered() -> bool:
        message = await engine.store.get_message(message_id)
        return message is not None and message.status == "delivered"

    await eventually(delivered)
    [entry] = await engine.store.list_audit(AuditFilter(action="message.try_now"))
    assert (entry.actor, entry.reason) == ("local:olga", "GP phoned")

    again = await cli(engine, "messages", "try-now", message_id)
    assert again.returncode == 1
    said = " ".join(again.stderr.split())
    assert "the message's status is delivered; only a message waiting for its next" in said
    assert said.endswith("resend it instead")


async def test_a_destination_with_nothing_waiting_says_so_and_bad_input_exits_2(
    engine: Engine,
) -> None:
    none = await cli(engine, "destinations", "try-now", "noord", "--json")
    assert none.returncode == 0, none.stderr
    listed = json.loads(none.stdout)
    assert (listed["destination"], listed["messages"], listed["due_already"]) == ("noord", [], [])
    assert listed["engine"] is not None  # the engine of this test runs on the store
    # Done all the same, so in the trail as who asked: nothing was waiting.
    [empty] = await engine.store.list_audit(AuditFilter(action="destination.try_now"))
    assert (empty.actor, empty.target) == ("local:olga", "noord")
    assert empty.details["messages"] == [] and empty.details["nothing_waiting"] is True
    unknown = await cli(engine, "destinations", "try-now", "nergens")
    assert unknown.returncode == 2
    # As every other destinations subcommand says it: the configured ids, to put a typo right.
    assert "error: no destination with id 'nergens'; configured: noord" in unknown.stderr
    no_such = await cli(engine, "messages", "try-now", "ffffffff")
    assert no_such.returncode == 2
    long = await cli(engine, "destinations", "try-now", "noord", "--reason", "x" * 1001)
    assert long.returncode == 2 and "--reason: at most 1000 characters" in long.stderr
    # A reason with a BSN, as every service refuses it (reason.holds_bsn), never repeated.
    bsn = await cli(engine, "destinations", "try-now", "noord", "--reason", "bsn 999990019")
    assert bsn.returncode == 2, bsn.stderr
    assert "--reason: this looks like a BSN: leave it out" in bsn.stderr
    assert "999990019" not in bsn.stdout + bsn.stderr
    assert len(await engine.store.list_audit(AuditFilter(action="destination.try_now"))) == 1


async def test_with_no_engine_running_it_says_the_attempt_waits_for_one(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    async with engine_running(tmp_path, receiver, "rotate") as engine:
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        [message_id] = await waiting(engine, 1)
    done = await cli(engine, "messages", "try-now", message_id)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "No engine is running on this store: attempted when one starts" in said


@pytest.mark.parametrize(
    "command", [("messages", "try-now", "0b8e69ed"), ("destinations", "try-now", "noord")]
)
def test_run_where_no_store_is_it_makes_none_and_says_where_it_looked(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Run from another directory than the engine's (the default store is a relative path),
    it made a new, empty store there, then said the id was unknown; the store stayed behind,
    and the next `tokens create` there made a token the engine refuses."""
    store = tmp_path / "var" / "integrator.db"
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{store}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
        "USER": "olga",
    }
    done = run_cli(*command, env=env)
    assert done.returncode == 1, done.stderr
    said = " ".join(done.stderr.split())
    assert f"no store at sqlite:///{store}" in said
    assert "run this from the engine's directory or set INTEGRATOR_DATABASE_URL" in said
    assert not store.exists() and not (tmp_path / "var").exists()
