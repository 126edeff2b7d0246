"""An empty destinations directory, files ending ``.YAML``, and two destinations of one name.

An operator walkthrough: ``mv destinations destinations.real && mkdir destinations`` (what a
volume that did not mount looks like) took every destination out of service, said at info;
``hosp-e.YAML`` was passed over without a word; and a copied file's ``name`` went unsaid. Run
with a running engine (its watcher) on real directories, a loopback receiver and the CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import dump_destination, load_destination_files
from destinations.receiver import MllpReceiver
from integrator import history_actions
from integrator.engine import Engine
from integrator.errors import ConfigurationError
from tests.cli_in_process import run_cli
from tests.integrator import test_operators as operators
from tests.integrator.support import destination, settings_for
from tests.integrator.test_destination_dir_outage import (
    env_of_store_in_use,
    refused_start,
    store_in_use,
)
from tests.integrator.test_not_a_file import _delivered
from tests.integrator.test_operators import eventually
from tests.services import free_port

# A running engine on a directory holding noord.yaml (its receiver: tests/conftest.py).
engine_on_files = operators.engine_on_files

EMPTY = (
    "destinations directory holds no destination files; the destinations in service stay as "
    "they are"
)
FILLED = "destinations directory holds destination files again; they apply"
STRAY = "destination file refused; it changes nothing in service"
SHARED_NAME = "destinations share a name; listings cannot tell them apart by it"


def _events(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


def _emptied(directory: Path) -> Path:
    """``mv destinations destinations.real && mkdir destinations``; where the files went."""
    real = directory.with_name(directory.name + ".real")
    directory.rename(real)
    directory.mkdir()
    return real


async def test_an_emptied_directory_keeps_every_destination_and_warns_once(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"])
    await engine.admin.add(dump_destination(zuid), actor="local:a")
    directory = engine.settings.destinations_dir
    in_service = engine.catalog.destinations
    histories = {d: await engine.admin.history(d) for d in in_service}
    with capture_logs() as logs:
        real = _emptied(directory)

        async def warned() -> bool:
            return bool(_events(logs, EMPTY))

        await eventually(warned, timeout=20)  # the watcher, without a SIGHUP
        assert engine.catalog.destinations == in_service
        await _delivered(engine, receiver, referral_data)  # routed, sent, acknowledged
        assert await engine.store.count_unrouted_events() == {}
        await engine.reload_destinations()  # a SIGHUP while it lasts
        await engine.reload_destinations()
        [said] = _events(logs, EMPTY)  # once, not at every reload
        assert said["log_level"] == "warning"
        assert (said["directory"], said["kept"]) == (str(directory), 2)
        assert "one by one with `integrator destinations remove <id>`" in said["detail"]
        assert "put their files back" in said["detail"]
        assert not _events(logs, "destinations applied")

        directory.rmdir()
        real.rename(directory)

        async def filled() -> bool:
            return bool(_events(logs, FILLED))

        await eventually(filled, timeout=20)
    assert engine.catalog.destinations == in_service
    # Nothing recorded as deleted by hand: no revision, no removal.
    assert {d: await engine.admin.history(d) for d in in_service} == histories
    await _delivered(engine, receiver, referral_data)


async def test_one_file_deleted_among_others_still_removes_its_destination(
    engine_on_files: Engine, receiver: MllpReceiver
) -> None:
    engine = engine_on_files
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"])
    await engine.admin.add(dump_destination(zuid), actor="local:a")
    with capture_logs() as logs:
        (engine.settings.destinations_dir / "zuid.yaml").unlink()
        await engine.reload_destinations()
    assert list(engine.catalog.destinations) == ["noord"]
    assert not _events(logs, EMPTY)


async def test_the_last_destination_removed_on_purpose_leaves_service(
    engine_on_files: Engine,
) -> None:
    """``destinations remove`` leaves the directory empty when it removes the last one: that
    is a removal on purpose, and the next engine on the store starts without destinations."""
    engine = engine_on_files
    with capture_logs() as logs:
        await engine.admin.remove("noord", actor="local:a", reason="contract ended")
        await engine.reload_destinations()
    assert engine.catalog.destinations == {}
    assert not _events(logs, EMPTY)
    await engine.stop()
    again = Engine(engine.settings)
    await again.start()
    try:
        assert again.catalog.destinations == {}
    finally:
        await again.stop()


async def test_a_removal_committed_just_after_its_file_went_still_takes_it_out(
    engine_on_files: Engine,
) -> None:
    """A removal deletes the file, then commits its revision: a watcher reading the directory
    in between finds it empty, the removal not yet recorded, and keeps the destination. It
    looks once more, and the last destination removed on purpose does leave service."""
    engine = engine_on_files
    with capture_logs() as logs:
        async with engine.store.recording_destination_revision(
            "noord", after=1, actor="local:a", action=history_actions.REMOVE, config=None, diff=""
        ):
            (engine.settings.destinations_dir / "noord.yaml").unlink()

            async def warned() -> bool:
                return bool(_events(logs, EMPTY))

            await eventually(warned, timeout=20)  # read before the commit

        async def gone() -> bool:
            return "noord" not in engine.catalog.destinations

        await eventually(gone, timeout=20)


async def test_an_engine_on_a_store_in_use_with_an_empty_directory_does_not_start(
    tmp_path: Path, receiver: MllpReceiver
) -> None:
    settings = await store_in_use(tmp_path, receiver.port)
    _emptied(settings.destinations_dir)
    said = await refused_start(settings, tmp_path)
    assert said.startswith(
        f"destinations directory holds no destination files: {settings.destinations_dir} "
        "(INTEGRATOR_DESTINATIONS_DIR); this store has 1 destination in service, so the "
        "engine does not start"
    ), said
    assert "`integrator destinations remove <id>`" in said


def test_integrator_run_with_an_empty_directory_on_a_store_in_use_exits_2(
    tmp_path: Path,
) -> None:
    directory = asyncio.run(store_in_use(tmp_path, free_port())).destinations_dir
    _emptied(directory)
    ran = run_cli("run", env=env_of_store_in_use(tmp_path, directory))
    assert ran.returncode == 2, ran.stderr
    [line] = [said for said in ran.stderr.splitlines() if said.startswith("error:")]
    assert f"destinations directory holds no destination files: {directory}" in line, line


async def test_a_new_store_with_an_empty_directory_starts(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    with capture_logs() as logs:
        engine = Engine(settings)
        await engine.start()
        try:
            assert engine.catalog.destinations == {}
            await engine.reload_destinations()
        finally:
            await engine.stop()
    assert not _events(logs, EMPTY)


ODD_ENDINGS = ("hosp-e.YAML", "hosp-f.Yml")


def test_a_file_ending_yaml_in_another_case_is_refused_not_passed_over(tmp_path: Path) -> None:
    for name in ODD_ENDINGS:
        config = destination(name.split(".")[0], 2575, providers=["p"])
        (tmp_path / name).write_text(dump_destination(config))
    loaded, errors = load_destination_files(tmp_path)
    assert loaded == []
    assert [(Path(e.file).name, e.code) for e in errors] == [
        ("hosp-e.YAML", "ending_case"),
        ("hosp-f.Yml", "ending_case"),
    ]
    assert errors[0].rule == (
        "ends in .YAML, which is not read: a destination's file is named <id>.yaml, in lower "
        f"case (rename it to {tmp_path / 'hosp-e.yaml'})"
    )


async def test_the_engine_says_a_file_ending_in_another_case_is_a_stray_file(
    engine_on_files: Engine,
) -> None:
    engine = engine_on_files
    directory = engine.settings.destinations_dir
    with capture_logs() as logs:
        for name in ODD_ENDINGS:
            config = destination(name.split(".")[0], 9, providers=["p"])
            (directory / name).write_text(dump_destination(config))

        async def said() -> bool:  # the watcher sees them, without a SIGHUP
            return len(_events(logs, STRAY)) == 2

        await eventually(said, timeout=20)
    assert list(engine.catalog.destinations) == ["noord"]  # not loaded
    assert sorted(Path(f).name for f in engine.catalog.stray_files) == sorted(ODD_ENDINGS)


def test_destinations_list_names_a_file_ending_in_another_case(tmp_path: Path) -> None:
    directory = asyncio.run(store_in_use(tmp_path, free_port())).destinations_dir
    config = destination("hosp-e", 9, providers=["p"])
    (directory / "hosp-e.YAML").write_text(dump_destination(config))
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(directory),
    }
    listed = run_cli("destinations", "list", "--json", "--with-stray-files", env=env)
    assert listed.returncode == 0, listed.stderr
    body = json.loads(listed.stdout)
    assert [row["id"] for row in body["destinations"]] == ["noord"]
    [stray] = body["stray_files"]
    assert stray["file"] == str(directory / "hosp-e.YAML")
    [problem] = stray["problems"]
    assert problem["code"] == "ending_case"
    assert problem["rule"].endswith(f"(rename it to {directory / 'hosp-e.yaml'})")
    assert "hosp-e.YAML" in listed.stderr


async def test_two_destinations_of_one_name_are_warned_of_naming_both(
    engine_on_files: Engine,
) -> None:
    engine = engine_on_files
    name = engine.catalog.destinations["noord"].name
    copy = destination("noord-copy", 9, providers=["lab-copy"], name=name)
    with capture_logs() as logs:
        (engine.settings.destinations_dir / "noord-copy.yaml").write_text(dump_destination(copy))
        await engine.reload_destinations()
        await engine.reload_destinations()  # an unrelated reload says it no more
    assert sorted(engine.catalog.destinations) == ["noord", "noord-copy"]  # not refused
    [said] = _events(logs, SHARED_NAME)
    assert said["log_level"] == "warning"
    assert (said["name"], said["destinations"]) == (name, ["noord", "noord-copy"])


async def test_no_change_is_made_while_the_directory_holds_no_files(
    engine_on_files: Engine, receiver: MllpReceiver
) -> None:
    """An ``add`` into the mount point of a volume that did not mount wrote its one file there,
    and the engine, reading it, took every destination it kept out of service, recorded as
    deleted by hand. Refused as without the directory; the removal of a kept one too (no file
    defines it there); nothing written, nothing recorded."""
    engine = engine_on_files
    directory = engine.settings.destinations_dir
    in_service = engine.catalog.destinations
    histories = {d: await engine.admin.history(d) for d in in_service}
    _emptied(directory)
    await engine.reload_destinations()
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"])
    for change in (
        engine.admin.add(dump_destination(zuid), actor="local:a"),
        engine.admin.remove("noord", actor="local:a", reason="moving"),
    ):
        with pytest.raises(ConfigurationError) as refused:
            await change
        said = str(refused.value)
        assert said.startswith(
            f"destinations directory holds no destination files: {directory} "
            "(INTEGRATOR_DESTINATIONS_DIR); this store has 1 destination in service, so "
            "nothing is changed"
        ), said
        assert refused.value.code == "destination.directory_empty"
    assert list(directory.iterdir()) == []
    await engine.reload_destinations()
    assert engine.catalog.destinations == in_service
    assert {d: await engine.admin.history(d) for d in in_service} == histories
    assert await engine.store.list_destination_revisions("zuid") == []
