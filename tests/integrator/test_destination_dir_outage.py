"""A destinations directory that disappears takes nothing out of service.

A volume not mounted, or a deploy swapping the directory, used to read as "every file deleted":
every destination left service (the log saying the refusal "changes nothing in service"), and
events submitted meanwhile were stored unrouted until someone ran ``events route``. Now the
destinations in service stay, whole, until the directory is back, and the log says so once.
Run with a running engine (its watcher) on a real directory and a loopback receiver.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, MutableMapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import dump_destination, load_destination_files
from destinations.receiver import MllpReceiver
from integrator.catalog import Catalog, build_catalog, keep_last_good
from integrator.engine import Engine
from integrator.errors import ConfigurationError
from integrator.settings import Settings
from integrator.store import AuditRecord, Store
from tests.cli_in_process import run_cli
from tests.file_powers import without_file_powers
from tests.integrator import test_operators as operators
from tests.integrator.support import destination, settings_for
from tests.integrator.test_not_a_file import _delivered
from tests.integrator.test_operators import eventually
from tests.services import free_port

engine_on_files = operators.engine_on_files

UNUSABLE = (
    "destinations directory unusable; the destinations in service stay as they are until it is back"
)
TODAY = date(2026, 11, 27)
BACK = "destinations directory is back; its files apply again"
APPEARED = "destinations directory appeared; its files apply"


def _moved_away(directory: Path) -> Callable[[], None]:
    moved = directory.with_name(directory.name + ".moved")
    directory.rename(moved)

    def back() -> None:
        moved.rename(directory)

    return back


def _a_file_instead(directory: Path) -> Callable[[], None]:
    moved = directory.with_name(directory.name + ".moved")
    directory.rename(moved)
    directory.write_text("not a directory\n")

    def back() -> None:
        directory.unlink()
        moved.rename(directory)

    return back


GONE: dict[str, Callable[[Path], Callable[[], None]]] = {
    "moved_away": _moved_away,
    "a_file_instead": _a_file_instead,
}
PROBLEM = {"moved_away": "does not exist", "a_file_instead": "is not a directory"}


def _events(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


async def _audit(engine: Engine) -> list[AuditRecord]:
    return await engine.store.list_audit(target="noord", limit=1000)


@pytest.mark.parametrize("how", list(GONE))
async def test_a_directory_gone_keeps_every_destination_delivering_and_says_so_once(
    engine_on_files: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    how: str,
) -> None:
    engine = engine_on_files
    directory = engine.settings.destinations_dir
    in_service = engine.catalog.destinations
    audited = len(await _audit(engine))
    with capture_logs() as logs:
        put_back = GONE[how](directory)

        async def noticed() -> bool:
            return bool(_events(logs, UNUSABLE))

        await eventually(noticed, timeout=20)  # the watcher, without a SIGHUP
        assert engine.catalog.destinations == in_service
        await _delivered(engine, receiver, referral_data)  # routed, sent, acknowledged
        assert await engine.store.count_unrouted_events() == {}
        await engine.reload_destinations()  # a SIGHUP or a change while it lasts
        await engine.reload_destinations()
        # The engine's tools (its API, its console) list what is in service, not "none",
        # with the directory's refusal beside it.
        rows, _ = await engine.admin.listing(lambda cluster: True, reads_messages=lambda c: True)
        assert [row["id"] for row in rows] == ["noord"]
        assert (await engine.admin.catalog()).directory_problem is not None
        [said] = _events(logs, UNUSABLE)  # once, not at every reload
        assert said["log_level"] == "error"
        assert (said["directory"], said["in_service"]) == (str(directory), 1)
        assert said["problem"] == PROBLEM[how]
        assert said["setting"] == "INTEGRATOR_DESTINATIONS_DIR"
        assert not _events(logs, "destinations applied")
        assert not _events(logs, "destination file refused; it changes nothing in service")

        put_back()

        async def back() -> bool:
            return bool(_events(logs, BACK))

        await eventually(back, timeout=20)
    assert engine.catalog.destinations == in_service
    await _delivered(engine, receiver, referral_data)
    assert [h["revision"] for h in await engine.admin.history("noord")] == [1]
    assert len(await _audit(engine)) == audited  # no removal, no refusal recorded


@without_file_powers
async def test_a_directory_that_cannot_be_listed_keeps_every_destination_and_says_why(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    directory = engine.settings.destinations_dir
    in_service = engine.catalog.destinations
    with capture_logs() as logs:
        directory.chmod(0o300)
        try:
            await engine.reload_destinations()
            await engine.reload_destinations()
            assert engine.catalog.destinations == in_service
            await _delivered(engine, receiver, referral_data)
        finally:
            directory.chmod(0o700)
        await engine.reload_destinations()
    [said] = _events(logs, UNUSABLE)
    assert said["problem"].startswith("cannot read it: permission denied")
    assert len(_events(logs, BACK)) == 1


async def test_an_engine_started_without_its_directory_says_so_and_takes_it_in_when_it_comes(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    settings = settings_for(tmp_path)
    with capture_logs() as logs:
        engine = Engine(settings)
        await engine.start()
        try:
            [said] = _events(logs, UNUSABLE)
            assert (said["log_level"], said["in_service"]) == ("error", 0)
            assert not _events(logs, "destination file refused; it changes nothing in service")
            staged = tmp_path / "staged"
            staged.mkdir()
            config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
            (staged / "noord.yaml").write_text(dump_destination(config))
            staged.rename(settings.destinations_dir)

            async def taken_in() -> bool:
                return "noord" in engine.catalog.destinations

            await eventually(taken_in, timeout=20)
            # Never there before: it appeared, it is not "back".
            assert len(_events(logs, APPEARED)) == 1
            assert not _events(logs, BACK)
            await _delivered(engine, receiver, referral_data)
        finally:
            await engine.stop()


async def store_in_use(tmp_path: Path, port: int) -> Settings:
    """A store an engine ran on with one destination, ``noord``: one with destination history."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination("noord", port, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    await engine.stop()
    return settings


@pytest.mark.parametrize("how", list(GONE))
async def test_an_engine_started_without_its_directory_on_a_store_in_use_does_not_start(
    tmp_path: Path, receiver: MllpReceiver, how: str
) -> None:
    """Started without its directory (a volume not mounted yet) on a store that has
    destinations, an engine came up with none and took every event in as unrouted, a shared
    RabbitMQ intake's too, beside engines that would have routed them. It now refuses to
    start, as every change is refused then, naming the directory and what to do; nothing is
    taken in. (A new store's engine still starts without it: the test above.)"""
    settings = await store_in_use(tmp_path, receiver.port)
    GONE[how](settings.destinations_dir)
    said = await refused_start(settings, tmp_path)
    assert said.startswith(
        f"destinations directory unusable: {settings.destinations_dir} "
        f"(INTEGRATOR_DESTINATIONS_DIR) {PROBLEM[how]}; this store has destinations, so the "
        "engine does not start: it would take events in without a destination and store "
        "them unrouted."
    ), said


async def refused_start(settings: Settings, tmp_path: Path) -> str:
    """An engine's start on ``store_in_use``'s store, refused (exit 2): what it said. Nothing
    of it is left: its presence row would read as a running engine for a while from another
    machine (refusing another engine's start, a prune)."""
    with pytest.raises(ConfigurationError) as refused:
        await Engine(settings).start()
    assert refused.value.exit_code == 2
    async with await Store.open(f"sqlite:///{tmp_path}/store.db") as store:
        assert await store.running_engines(datetime.now(UTC)) == []
    return str(refused.value)


def env_of_store_in_use(tmp_path: Path, directory: Path) -> dict[str, str]:
    """The settings of a command on ``store_in_use``'s store with ``directory`` as its
    destinations directory, and a free port for ``run``."""
    return {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(directory),
        "INTEGRATOR_HTTP_PORT": str(free_port()),
    }


def test_integrator_run_without_its_directory_on_a_store_in_use_exits_2_saying_so(
    tmp_path: Path,
) -> None:
    """The same at the command line: one line, exit 2, and no event taken in."""

    directory = asyncio.run(store_in_use(tmp_path, free_port())).destinations_dir
    _moved_away(directory)
    env = env_of_store_in_use(tmp_path, directory)
    ran = run_cli("run", env=env)
    assert ran.returncode == 2, ran.stderr
    # One error line, after the stop's own (what the start had opened is closed first).
    [line] = [said for said in ran.stderr.splitlines() if said.startswith("error:")]
    assert ran.stderr.splitlines()[-1] == line
    assert line.startswith(
        f"error: the engine could not run: destinations directory unusable: {directory} "
        "(INTEGRATOR_DESTINATIONS_DIR) does not exist; this store has destinations"
    ), line
    assert line.endswith(
        "Put the directory back (a volume not mounted?), or set the setting to the engine's "
        "directory"
    ), line
    listed = run_cli("events", "list", "--json", env=env)
    assert json.loads(listed.stdout) == []


def test_keep_last_good_keeps_the_whole_catalog_when_the_directory_is_gone(
    tmp_path: Path,
) -> None:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    old = build_catalog([("noord.yaml", config)], today=TODAY)
    missing = tmp_path / "nowhere"
    loaded, errors = load_destination_files(missing)
    new = build_catalog(loaded, today=TODAY, errors=errors)
    assert new.directory_problem is not None and new.destinations == {}
    assert keep_last_good(new, old) is old
    assert keep_last_good(Catalog(), old).destinations == {}  # an empty directory does remove


@pytest.mark.parametrize("how", list(GONE))
async def test_no_change_is_made_while_the_directory_is_gone(
    engine_on_files: Engine, receiver: MllpReceiver, how: str
) -> None:
    """A rollback made while the directory was gone wrote a new directory holding its one
    file; the engine, reading it, took every other destination out of service. Every change
    is refused now, naming the directory, and nothing is written or recorded."""
    engine = engine_on_files
    admin = engine.admin
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"], cluster="LAB")
    await admin.add(dump_destination(zuid), actor="local:a")
    await admin.update("zuid", ["port=2577"], actor="local:a")
    directory = engine.settings.destinations_dir
    in_service = engine.catalog.destinations
    histories = {d: await admin.history(d) for d in in_service}
    put_back = GONE[how](directory)
    await engine.reload_destinations()  # what its watcher does
    changes = [
        admin.rollback("zuid", 1, actor="local:a", reason="undo the port"),
        admin.update("noord", ["port=2578"], actor="local:a"),
        admin.set_enabled("noord", False, actor="local:a", reason="maintenance"),
        admin.remove("zuid", actor="local:a", force=True),
        admin.add(dump_destination(destination("west", 9, providers=["w"])), actor="local:a"),
    ]
    for change in changes:
        with pytest.raises(ConfigurationError) as refused:
            await change
        assert str(refused.value).startswith(f"destinations directory unusable: {directory}")
        assert "nothing is changed" in str(refused.value)
        # The engine's own API meets it too: the first advice is the engine's directory.
        assert "nothing is changed: put the directory back (a volume not mounted?)" in str(
            refused.value
        )
    assert directory.exists() == (how == "a_file_instead") and not directory.is_dir()
    assert engine.catalog.destinations == in_service
    put_back()
    assert {d: await admin.history(d) for d in in_service} == histories
    await engine.reload_destinations()
    assert engine.catalog.destinations == in_service
