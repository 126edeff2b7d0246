"""``integrator prune`` says what it gave back in bytes: it printed ``space:
incremental_vacuum`` while the store file kept its size (emptied payloads leave part-filled
pages), which read as space freed on a disk that stayed full."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

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


def test_the_words_for_bytes_given_back_and_for_none() -> None:
    """Both cases pinned, whichever the store above gives: the sizes in the words."""
    from datetime import UTC, datetime

    from integrator.lifecycle.prune import PruneReport
    from integrator.lifecycle.retention import Retention

    def said(before: int, after: int) -> str | None:
        report = PruneReport(False, Retention(), datetime.now(UTC), space="incremental_vacuum")
        report.file_bytes, report.free_bytes = (before, after), 512_000
        return report.space_said

    assert said(3_000_000, 1_000_000) == (
        "incremental_vacuum: gave back 2.0 MB (store file 1.0 MB)"
    )
    assert said(1_000_000, 1_000_000) == (
        "incremental_vacuum: gave back nothing (store file 1.0 MB): pruned values left "
        "part-filled pages. `integrator prune --vacuum` rewrites the file, needing about "
        "1.0 MB free on its disk; 512.0 KB free there now"
    )


async def test_a_vacuum_without_room_says_how_much_it_needs_and_keeps_the_prune(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's "database or disk is full" said neither the room a rewrite needs (about the
    file's size) nor the room there is; the prune before it is recorded all the same."""
    from integrator.store import Store, StoreUnavailable

    async def full(_store: Store, *, full: bool = False) -> str:
        failure = StoreUnavailable(
            "give space back failed (OperationalError, SQLITE_FULL): the disk is full"
        )
        failure.code = "SQLITE_FULL"
        raise failure

    await fill(env, 3, at=LONG_AGO)
    monkeypatch.setattr(Store, "reclaim_space", full)
    refused = await asyncio.to_thread(cli, env, "prune", "--vacuum")
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.stderr.split())
    store_file = env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    assert f"--vacuum rewrites the store file {store_file} and needs about " in said
    assert " free there now: free some space there (or move the store to a larger disk)" in said
    assert "what this run pruned is kept and recorded" in said
    monkeypatch.undo()
    recorded = await asyncio.to_thread(
        cli, env, "audit", "list", "--action", "data.prune", "--json"
    )
    [entry] = json.loads(recorded.stdout)
    assert entry["details"]["counts"]["messages"] == 3
