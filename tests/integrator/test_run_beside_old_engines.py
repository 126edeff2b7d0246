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

from sqlalchemy import insert

from integrator.store.migrate import current_revision
from integrator.store.tables import engine_presence
from tests.services import free_port
from tests.store.conftest import Site
from tests.store.helpers import migrate_to, raw_connection

ROOT = Path(__file__).resolve().parents[2]


async def test_run_beside_an_engine_of_the_old_version_is_refused_with_exit_2(
    tmp_path: Path,
) -> None:
    site = Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}")
    await migrate_to(site, "0023")
    now = datetime.now(UTC)
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(engine_presence).values(
                id="old-engine",
                host="ziekenhuis-app-01",
                pid=4242,
                http_address="127.0.0.1:8080",
                started_at=now - timedelta(hours=1),
                heartbeat_at=now + timedelta(minutes=5),  # fresh for the whole test
                pid_namespace=None,
                data_keys="",
                transport="embedded",
            )
        )
        await conn.commit()
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
    assert "engine(s) still run on it (ziekenhuis-app-01 pid 4242" in said
    assert "stop every engine of the old version first" in said
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == "0023"
