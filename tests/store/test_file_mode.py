"""A SQLite store holds patient data: a new one is readable by its owner only, whatever the
umask, and an engine on an existing store that others can read says so at start, with the fix."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from integrator.engine import Engine
from integrator.store import Store
from integrator.store.url import exposed_store_file, resolve
from tests.integrator.support import settings_for
from tests.store.factories import make_event, make_message


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files readable by everybody unless made otherwise."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_store_and_its_wal_files_are_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "store.db"
    store = await Store.open(f"sqlite:///{path}")
    try:
        assert await store.accept_event(make_event(), [make_message()])
        files = [p for p in path.parent.iterdir() if p.name.startswith("store.db")]
        assert {p.name for p in files} >= {"store.db", "store.db-wal", "store.db-shm"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert store.exposed_files() is None
    finally:
        await store.close()


@pytest.mark.usefixtures("open_umask")
async def test_an_engine_on_a_store_others_can_read_warns_with_the_fix(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    path = tmp_path / "store.db"
    store = await Store.open(settings.database_url)
    await store.close()
    path.chmod(0o644)  # as stores made before this version are

    engine = Engine(settings)
    with capture_logs() as logs:
        await engine.start()
    await engine.stop()

    [warning] = [e for e in logs if e["event"] == "store files readable by others"]
    assert warning["log_level"] == "warning"
    assert "store.db (0644)" in warning["detail"]
    assert f"chmod 600 {path}*" in warning["detail"]


def test_postgresql_has_no_files_to_warn_about() -> None:
    assert exposed_store_file(resolve("postgresql://db.example/integrator")) is None
