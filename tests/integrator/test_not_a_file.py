"""A destination's ``<id>.yaml`` that is no readable file is refused, never passed over.

A directory, a link to nothing or a pipe where ``noord.yaml`` was (a botched deploy) used to be
skipped: ``noord`` left service with no revision, no audit entry and no refusal shown, and its
messages stopped without a word. Now it is a refused file like one with broken YAML: the
destination delivers on its last good definition, the refusal is shown and audited once, and
the destination leaves service only when nothing at all is named ``noord.yaml``. Run on a real
directory with a running engine (its watcher) and a loopback receiver.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator import file_audit
from integrator.engine import Engine
from integrator.store import AuditRecord
from tests.file_powers import without_file_powers
from tests.integrator import test_operators as operators
from tests.integrator.support import destination
from tests.integrator.test_operators import events, eventually

# A running engine on a directory holding noord.yaml (its receiver: tests/conftest.py).
engine_on_files = operators.engine_on_files


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "inside.yaml").write_text("never: read\n")


def _link_to_nothing(path: Path) -> None:
    path.symlink_to(path.with_name("gone-for-good.yaml"))


def _pipe(path: Path) -> None:
    os.mkfifo(path)  # reading it would wait for a writer for ever


KINDS: dict[str, Callable[[Path], None]] = {
    "directory": _directory,
    "link_to_nothing": _link_to_nothing,
    "special": _pipe,
}


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


async def _refusals(engine: Engine) -> list[AuditRecord]:
    entries = await engine.store.list_audit(target="noord", limit=1000)
    return [e for e in reversed(entries) if e.action == file_audit.REFUSED]


async def _delivered(engine: Engine, server: MllpReceiver, referral: dict[str, Any]) -> None:
    before = len(server.received)
    await engine.intake.submit_many(events(referral, 1), source="cli")
    assert await engine.wait_settled(timeout=10)
    assert len(server.received) == before + 1


@pytest.mark.parametrize("kind", list(KINDS))
async def test_an_entry_that_is_no_file_keeps_its_destination_in_service_and_is_refused(
    engine_on_files: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    kind: str,
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    good = path.read_text()
    path.unlink()
    KINDS[kind](path)

    async def refused() -> bool:
        return "noord" in engine.catalog.broken

    await eventually(refused, timeout=20)  # the watcher noticed, without a SIGHUP
    [problem] = engine.catalog.broken["noord"].problems
    assert (problem.key, problem.code, problem.values) == ("(file)", "not_a_file", {"entry": kind})
    assert engine.catalog.broken["noord"].revision == 1
    view = await engine.admin.view("noord")
    assert view.state == "broken" and view.config is not None
    await _delivered(engine, receiver, referral_data)  # on its last good definition

    await engine.reload_destinations()
    await engine.reload_destinations()
    [entry] = await _refusals(engine)  # audited once, not at every reload
    assert (entry.actor, entry.details["file"], entry.details["revision"]) == (
        "file",
        "noord.yaml",
        1,
    )
    assert [p["code"] for p in entry.details["problems"]] == ["not_a_file"]
    assert [h["revision"] for h in await engine.admin.history("noord")] == [1]

    _clear(path)  # put back as it was
    path.write_text(good)

    async def restored() -> bool:
        return "noord" not in engine.catalog.broken

    await eventually(restored, timeout=20)
    await _delivered(engine, receiver, referral_data)
    entries = await engine.store.list_audit(target="noord", limit=1000)
    assert [e.action for e in reversed(entries)][-2:] == [file_audit.REFUSED, file_audit.RESTORED]
    assert [h["revision"] for h in await engine.admin.history("noord")] == [1]


async def test_a_destination_leaves_service_only_when_nothing_has_its_name(
    engine_on_files: Engine,
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    # Another destination's file beside it: a directory left with none removes nothing
    # (``integrator.no_destination_files``).
    zuid = destination("zuid", 9, providers=["lab-zuid"])
    path.with_name("zuid.yaml").write_text(dump_destination(zuid))
    path.unlink()
    _link_to_nothing(path)
    await engine.reload_destinations()
    assert "noord" in engine.catalog.destinations  # a link to nothing is no deletion

    path.unlink()  # now nothing is named noord.yaml: as a file deleted by hand

    async def gone() -> bool:
        return "noord" not in engine.catalog.destinations

    await eventually(gone, timeout=20)
    history = await engine.admin.history("noord")
    assert [(h["revision"], h["actor"]) for h in history] == [(1, "file"), (2, "file")]
    [newest, *_] = await engine.store.list_audit(target="noord")
    assert (newest.action, newest.details.get("removed")) == ("destination.file", True)


@without_file_powers
async def test_a_file_made_unreadable_is_refused_at_once_and_its_destination_stays(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    path.chmod(0)  # changes no modification time: the watcher must notice all the same

    async def refused() -> bool:
        return "noord" in engine.catalog.broken

    try:
        await eventually(refused, timeout=20)
        assert engine.catalog.broken["noord"].problem.code == "unreadable"
        await _delivered(engine, receiver, referral_data)
        [entry] = await _refusals(engine)
        assert [p["code"] for p in entry.details["problems"]] == ["unreadable"]
    finally:
        path.chmod(0o644)

    async def restored() -> bool:
        return "noord" not in engine.catalog.broken

    await eventually(restored, timeout=20)
