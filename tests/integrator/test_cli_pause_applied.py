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
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.delivery import STOP_MARGIN
from integrator.engine import Engine
from integrator.engine_applied import wait_s
from integrator.presence import Presence
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
    # 1 s connect, twice 2 s ACK (``destination``), the watcher's second and six for the rest.
    waited = f"{DEST}: waiting for the running engine to stop delivering to it (at most 12 s"
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


async def _present(url: str) -> EnginePresence:
    """A fresh presence row on the store at ``url``, as a running engine keeps (this process's
    pid: alive), for an engine that applies nothing unless the test does it for it."""
    async with await Store.open(url) as store:
        presence = Presence(store, None).row  # the row an engine of this process would keep
        await store.register_engine(presence)
    return presence


async def _pause_while(env: dict[str, str], then: Callable[[Store], Awaitable[None]]) -> CliOutcome:
    """``destinations pause`` run while ``then`` acts on the store, once the command has
    written the pause (the file says so) and waits for the engine."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    noord = destination(DEST, free_port(), providers=["ziekenhuis-noord"])  # 10 s, 30 s: 77 s
    (directory / f"{DEST}.yaml").write_text(dump_destination(noord))
    command = asyncio.create_task(
        asyncio.to_thread(run_cli, "destinations", "pause", DEST, env={**env, "COLUMNS": "250"})
    )
    while "enabled: false" not in (directory / f"{DEST}.yaml").read_text():
        assert not command.done(), command.result()
        await asyncio.sleep(0.05)
    async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
        await then(store)
    return await asyncio.wait_for(command, 30)  # far below the 77 s it would wait


async def test_an_engine_that_stops_before_applying_it_is_said_at_once(
    env: dict[str, str],
) -> None:
    """The only engine stopped while the command waited: it went on waiting out its whole
    bound, then blamed a log line the engine never wrote."""
    presence = await _present(env["INTEGRATOR_DATABASE_URL"])

    async def engine_stops(store: Store) -> None:
        await store.remove_engine(presence.id)

    paused = await _pause_while(env, engine_stops)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    [line] = [x for x in paused.stdout.splitlines() if x.startswith("✓")]
    assert line.endswith(
        "; the running engine stopped before it applied this; no engine runs on this store "
        "now, and the next to start does not deliver to it"
    ), line


async def test_with_two_engines_the_first_to_apply_it_gets_no_tick(env: dict[str, str]) -> None:
    """The pause is recorded once, by the first engine that applies it: often the one that was
    not delivering, while the other still had an attempt on the wire. That was ticked."""
    for _ in range(2):
        await _present(env["INTEGRATOR_DATABASE_URL"])

    async def one_applies(store: Store) -> None:
        await store.observe_enabled({DEST: False}, now=datetime.now(UTC))

    paused = await _pause_while(env, one_applies)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert "✓" not in paused.stdout, paused.stdout
    assert f"{DEST}: pause (revision 1) recorded, not in force yet" in paused.stdout
    said = " ".join(paused.stderr.split())
    assert f"warning: {DEST}: one of the 2 engines on this store applied it at 20" in said, said
    assert "the one delivering to it stops once its attempt on the wire is finished" in said


def test_a_pause_waits_as_long_as_the_engine_may_take_to_finish_an_attempt() -> None:
    """In enhanced mode an attempt waits for two ACKs, and the engine's stop allows for it;
    the command gave up after one ACK timeout and said the pause was not in force. A resume
    waits for no attempt."""
    config = destination(
        DEST, 2575, providers=["ziekenhuis-noord"], connect_timeout="3s", ack_timeout="20s"
    )
    bound = wait_s(config, enabled=False)
    assert bound > config.connect_timeout + 2 * config.ack_timeout + STOP_MARGIN
    assert wait_s(config, enabled=True) < config.ack_timeout


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

    asyncio.run(_present(env["INTEGRATOR_DATABASE_URL"]))
    paused = run_cli("destinations", "pause", DEST, env={**env, "COLUMNS": "250"})
    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert "✓" not in paused.stdout, paused.stdout
    assert f"{DEST}: pause (revision 1) recorded, not in force yet" in paused.stdout
    said = " ".join(paused.stderr.split())
    assert "(at most 8 s: it sees the file within a second" in said, said
    assert (
        f"warning: {DEST}: the running engine has not stopped delivering to it within 8 s" in said
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
