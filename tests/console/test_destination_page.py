"""What a destination's page shows to whom: the server's file path is for who may change the
file (it says where the engine's configuration lies on the server), not for every viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_saved_searches import signed_in
from tests.integrator.support import destination, settings_for


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def test_the_file_path_is_shown_to_who_may_change_the_destination_only(
    engine: Engine,
) -> None:
    path = str(engine.settings.destinations_dir)
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as viewer:
        shown = await viewer.get("/destinations/lab-west")
        assert shown.status_code == 200 and "lab-west" in shown.text
        assert path not in shown.text
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as operator:
        shown = await operator.get("/destinations/lab-west")
        assert shown.status_code == 200 and path in shown.text
