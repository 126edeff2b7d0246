"""``integrator prune`` never prunes what a running engine keeps longer (docs/operators.md,
"Pruning: daily, and by hand").

Run from a shell without the engine's settings, the command took the default periods and
emptied payloads the engine was set to keep: the engine now records its periods beside its
heartbeat, and a prune with a shorter one is refused before it counts or changes anything.
Its dry run, which changes nothing, counts all the same and warns that the real prune would be
refused: an operator runs it to see what a shorter period would remove.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.lifecycle.agreement import kept_longer, presence_text
from integrator.lifecycle.retention import Retention
from integrator.logging import configure_logging
from integrator.store import EnginePresence, Store
from tests.cli_in_process import json_error
from tests.integrator.support import settings_for
from tests.lifecycle.test_cli import LONG_AGO, cli, env, fill
from tests.store.factories import make_event

__all__ = ["env"]


@asynccontextmanager
async def engine_keeping(
    env: dict[str, str], tmp_path: Path, **periods: int
) -> AsyncIterator[None]:
    """A real engine on the command's store, with these retention periods in its settings."""
    configure_logging()  # its lines on stderr, out of the JSON the commands print
    settings = settings_for(tmp_path, database_url=env["INTEGRATOR_DATABASE_URL"], **periods)
    engine = Engine(settings, catalog=build_catalog([], today=date.today()))
    await engine.start()
    try:
        yield
    finally:
        await engine.stop()


async def test_a_prune_with_shorter_periods_than_the_running_engine_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    await fill(env, 3, at=LONG_AGO)  # delivered 200 days ago: past the default 90 days
    async with engine_keeping(env, tmp_path, retain_payload_days=365):
        refused = await asyncio.to_thread(cli, env, "prune", "--json")
        assert refused.exit_code == 2, refused.output
        json_error(refused.stdout, 2)  # --json: the refusal as JSON, no report
        said = refused.stderr.replace("\n", " ")
        assert "1 running engine keeps data longer than this prune would" in said
        assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS is 365 days there, 90 days here" in said
        assert f"pid {os.getpid()} on host" in said and "nothing was pruned" in said
        # With the engine's settings the prune runs (and keeps what 365 days keep).
        same = {**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "365"}
        agreed = await asyncio.to_thread(cli, same, "prune", "--json")
        assert agreed.exit_code == 0, agreed.output
        assert json.loads(agreed.stdout)["counts"]["messages"] == 0
        # Keeping longer than the engine is allowed: it prunes less.
        longer = {**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "400"}
        kept = await asyncio.to_thread(cli, longer, "prune", "--dry-run", "--json")
        assert kept.exit_code == 0, kept.output
        assert json.loads(kept.stdout)["warning"] is None
        assert json.loads(kept.stdout)["kept_longer"] == []
        assert "warning" not in kept.stderr
    listed = await asyncio.to_thread(cli, env, "audit", "list", "--action", "data.prune", "--json")
    assert (
        len(json.loads(listed.stdout)) == 1
    )  # the one run that agreed; the refused ones changed nothing
    # Nothing was lost: once the engine is gone, the default period finds all three.
    counted = await asyncio.to_thread(cli, env, "prune", "--dry-run", "--json")
    assert json.loads(counted.stdout)["counts"]["messages"] == 3


async def test_a_dry_run_beside_an_engine_keeping_longer_counts_and_warns(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The dry run deletes nothing, so it is not refused: it counts by its own periods and says,
    in text and in ``--json``, which engine keeps what longer and that the real run is refused."""
    await fill(env, 3, at=LONG_AGO)  # delivered 200 days ago: past the default 90 days
    async with engine_keeping(env, tmp_path, retain_payload_days=365, retain_rejected_days=0):
        counted = await asyncio.to_thread(cli, env, "prune", "--dry-run", "--json")
        assert counted.exit_code == 0, counted.output
        report = json.loads(counted.stdout)
        assert report["dry_run"] is True and report["counts"]["messages"] == 3
        [kept] = report["kept_longer"]
        assert kept["engine"]["pid"] == os.getpid() and kept["engine"]["host"]
        assert kept["engine"]["last_seen"].endswith(("+01:00", "+02:00"))  # the CLI's zone
        assert kept["periods"] == [
            {"variable": "INTEGRATOR_RETAIN_PAYLOAD_DAYS", "engine_days": 365, "prune_days": 90},
            {"variable": "INTEGRATOR_RETAIN_REJECTED_DAYS", "engine_days": 0, "prune_days": 30},
        ]
        warning = report["warning"]
        assert warning.startswith("1 running engine keeps data longer than this prune would")
        assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS is 365 days there, 90 days here" in warning
        assert "INTEGRATOR_RETAIN_REJECTED_DAYS is 0 (for ever) there, 30 days here" in warning
        assert f"pid {os.getpid()} on host" in warning
        assert "the real prune would be refused" in warning
        assert "warning: " + warning[:40] in counted.stderr  # said on stderr as well

        shown = await asyncio.to_thread(cli, env, "prune", "--dry-run")
        assert shown.exit_code == 0, shown.output
        assert "would prune (dry run)" in shown.stdout
        said = shown.stderr.replace("\n", " ")
        assert "warning: 1 running engine keeps data longer than this prune would" in said
        assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS is 365 days there, 90 days here" in said
        assert "the real prune would be refused" in said

        # The real run is still refused, and the dry runs changed nothing.
        refused = await asyncio.to_thread(cli, env, "prune")
        assert refused.exit_code == 2 and "nothing was pruned" in refused.stderr
    listed = await asyncio.to_thread(cli, env, "audit", "list", "--action", "data.prune", "--json")
    assert json.loads(listed.stdout) == []
    again = await asyncio.to_thread(cli, env, "prune", "--dry-run", "--json")
    assert json.loads(again.stdout)["counts"]["messages"] == 3
    # The engine is gone, its periods are not: the last one's stand in (test below).
    assert json.loads(again.stdout)["warning"].startswith("no engine runs, but the last one")


def row(retention: str | None) -> EnginePresence:
    seen = datetime.now(UTC)
    return EnginePresence("e", "h", 1, None, seen, seen, retention=retention)


def test_for_ever_is_the_longest_and_unknown_periods_are_not_judged() -> None:
    command = Retention(payload_days=90, dead_letter_days=30, audit_days=1826)
    for_ever = row(presence_text(Retention(dead_letter_days=0, audit_days=0)))
    assert kept_longer(for_ever, command) == [
        "INTEGRATOR_RETAIN_DEAD_LETTER_DAYS is 0 (for ever) there, 30 days here",
        "INTEGRATOR_RETAIN_AUDIT_DAYS is 0 (for ever) there, 1826 days here",
    ]
    # The command keeping for ever prunes nothing of that kind: never refused for it.
    assert (
        kept_longer(row(presence_text(Retention())), Retention(payload_days=0, audit_days=0)) == []
    )
    assert kept_longer(row(None), command) == []  # an engine from before it was recorded
    assert kept_longer(row("not json"), command) == []


def test_an_engine_that_recorded_no_unrouted_period_kept_them_for_ever() -> None:
    """A version from before unrouted events had a period never pruned them: a prune beside
    it (or after it was the last engine to start) must leave them."""
    older = Retention().to_json()
    del older["unrouted_days"]
    assert kept_longer(row(json.dumps(older)), Retention()) == [
        "INTEGRATOR_RETAIN_UNROUTED_DAYS is 0 (for ever) there, 90 days here"
    ]
    assert kept_longer(row(json.dumps(older)), Retention(unrouted_days=0)) == []


async def test_a_prune_while_no_engine_runs_keeps_to_the_last_engines_periods(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Stopped for an upgrade, the engine's periods were known to no one: ``prune`` from a
    shell without its settings took the defaults and pruned what it kept a year (an upgrade-day
    audit). The last engine that started keeps its periods in the store after it stops."""
    await fill(env, 3, at=LONG_AGO)  # delivered 200 days ago: past the default 90 days
    async with engine_keeping(env, tmp_path, retain_payload_days=365):
        pass  # it started, recorded its periods, and stopped

    refused = await asyncio.to_thread(cli, env, "prune")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "no engine runs, but the last one that started on this store keeps data longer" in said
    assert f"pid {os.getpid()} on host" in said
    assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS is 365 days there, 90 days here" in said
    assert "nothing was pruned" in said
    counted = await asyncio.to_thread(cli, env, "prune", "--dry-run", "--json")
    report = json.loads(counted.stdout)
    assert report["counts"]["messages"] == 3  # counted by its own periods, and said
    assert [kept["running"] for kept in report["kept_longer"]] == [False]
    assert report["warning"].startswith("no engine runs, but the last one that started")
    same = {**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "365"}
    agreed = await asyncio.to_thread(cli, same, "prune", "--json")
    assert agreed.exit_code == 0, agreed.output
    assert json.loads(agreed.stdout)["counts"]["messages"] == 0

    # The periods changed on purpose: the engine started with them records them.
    async with engine_keeping(env, tmp_path):
        pass
    shorter = await asyncio.to_thread(cli, env, "prune", "--json")
    assert shorter.exit_code == 0, shorter.output
    assert json.loads(shorter.stdout)["counts"]["messages"] == 3


async def test_a_store_upgraded_from_before_recorded_periods_keeps_its_unrouted_events(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Upgraded from a version from before engines recorded their periods, and pruned before
    any new engine started: the unrouted events that version kept for ever were emptied
    (docs/deploy.md promised a refusal). Store revision 0038 records that last engine."""
    store = await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=lambda: LONG_AGO)
    try:
        waiting = make_event(received_at=LONG_AGO, provider_id="nobody-serves-it")
        assert await store.accept_event(waiting, [])
    finally:
        await store.close()
    # As such a store stands: no periods recorded, its schema from before 0038.
    path = env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM engine_retention").fetchone() == (0,)
        conn.execute("UPDATE alembic_version SET version_num = '0037'")

    refused = await asyncio.to_thread(cli, env, "prune")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "no engine runs, but the last one that started on this store keeps data longer" in said
    assert (
        "a version from before engines recorded their periods: "
        "INTEGRATOR_RETAIN_UNROUTED_DAYS is 0 (for ever) there, 90 days here"
    ) in said
    assert "nothing was pruned" in said
    kept = {**env, "INTEGRATOR_RETAIN_UNROUTED_DAYS": "0"}
    agreed = await asyncio.to_thread(cli, kept, "prune", "--json")
    assert agreed.exit_code == 0, agreed.output
    assert json.loads(agreed.stdout)["counts"]["unrouted"] == 0

    # An engine of this version started: its own periods stand from then on.
    async with engine_keeping(env, tmp_path):
        pass
    pruned = await asyncio.to_thread(cli, env, "prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["counts"]["unrouted"] == 1


async def test_the_refusal_says_the_last_engines_start_in_the_settings_zone(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Every other time the command line prints is in ``INTEGRATOR_TIMEZONE`` with its offset;
    the refusal said the last engine's start in UTC, hours off beside them."""
    await fill(env, 3, at=LONG_AGO)
    async with engine_keeping(env, tmp_path, retain_payload_days=365):
        pass
    amsterdam = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    refused = await asyncio.to_thread(cli, amsterdam, "prune")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert re.search(r"started \d{4}-\d\d-\d\dT[\d:.]+\+0[12]:00:", said), said
