"""A destination change whose process stopped after writing the file and before recording its
revision is recorded, at the next load, as that change: by who made it, with their reason.

Before, the next load took the file for a hand edit (actor ``file``, no reason), and the
caller's retry found nothing to change: the trail never named them. Here a real
``integrator destinations update`` is held in its commit on PostgreSQL (a deferred trigger
that sleeps), killed with SIGKILL once its file is written, and its transaction ended; then an
engine loads the directory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from destinations.config import dump_destination
from integrator.change_intents import intent_path
from integrator.cli.common import os_user
from integrator.engine import Engine
from tests.http.support import ROOT
from tests.integrator.support import destination, settings_for
from tests.services import POSTGRES_HOST, POSTGRES_PORT, scratch_database

pytestmark = pytest.mark.postgres

SEARCH_KEY = "change-cut-off-search-key-0123"
HOLD_THE_COMMIT = """
CREATE FUNCTION hold_the_commit() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_sleep(120); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER hold_the_commit AFTER INSERT ON destination_revisions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_the_commit();
"""


async def test_a_change_cut_off_before_its_revision_is_recorded_as_that_change(
    tmp_path: Path,
) -> None:
    async with scratch_database() as (name, url):
        settings = settings_for(tmp_path, database_url=url, search_key=SEARCH_KEY)
        settings.destinations_dir.mkdir()
        path = settings.destinations_dir / "noord.yaml"
        path.write_text(dump_destination(destination("noord", 2575, providers=["zh-noord"])))
        engine = Engine(settings)
        await engine.start()  # the file's first revision, by ``file``
        await engine.stop()

        dsn = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(HOLD_THE_COMMIT)
            env = {
                **os.environ,
                "INTEGRATOR_DATABASE_URL": url,
                "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
                "INTEGRATOR_DESTINATIONS_DIR": str(settings.destinations_dir),
                "INTEGRATOR_HTTP_PORT": "1",  # no engine answers there: the change is the CLI's
            }
            change = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "integrator", "destinations", "update", "noord"),
                *("--set", "port=2600", "--reason", "HIS moved to a new host"),
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 60
            while "2600" not in path.read_text():
                assert change.returncode is None and time.monotonic() < deadline
                await asyncio.sleep(0.05)
            assert intent_path(settings.destinations_dir, "noord").exists()
            change.send_signal(signal.SIGKILL)
            await asyncio.wait_for(change.wait(), 30)
            # The killed process's transaction, still asleep in its commit, is ended undone.
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await admin.execute("DROP TRIGGER hold_the_commit ON destination_revisions")
        finally:
            await admin.close()

        engine = Engine(settings)
        await engine.start()
        try:
            revisions = await engine.store.list_destination_revisions("noord")
            audit = await engine.store.list_audit(target="noord", limit=10)
        finally:
            await engine.stop()
    last = revisions[-1]
    who = f"local:{os_user()}"  # the command's login name, as it runs here
    assert (last.revision, last.actor, last.reason) == (2, who, "HIS moved to a new host")
    assert last.config is not None and last.config["port"] == 2600
    assert not intent_path(settings.destinations_dir, "noord").exists()
    [entry] = [e for e in audit if e.details.get("revision") == 2]
    assert (entry.actor, entry.reason) == (who, "HIS moved to a new host")
    assert entry.details["recorded"].startswith("at the next load of its file")
