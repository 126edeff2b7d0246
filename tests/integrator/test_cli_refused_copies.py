"""``destinations list`` and ``destinations show`` name the refused hand edits kept beside the
files, with their age.

The engine never deletes them (one may be an operator's only copy of a change), so the listing
is where they are seen; in-process (``CliRunner``) on a real store and destination files.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from destinations.config import dump_destination
from integrator.cli import app
from integrator.refused_edits import STAMP
from integrator.store import Store
from tests.integrator.support import destination
from tests.services import free_port


@pytest.fixture(autouse=True)
def _structlog_kept() -> Iterator[None]:
    saved = structlog.get_config()  # the CLI points structlog at CliRunner's stream
    yield
    structlog.configure(**saved)


async def _made(url: str) -> None:
    await (await Store.open(url)).close()


def test_destinations_list_names_the_refused_copies_kept_and_their_age(
    env: dict[str, str],
) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    config = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    (directory / "noord.yaml").write_text(dump_destination(config), encoding="utf-8")
    kept_at = datetime.now(UTC) - timedelta(days=12, hours=1)
    copy = directory / f"noord.yaml.{kept_at.strftime(STAMP)}.refused"
    copy.write_text("id: noord\nordring: fifo\n", encoding="utf-8")
    gone = directory / f"lab-oost.yaml.{kept_at.strftime(STAMP)}.refused"
    gone.write_text("id: lab-oost\n", encoding="utf-8")
    asyncio.run(_made(env["INTEGRATOR_DATABASE_URL"]))  # as the engine's first start does
    runner = CliRunner()

    listed = runner.invoke(app, ["destinations", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    said = " ".join(listed.stdout.split())
    assert (
        f"refused edits kept noord: 1 copy beside its file, the oldest 12 days old: {copy.name}"
        in said
    )
    assert "delete them (the engine never does)" in said
    assert f"its destination's file is gone: {gone.name} (12 days old)" in " ".join(
        listed.stderr.split()
    )

    as_json = runner.invoke(app, ["destinations", "list", "--json"], env=env)
    [row] = json.loads(as_json.stdout)
    [named] = row["refused_copies"]
    assert named["file"] == copy.name and named["age_seconds"] >= 12 * 86400

    copy.unlink()
    gone.unlink()
    cleared = runner.invoke(app, ["destinations", "list"], env=env)
    assert "refused edit" not in cleared.stdout + cleared.stderr


def test_destinations_show_names_the_refused_copies_of_its_file(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    config = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    (directory / "noord.yaml").write_text(dump_destination(config), encoding="utf-8")
    kept_at = datetime.now(UTC) - timedelta(days=2, hours=1)
    older = directory / f"noord.yaml.{(kept_at - timedelta(days=3)).strftime(STAMP)}.refused"
    older.write_text("id: noord\nport: x\n", encoding="utf-8")
    copy = directory / f"noord.yaml.{kept_at.strftime(STAMP)}.refused"
    copy.write_text("id: noord\nordring: fifo\n", encoding="utf-8")
    other = directory / f"zuid.yaml.{kept_at.strftime(STAMP)}.refused"
    other.write_text("id: zuid\n", encoding="utf-8")  # another file's: not named here
    asyncio.run(_made(env["INTEGRATOR_DATABASE_URL"]))
    runner = CliRunner()

    shown = runner.invoke(app, ["destinations", "show", "noord"], env=env)
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    assert (
        f"# refused edits kept: 2 copies beside its file, the oldest 5 days old: {older.name}, "
        f"{copy.name} — put back what was meant" in said
    )
    assert other.name not in shown.stdout
    assert "port:" in shown.stdout  # the definition itself, as before

    as_json = runner.invoke(app, ["destinations", "show", "noord", "--json"], env=env)
    named = json.loads(as_json.stdout)["refused_copies"]
    assert [c["file"] for c in named] == [older.name, copy.name]  # oldest first
    assert named[0]["age_seconds"] >= 5 * 86400

    older.unlink()
    copy.unlink()
    cleared = runner.invoke(app, ["destinations", "show", "noord", "--json"], env=env)
    assert json.loads(cleared.stdout)["refused_copies"] == []
    assert (
        "refused edit" not in runner.invoke(app, ["destinations", "show", "noord"], env=env).stdout
    )


def test_kept_at_is_in_the_engines_zone_as_every_time_the_cli_prints(
    env: dict[str, str],
) -> None:
    """``list --json`` and ``show --json`` gave ``kept_at`` in UTC (``+00:00``) beside the
    last attempt's ``at`` and the pause times in local time (docs/support.md, "Times")."""
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    config = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    (directory / "noord.yaml").write_text(dump_destination(config), encoding="utf-8")
    kept_at = datetime(2026, 12, 8, 1, 49, 45, 751568, tzinfo=UTC)  # winter: +01:00
    copy = directory / f"noord.yaml.{kept_at.strftime(STAMP)}.refused"
    copy.write_text("id: noord\nordring: fifo\n", encoding="utf-8")
    asyncio.run(_made(env["INTEGRATOR_DATABASE_URL"]))
    runner = CliRunner()

    listed = runner.invoke(app, ["destinations", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    shown = runner.invoke(app, ["destinations", "show", "noord", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    for copies in (row["refused_copies"], json.loads(shown.stdout)["refused_copies"]):
        [named] = copies
        assert named["kept_at"] == "2026-12-08T02:49:45.751568+01:00"
