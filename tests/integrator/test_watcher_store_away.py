"""A hand edit made while the store is away applies once the store is back, without another edit.

The watcher took a change whose applying failed as seen: with PostgreSQL refusing connections
when a destination file was edited (a new port), the engine went on sending to the old address
until someone edited some file again. Here a real database refuses connections while the file
is edited, and accepts them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for
from tests.integrator.test_operators import events, eventually
from tests.services import postgres_admin_sql, scratch_database

pytestmark = pytest.mark.postgres

FAILED = "applying destination files failed"
APPLIED = "destination files applied after failing"


async def refuse_connections(database: str, refuse: bool) -> None:
    """``ALLOW_CONNECTIONS false`` holds for superusers too; the sessions open are ended."""
    await postgres_admin_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {not refuse}')
    if refuse:
        await postgres_admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )


async def test_a_port_edited_while_the_database_refuses_applies_when_it_is_back(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with scratch_database() as (name, url):
        try:
            async with MllpReceiver() as old_home, MllpReceiver() as new_home:
                settings = settings_for(
                    tmp_path, database_url=url, search_key="watcher-store-away-search-key"
                )
                settings.destinations_dir.mkdir()
                path = settings.destinations_dir / "noord.yaml"
                first = destination("noord", old_home.port, providers=["ziekenhuis-noord"])
                path.write_text(dump_destination(first))
                engine = Engine(settings)
                await engine.start()
                try:
                    with capture_logs() as logs:
                        await refuse_connections(name, True)
                        moved = destination("noord", new_home.port, providers=["ziekenhuis-noord"])
                        path.write_text(dump_destination(moved))

                        async def failed() -> bool:
                            return any(e["event"].startswith(FAILED) for e in logs)

                        await eventually(failed, timeout=20)
                        assert engine.catalog.destinations["noord"].port == old_home.port
                        await refuse_connections(name, False)

                        async def applied() -> bool:
                            # In service, and said (after the apply returned) once.
                            moved = engine.catalog.destinations["noord"].port == new_home.port
                            return moved and any(e["event"] == APPLIED for e in logs)

                        await eventually(applied, timeout=30)  # no other edit

                    await engine.intake.submit_many(events(referral_data, 1), source="cli")
                    assert await engine.wait_settled(timeout=20)
                    assert len(new_home.received) == 1
                    assert old_home.received == []
                    revisions = await engine.store.list_destination_revisions("noord")
                    recorded = revisions[-1].config
                    assert (
                        recorded is not None and recorded["port"] == new_home.port
                    )  # as edits are
                finally:
                    await engine.stop()
        finally:
            await refuse_connections(name, False)
