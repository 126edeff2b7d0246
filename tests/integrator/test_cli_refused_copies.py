"""``destinations list`` names the refused hand edits kept beside the files, with their age.

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
