"""``integrator run`` on an older store with an engine of the old version still on it.

The refusal is what every command says (docs/deploy.md: "it is refused, exit 2"), and
``run`` exited 1 with it: its catch-all dropped the error's own exit code.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrator.store.migrate import current_revision
from tests.services import free_port
from tests.store.conftest import Site
from tests.store.helpers import leave_old_engine_running, migrate_to, raw_connection

ROOT = Path(__file__).resolve().parents[2]


async def test_run_beside_an_engine_of_the_old_version_is_refused_with_exit_2(
    tmp_path: Path,
) -> None:
    site = Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}")
    await migrate_to(site, "0023")
    # Fresh for the whole test.
    await leave_old_engine_running(site, datetime.now(UTC) + timedelta(minutes=5))
    (tmp_path / "destinations").mkdir()

    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "integrator", "run"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "INTEGRATOR_DATABASE_URL": site.url,
            "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
            "INTEGRATOR_SEARCH_KEY": "ab" * 32,
            "INTEGRATOR_HTTP_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = " ".join(ran.stderr.split())
    assert ran.returncode == 2, said
    assert "1 engine still runs on it (ziekenhuis-app-01 pid 4242" in said
    assert "stop every engine of the old version first" in said
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == "0023"
