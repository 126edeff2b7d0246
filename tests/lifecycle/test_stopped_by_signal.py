"""``integrator prune`` and ``integrator keys rotate`` stopped by a signal, as a real process.

Each runs with ``--batch 1`` on a SQLite store with enough rows to take a while; the test
watches the store until the first batches are in, then sends the signal. The command must
finish its batch, audit what it did (``data.prune`` with ``"stopped": true``, or
``datakey.rotate`` ``phase: stopped``), say on stderr how far it got and how to finish, and
exit 128 + the signal's number; a second run does the rest and counts only that.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from integrator.cli import app
from integrator.store import Store
from integrator.store.sealing import DataKey, Sealer
from tests.store.factories import make_event, make_message
from tests.terminal import as_at_a_terminal

ROOT = Path(__file__).resolve().parents[2]
SEARCH_KEY = "signal-tests-search-key-long-enough"
ROWS = 300
LONG_AGO = datetime.now(UTC) - timedelta(days=400)


def env_for(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "USER": "operator",
        **more,
    }


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def fill(tmp_path: Path) -> None:
    """``ROWS`` delivered messages (one event each), written long ago: all past retention."""

    async def go() -> None:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        async with await Store.open(url, clock=lambda: LONG_AGO) as store:
            for _ in range(ROWS):
                message = make_message()
                assert await store.accept_event(make_event(received_at=LONG_AGO), [message])
                await store.set_status(message.id, "delivered")

    asyncio.run(go())


def count(tmp_path: Path, sql: str, *params: Any) -> int:
    """One number read from the store beside the running command (WAL: readers do not wait)."""
    with sqlite3.connect(tmp_path / "store.db", timeout=30) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def details_of(tmp_path: Path, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "store.db", timeout=30) as conn:
        rows = conn.execute(
            "SELECT details FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def stopped_midway(
    env: dict[str, str], args: list[str], sig: signal.Signals, progress: Callable[[], int]
) -> subprocess.CompletedProcess[str]:
    """Run ``integrator ARGS`` as a process; once ``progress`` shows a few batches done, send
    ``sig``; the finished process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    try:
        deadline = time.monotonic() + 60
        while progress() < 3:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no batch was done in a minute"
            time.sleep(0.01)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])


@SIGNALS
def test_a_prune_stopped_by_a_signal_audits_what_it_pruned(
    tmp_path: Path, sig: signal.Signals
) -> None:
    fill(tmp_path)
    env = env_for(tmp_path)

    def pruned() -> int:
        return count(tmp_path, "SELECT count(*) FROM messages WHERE pruned_at IS NOT NULL")

    done = stopped_midway(env, ["prune", "--batch", "1", "--quiet"], sig, pruned)

    assert done.returncode == 128 + sig, done.stderr
    so_far = pruned()
    assert 3 <= so_far < ROWS  # stopped part-way, not at the end
    events = count(tmp_path, "SELECT count(*) FROM events WHERE pruned_at IS NOT NULL")
    [entry] = details_of(tmp_path, "data.prune")
    assert entry["stopped"] is True
    assert entry["counts"]["messages"] == so_far and entry["counts"]["events"] == events
    assert (
        f"stopped after {so_far + events} pruned (messages {so_far}" in done.stderr
        and "run `integrator prune` again to finish" in done.stderr
    ), done.stderr

    again = cli(env, "prune", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counts"]["messages"] == ROWS - so_far
    first, second = details_of(tmp_path, "data.prune")
    assert "stopped" not in second and second["counts"]["messages"] == ROWS - so_far
    assert first["counts"]["messages"] + second["counts"]["messages"] == pruned() == ROWS
    assert cli(env, "audit", "verify").exit_code == 0


def test_a_prune_killed_outright_leaves_its_start_in_the_trail(tmp_path: Path) -> None:
    """SIGKILL runs no code of the command: its committed batches are gone, and only the entry
    written before the first of them says who began pruning and by which periods."""
    fill(tmp_path)
    env = env_for(tmp_path)

    def pruned() -> int:
        return count(tmp_path, "SELECT count(*) FROM messages WHERE pruned_at IS NOT NULL")

    done = stopped_midway(env, ["prune", "--batch", "1", "--quiet"], signal.SIGKILL, pruned)

    assert done.returncode == -signal.SIGKILL
    assert 3 <= pruned() < ROWS
    [start] = details_of(tmp_path, "data.prune_start")
    assert start["candidates"] >= ROWS and start["retention"]["payload_days"] > 0
    assert details_of(tmp_path, "data.prune") == []

    again = cli(env, "prune", "--json")
    assert again.exit_code == 0, again.output
    assert len(details_of(tmp_path, "data.prune_start")) == 2
    [end] = details_of(tmp_path, "data.prune")
    assert "stopped" not in end and pruned() == ROWS
    assert cli(env, "audit", "verify").exit_code == 0


def sealed_with(tmp_path: Path, prefix: str) -> int:
    return count(
        tmp_path,
        "SELECT count(*) FROM events WHERE substr(payload, 1, ?) = ?",
        len(prefix),
        prefix,
    )


@SIGNALS
def test_a_rotation_stopped_by_a_signal_says_and_audits_how_far_it_got(
    tmp_path: Path, sig: signal.Signals
) -> None:
    fill(tmp_path)  # written before there was a key: every value is to be sealed
    key = os.urandom(32)
    env = env_for(tmp_path, INTEGRATOR_DATA_KEYS=f"k1:{base64.b64encode(key).decode()}")
    prefix = Sealer([DataKey("k1", key)]).kid_text_prefix("k1")
    planned = json.loads(cli(env, "keys", "rotate", "--dry-run", "--json").stdout)["total"]

    done = stopped_midway(
        env,
        ["keys", "rotate", "--batch", "1", "--quiet"],
        sig,
        lambda: sealed_with(tmp_path, prefix),
    )

    assert done.returncode == 128 + sig, done.stderr
    so_far = sealed_with(tmp_path, prefix)  # the events come first: all sealed so far are theirs
    assert 3 <= so_far < ROWS
    assert (
        f"stopped after {so_far} of {planned} values; run `integrator keys rotate` again to finish"
    ) in done.stderr, done.stderr
    start, stopped = details_of(tmp_path, "datakey.rotate")
    assert start["phase"] == "start"
    assert stopped == {
        "phase": "stopped",
        "to": "k1",
        "resealed": so_far,
        "skipped": 0,
        "planned": planned,
    }

    again = cli(env, "keys", "rotate", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["resealed"] == planned - so_far
    assert details_of(tmp_path, "datakey.rotate")[-1]["phase"] == "done"
