"""``integrator prune`` says what it gave back in bytes: it printed ``space:
incremental_vacuum`` while the store file kept its size (emptied payloads leave part-filled
pages), which read as space freed on a disk that stayed full."""

from __future__ import annotations

import asyncio
import json
import re

from tests.lifecycle.test_cli import LONG_AGO, cli, env, fill

__all__ = ["env"]


async def test_a_prune_says_the_bytes_it_gave_back_or_that_it_gave_none(
    env: dict[str, str],
) -> None:
    await fill(env, 3, at=LONG_AGO)
    pruned = await asyncio.to_thread(cli, env, "prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    report = json.loads(pruned.stdout)
    before, after = report["file_bytes_before"], report["file_bytes_after"]
    assert isinstance(before, int) and isinstance(after, int) and after <= before
    said = report["space_said"]
    if after < before:
        assert said.startswith("incremental_vacuum: gave back ")
    else:  # three small payloads share their pages with kept rows: nothing goes
        assert said.startswith("incremental_vacuum: gave back nothing (store file ")
        assert re.search(
            r"`integrator prune --vacuum` rewrites the file, needing about "
            r"[\d.]+ [KMG]B free on its disk; [\d.]+ [KMGT]B free there now",
            said,
        )
    await fill(env, 2, at=LONG_AGO)
    table = await asyncio.to_thread(cli, env, "prune")
    assert "space: incremental_vacuum: gave back " in " ".join(table.stdout.split())
