"""A destination recorded with a padded cluster before the name's rule stays in service.

Its file is refused now (``cluster: must not be blank nor begin or end with white space``), so
it runs on its last recorded revision as for any other refusal, and that revision still reads
back: refusing it there too would take the destination out of service at the next start. The
tools still pause it, keeping the cluster as recorded; a changed cluster is held to the rule.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from destinations.config import definition_of, destination_from_mapping, dump_destination
from integrator.engine import Engine
from integrator.store_for import open_store
from tests.cli_in_process import run_cli as cli
from tests.integrator.support import destination, settings_for
from tests.services import free_port

DEST = "noord"


async def recorded_before_the_rule(tmp_path: Path) -> None:
    """The file and revision 1 as a release before the rule wrote them."""
    settings = settings_for(tmp_path)
    plain = definition_of(destination(DEST, free_port(), providers=["ziekenhuis-noord"]))
    padded = destination_from_mapping(
        {**plain, "cluster": " CARD "}, source="old", check_files=False
    )
    (settings.destinations_dir / f"{DEST}.yaml").write_text(dump_destination(padded))
    store = await open_store(settings)
    try:
        recorded = await store.add_destination_revision_if_changed(
            DEST, actor="file", action="file", config=definition_of(padded), diff="+"
        )
        assert recorded == 1
    finally:
        await store.close()


async def started_on_the_revision(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path))
    await engine.start()
    try:
        assert engine.catalog.destinations[DEST].cluster == " CARD "  # in service
        broken = engine.catalog.broken[DEST]
        assert (broken.revision, broken.problem.key, broken.problem.code) == (
            1,
            "cluster",
            "cluster_name",
        )
    finally:
        await engine.stop()


def test_a_revision_recorded_with_a_padded_cluster_keeps_the_destination_in_service(
    env: dict[str, str], tmp_path: Path
) -> None:
    asyncio.run(recorded_before_the_rule(tmp_path))
    asyncio.run(started_on_the_revision(tmp_path))

    paused = cli("destinations", "pause", DEST, "--json", env=env)
    assert paused.returncode == 0, paused.stderr
    shown = json.loads(cli("destinations", "show", DEST, "--json", env=env).stdout)
    assert shown["definition"]["cluster"] == " CARD "

    # Another padded cluster is a change of cluster, so the rule holds for it.
    moved = cli("destinations", "update", DEST, "--set", "cluster=' LAB '", env=env)
    assert moved.returncode == 2, moved.stdout
    assert "cluster: must not be blank nor begin or end with white space" in moved.stderr
