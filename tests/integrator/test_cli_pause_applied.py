"""``integrator destinations pause|resume`` say what the running engine made of the change.

The command writes the file and records the revision; the engine stops delivering only when
its watcher sees the file and the attempt on the wire is finished. A ✓ printed on the write
alone said "paused" while messages still went out. Now the command waits (bounded, saying so
on stderr) until the engine recorded that it applied it (``integrator.engine_applied``), says
so when no engine runs, and says so, without a ✓, when the engine did not apply it in time.

The CLI runs in process (a thread, beside a real engine and its watcher where one runs).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.engine import Engine
from integrator.presence import pid_namespace
from integrator.store import Store
from integrator.store.presence import EnginePresence
from tests.cli_in_process import CliOutcome, run_cli
from tests.integrator.support import destination, settings_for
from tests.services import free_port

DEST = "noord"


def _cli_env(engine_settings_dir: Path, url: str) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_DESTINATIONS_DIR": str(engine_settings_dir),
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "COLUMNS": "250",
    }


async def _cli(env: dict[str, str], *args: str) -> CliOutcome:
    return await asyncio.to_thread(run_cli, "destinations", *args, DEST, env=env)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    noord = destination(DEST, free_port(), providers=["ziekenhuis-noord"])
    (settings.destinations_dir / f"{DEST}.yaml").write_text(dump_destination(noord))
    running = Engine(settings)
    await running.start()
    yield running
    await running.stop()


async def test_pause_and_resume_wait_until_the_running_engine_applied_them(
    engine: Engine,
) -> None:
    env = _cli_env(engine.settings.destinations_dir, engine.settings.database_url)
    paused = await _cli(env, "pause", "--reason", "LIS maintenance")
    assert paused.returncode == 0, paused.stdout + paused.stderr
    # 1 s connect, 2 s ACK (``destination``), the watcher's second and three for the rest.
    waited = f"{DEST}: waiting for the running engine to stop delivering to it (at most 7 s"
    assert waited in paused.stderr, paused.stderr
    [line] = [x for x in paused.stdout.splitlines() if x.startswith("✓")]
    assert line.startswith(f"✓ {DEST}: pause (revision "), line
    assert "; the running engine stopped delivering to it at 20" in line, line
    # What it says is what the engine did, before the command returned.
    assert engine.catalog.destinations[DEST].enabled is False
    row = await engine.store.destination_pause(DEST)
    assert row is not None and row.paused_at is not None
    assert row.paused_at.astimezone(engine.settings.zone).isoformat()[:19] in line

    resumed = await _cli(env, "resume", "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(resumed.stdout)["action"] == "resume"  # the change, as ever
    assert "the running engine delivers to it again since 20" in resumed.stderr, resumed.stderr
    assert engine.catalog.destinations[DEST].enabled is True
    row = await engine.store.destination_pause(DEST)
    assert row is not None and row.paused_at is None and row.resumed_at is not None


def test_without_an_engine_the_change_is_said_to_wait_for_the_next(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    noord = destination(DEST, free_port(), providers=["ziekenhuis-noord"])
    (directory / f"{DEST}.yaml").write_text(dump_destination(noord))
    paused = run_cli("destinations", "pause", DEST, env=env)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    said = "no engine runs on this store, and the next to start does not deliver to it"
    assert said in paused.stdout, paused.stdout
    assert "waiting" not in paused.stderr, paused.stderr
    resumed = run_cli("destinations", "resume", DEST, env=env)
    assert "no engine runs on this store, and the next to start delivers to it" in (
        resumed.stdout
    ), resumed.stdout
    again = run_cli("destinations", "resume", DEST, env=env)  # no change: nothing to apply
    assert again.returncode == 0 and "no change" in again.stdout, again.stdout


def test_an_engine_that_does_not_apply_it_in_time_gets_no_tick(env: dict[str, str]) -> None:
    """An engine is present on the store (a fresh row) but never applies the file (its watcher
    looks at another directory, its store writes fail): after the bound the command says so,
    and how to check, and prints no ✓."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    quick = destination(
        DEST,
        free_port(),
        providers=["ziekenhuis-noord"],
        connect_timeout="100ms",
        ack_timeout="100ms",
    )
    (directory / f"{DEST}.yaml").write_text(dump_destination(quick))

    async def present() -> None:
        now = datetime.now(UTC)
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.register_engine(
                EnginePresence(
                    id=str(uuid.uuid4()),
                    host=socket.gethostname(),
                    pid=os.getpid(),  # alive: this process
                    http_address=None,
                    started_at=now,
                    heartbeat_at=now,
                    pid_namespace=pid_namespace(),
                )
            )

    asyncio.run(present())
    paused = run_cli("destinations", "pause", DEST, env={**env, "COLUMNS": "250"})
    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert "✓" not in paused.stdout, paused.stdout
    assert f"{DEST}: pause (revision 1) recorded, not in force yet" in paused.stdout
    said = " ".join(paused.stderr.split())
    assert "(at most 5 s: it sees the file within a second" in said, said
    assert (
        f"warning: {DEST}: the running engine has not stopped delivering to it within 5 s" in said
    ), said
    assert f"`integrator destinations show {DEST}` says '# paused since: …' once it has" in said

    # It never took the pause in, so a resume has nothing to wait for: it delivers on.
    resumed = run_cli("destinations", "resume", DEST, "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["action"] == "resume"
    assert "the running engine had not taken the pause in: it delivers to it" in resumed.stderr


def test_ctrl_c_while_waiting_says_the_change_is_made(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while it waits for the engine, the command says what it did (the pause is
    recorded, the engine applies it) and how to check, and exits 130, not a bare abort."""
    from integrator import engine_applied

    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    noord = destination(DEST, free_port(), providers=["ziekenhuis-noord"])
    (directory / f"{DEST}.yaml").write_text(dump_destination(noord))

    async def interrupted(*args: object, **kwargs: object) -> engine_applied.EngineApplied:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_applied, "engine_applies", interrupted)
    paused = run_cli("destinations", "pause", DEST, env={**env, "COLUMNS": "250"})
    assert paused.returncode == 130, paused.stdout + paused.stderr
    said = " ".join(paused.stderr.split())
    assert f"{DEST}: pause (revision 1) recorded; stopped waiting for the running engine" in said
    assert "enabled: false" in (directory / f"{DEST}.yaml").read_text()
