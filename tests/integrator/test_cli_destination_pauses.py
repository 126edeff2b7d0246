"""``integrator destinations show`` says since when a destination is paused and when it was
last resumed, as the engine saw it: a message's ``max_age`` counts from that resume at the
earliest, so support reading a dead letter's age needs it.

No engine runs here: the moments are written as an engine writes them when it applies the
destination files (``Store.observe_enabled``), the pause and the resume themselves made by the
CLI as an operator makes them.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrator.store import Store
from tests.cli_in_process import run_cli as cli

ROOT = Path(__file__).resolve().parents[2]
DEST = "ziekenhuis-noord"
PAUSED = datetime(2026, 11, 20, 9, 15, 0, 124456, tzinfo=UTC)
RESUMED = PAUSED + timedelta(days=2, hours=1)


def engine_sees(env: dict[str, str], enabled: bool, now: datetime) -> None:
    async def observe() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.observe_enabled({DEST: enabled}, now=now)

    asyncio.run(observe())


def shown(env: dict[str, str]) -> tuple[dict[str, str], dict[str, object]]:
    text = cli("destinations", "show", DEST, env=env)
    assert text.returncode == 0, text.stderr
    lines = dict(re.findall(r"^# (paused since|last resumed): (\S+)$", text.stdout, re.M))
    as_json = cli("destinations", "show", DEST, "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    return lines, json.loads(as_json.stdout)


def test_show_says_since_when_paused_and_when_last_resumed(env: dict[str, str]) -> None:
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")

    engine_sees(env, True, PAUSED - timedelta(days=1))  # its start: enabled, nothing written
    lines, view = shown(env)  # never paused
    assert lines == {"paused since": "-", "last resumed": "-"}
    assert (view["paused_at"], view["resumed_at"]) == (None, None)

    assert cli("destinations", "pause", DEST, "--reason", "maintenance", env=env).returncode == 0
    lines, view = shown(env)  # paused, but no engine has seen it yet: nothing is invented
    assert lines == {"paused since": "-", "last resumed": "-"}
    engine_sees(env, False, PAUSED)
    lines, view = shown(env)
    assert lines == {"paused since": "2026-11-20T10:15:00+01:00", "last resumed": "-"}
    assert view["paused_at"] == "2026-11-20T10:15:00.124456+01:00"
    assert view["resumed_at"] is None

    assert cli("destinations", "resume", DEST, "--reason", "back up", env=env).returncode == 0
    engine_sees(env, True, RESUMED)
    lines, view = shown(env)  # the store forgets the pause at the resume
    assert lines == {"paused since": "-", "last resumed": "2026-11-22T11:15:00+01:00"}
    assert view["paused_at"] is None
    assert view["resumed_at"] == "2026-11-22T11:15:00.124456+01:00"
    text = cli("destinations", "show", DEST, env=env).stdout
    assert "enabled: true" in text  # still a definition that can be saved as a file


def paused_by(env: dict[str, str]) -> tuple[str | None, object]:
    """The ``# paused by:`` line of ``destinations show`` (None: no such line), and
    ``paused_by`` of its ``--json``."""
    _, view = shown(env)
    text = cli("destinations", "show", DEST, env=env).stdout
    said = re.findall(r"^# paused by: (.*)$", text, re.M)
    return (said[0] if said else None), view["paused_by"]


def test_show_says_who_paused_it_and_why_whichever_change_paused_it(
    env: dict[str, str],
) -> None:
    """Support seeing a paused destination asks who paused it and why: the change that did,
    also when later changes leave it paused, and an update setting ``enabled=false`` as much as
    a pause. Nothing while it delivers."""
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")
    assert paused_by(env) == (None, None)

    assert cli("destinations", "pause", DEST, "--reason", "HIS upgrade", env=env).returncode == 0
    line, view = paused_by(env)
    assert isinstance(view, dict)
    assert (view["action"], view["reason"]) == ("pause", "HIS upgrade")
    actor, revision = view["actor"], view["revision"]
    assert actor and line is not None
    assert line.startswith(f"{actor} (pause, revision {revision}, ") and line.endswith(
        "): HIS upgrade"
    )

    changed = cli(
        "destinations", "update", DEST, "--set", "port=2577", "--reason", "new port", env=env
    )
    assert changed.returncode == 0, changed.stderr
    assert paused_by(env) == (line, view)  # still paused by that change, not the port's

    assert cli("destinations", "resume", DEST, "--reason", "done", env=env).returncode == 0
    assert paused_by(env) == (None, None)

    assert cli("destinations", "update", DEST, "--set", "enabled=false", env=env).returncode == 0
    line, view = paused_by(env)
    assert isinstance(view, dict) and (view["action"], view["reason"]) == ("update", None)
    assert line is not None and line.endswith(", no reason given")
