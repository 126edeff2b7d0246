"""The "destinations applied" line names what changed: a count alone ("destinations=2
restarted=0") told an operator nothing of a pause, a resume or a removal someone else made."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from tests.integrator.support import destination, engine_on_destinations, settings_for


def applied_lines(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "destinations applied"]


def applied(logs: Sequence[MutableMapping[str, Any]]) -> dict[str, str]:
    """The changes named by the one line that names any. The watcher may, rarely, read the
    directory in the moment between a change's file being written and the change applying it:
    it applies the change then, and the change's own reading finds nothing left to say."""
    [line] = [e for e in applied_lines(logs) if "changes" in e]
    changes: dict[str, str] = line["changes"]
    return changes


NOORD = "noord"


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    """An engine on a destinations directory holding noord, which delivers to ``receiver``."""
    noord = destination(NOORD, receiver.port, providers=["ziekenhuis-noord"])
    async with engine_on_destinations(settings_for(tmp_path), noord) as engine:
        yield engine


async def test_each_change_is_named_with_its_destination(
    engine: Engine, receiver: MllpReceiver
) -> None:
    admin = engine.admin
    steps = [
        (admin.set_enabled(NOORD, False, actor="local:a", reason="x"), "paused"),
        (admin.set_enabled(NOORD, True, actor="local:a", reason="x"), "resumed"),
        (admin.update(NOORD, ["connect_timeout=2s"], actor="local:a"), "changed"),
    ]
    for change, said in steps:
        with capture_logs() as logs:
            await change
        assert applied(logs) == {NOORD: said}
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"], cluster="LAB")
    with capture_logs() as logs:
        await admin.add(dump_destination(zuid), actor="local:a")
    assert applied(logs) == {"zuid": "added"}
    with capture_logs() as logs:
        await admin.remove("zuid", actor="local:a")
    assert applied(logs) == {"zuid": "removed"}


async def test_a_paused_destination_s_changes_are_named_too(
    engine: Engine, receiver: MllpReceiver
) -> None:
    """Read from the runners, a paused destination (it has none) changed, rolled back or
    removed said only "destinations applied destinations=2 restarted=0"."""
    admin = engine.admin
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"], cluster="LAB", enabled=False)
    steps = [
        (admin.add(dump_destination(zuid), actor="local:a"), {"zuid": "added, paused"}),
        (admin.update("zuid", ["connect_timeout=2s"], actor="local:a"), {"zuid": "changed"}),
        (admin.rollback("zuid", 1, actor="local:a", reason="back"), {"zuid": "changed"}),
        (admin.remove("zuid", actor="local:a"), {"zuid": "removed"}),
    ]
    for change, said in steps:
        with capture_logs() as logs:
            await change
        assert applied(logs) == said


async def test_the_watcher_does_not_apply_again_what_a_change_applied(engine: Engine) -> None:
    """A change made with the CLI, API or console writes its file and applies it; the watcher,
    noticing the file a second later, applied the whole directory again and said "destinations
    applied" a second time for one change."""
    assert await engine.files_changed() is None  # as the start read it
    await engine.admin.set_enabled(NOORD, False, actor="local:a", reason="x")
    with capture_logs() as logs:
        assert await engine.files_changed() is None
    assert applied_lines(logs) == []
    file = engine.settings.destinations_dir / "noord.yaml"
    hand_edit = engine.catalog.destinations[NOORD].model_copy(
        update={"connect_timeout": 3.0, "enabled": True}
    )
    file.write_text(dump_destination(hand_edit))
    with capture_logs() as logs:
        assert await engine.files_changed() is not None
    assert engine.catalog.destinations[NOORD].connect_timeout == 3.0
    assert applied(logs) == {NOORD: "resumed"}
