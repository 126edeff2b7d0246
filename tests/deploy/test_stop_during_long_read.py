"""``integrator run`` stopped (SIGTERM, SIGINT) while a store read takes long.

Found benchmarking on a store of a million messages: the count of unrouted events (the metric's
gauge, then a scan of every event) took seconds; a SIGTERM during it logged "gave up waiting for
the store" and "engine stopped", and then the process sat idle for ever (under systemd, until
``TimeoutStopSec`` and a SIGKILL). The step given up on left a task behind, SQLAlchemy closing
the aiosqlite connection, that waited for aiosqlite's worker thread, and the loop's end
(``asyncio.run``) waited for that task without bound. Now the end waits ``LEFTOVERS_S`` and names
what it gives up on (``integrator.eventloop``).

The read is made long by ``tests.deploy.slow_reads`` (SQLite: the pool's worker thread is kept
busy) or, on PostgreSQL, by a lock the test holds on the events table (the server makes the
query wait). The engine must exit 0 within the stop's bound, and keep the event it accepted.
"""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import stop_budget_s
from integrator.store import Store
from integrator.store.searchcheck import search_key_check
from tests.deploy import slow_reads
from tests.http.support import bearer, how_it_ended, token_in_store
from tests.integrator.test_cli import ROOT
from tests.services import POSTGRES_HOST, POSTGRES_PORT, wait_until_answering

pytestmark = pytest.mark.slow  # engine processes, each stopped after a store step gave up

UNROUTED_COUNT = "GROUP BY events.provider_id"
"""A piece of the unrouted-events count's SQL: the read the gauge starts with at the start."""

EXIT_WITHIN_S = stop_budget_s(0) + 10
"""The stop's bound for a store that does not answer, and time for the process to end."""

SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def poll(condition: Callable[[], bool], within: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            events = [line["event"] for line in log_lines(log)]
            raise AssertionError(f"{what} within {within} s; the engine's log: {events}")
        time.sleep(0.05)


@contextmanager
def engine(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The engine as a process, its log in ``log``; killed afterwards if it still runs."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def accept_one(env: dict[str, str], token: str, event: dict[str, Any]) -> str:
    """Submit ``event`` to the running engine under a new id; the id (202: committed)."""
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    assert wait_until_answering(f"{base}/healthz", 30), "the engine did not start"
    data = copy.deepcopy(event)
    data["event_id"] = str(uuid.uuid4())
    with httpx.Client(base_url=base, timeout=10, headers=bearer(token)) as http:
        answer = http.post("/api/v1/events", json=data)
    assert answer.status_code == 202, answer.text
    return str(data["event_id"])


def stopped(
    process: subprocess.Popen[bytes],
    sig: signal.Signals,
    log: Path,
    within: float = EXIT_WITHIN_S,
) -> float:
    """Send ``sig``; how long the process took to end (it must, ``within`` seconds)."""
    process.send_signal(sig)
    began = time.monotonic()
    try:
        process.wait(within)
    except subprocess.TimeoutExpired:
        events = [line["event"] for line in log_lines(log)]
        raise AssertionError(
            f"still running {within} s after {sig.name}; its log: {events}"
        ) from None
    return time.monotonic() - began


@SIGNALS
def test_a_stop_during_a_long_sqlite_read_ends_saying_what_it_gave_up_on(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any], sig: signal.Signals
) -> None:
    mark = tmp_path / "slow-read-began"
    env.update(
        {
            slow_reads.SQL: UNROUTED_COUNT,
            slow_reads.MARK: str(mark),
            slow_reads.SECONDS: "600",  # far beyond the test: only a bounded stop ends
        }
    )
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.INTAKE)))
    log = tmp_path / "engine.log"
    command = [sys.executable, "-m", "tests.deploy.slow_reads", "run"]
    with engine(command, env, log) as process:
        event_id = accept_one(env, token, referral_data)
        poll(mark.exists, 30, "the unrouted-events count did not begin", log)
        took = stopped(process, sig, log)
        code = process.returncode

    lines = log_lines(log)
    assert code == 0, f"{how_it_ended(code)}; {[line['event'] for line in lines]}"
    assert took < EXIT_WITHIN_S
    [step] = [line for line in lines if line["event"] == "stopping: gave up waiting for the store"]
    assert step["step"] == "unrouted events count"
    assert "engine stopped" in [line["event"] for line in lines]
    [left] = [
        line for line in lines if line["event"] == "stopping: gave up waiting for unfinished tasks"
    ]
    assert left["tasks"] and all("(" in task for task in left["tasks"]), left
    assert "Task was destroyed" not in log.read_text()
    patient = referral_data["patient"]
    assert patient["bsn"] not in log.read_text() and patient["name"]["family"] not in (
        log.read_text()
    )  # ids only, never patient data

    # What was accepted was committed, and the store is whole.
    conn = sqlite3.connect(tmp_path / "store.db")
    try:
        found = conn.execute("SELECT count(*) FROM events WHERE id = ?", (event_id,)).fetchone()
        assert found == (1,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


@pytest.mark.postgres
@SIGNALS
def test_a_stop_during_a_long_postgresql_read_ends_at_once(
    env: dict[str, str], tmp_path: Path, pg_database: str, sig: signal.Signals
) -> None:
    """asyncpg cancels a query in the server when its task is cancelled: the count given up on
    ends there, and the connection closes, without waiting for the query."""
    dsn = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{pg_database}"
    env["INTEGRATOR_DATABASE_URL"] = dsn.replace("postgresql:", "postgresql+asyncpg:", 1)
    env["INTEGRATOR_SEARCH_KEY"] = SEARCH_KEY
    log = tmp_path / "engine.log"
    with asyncio.Runner() as runner:
        runner.run(_made(env["INTEGRATOR_DATABASE_URL"], SEARCH_KEY))
        locker = runner.run(asyncpg.connect(dsn))
        try:
            # Held until the end: the count waits on it in the server, for as long as it lasts.
            runner.run(locker.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
            with engine([sys.executable, "-m", "integrator", "run"], env, log) as process:
                poll(
                    lambda: runner.run(_waiting_count(locker, pg_database)),
                    30,
                    "the unrouted-events count did not wait for the lock",
                    log,
                )
                took = stopped(process, sig, log)
                code = process.returncode
        finally:
            runner.run(locker.close())

    events = [line["event"] for line in log_lines(log)]
    assert code == 0, f"{how_it_ended(code)}; {events}"
    assert took < EXIT_WITHIN_S
    assert "engine stopped" in events
    assert not [event for event in events if event.startswith("stopping: gave up")], events


SEARCH_KEY = "a-test-search-key-of-enough-length"


async def _made(url: str, search_key: str) -> None:
    """The store's tables, made as an engine's first start makes them, its search key's check
    registered (without it, the engine's open would try the key on the events table first,
    which the test locks: ``integrator.store.searchcheck``)."""
    await (await Store.open(url, search_check=search_key_check(search_key))).close()


async def _waiting_count(conn: asyncpg.Connection, database: str) -> bool:
    """Whether a session of the engine is in the unrouted-events count, waiting for a lock.

    Asked in the lock's transaction: the activity is read afresh (not the transaction's
    first snapshot of it)."""
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        " AND query LIKE $2",
        database,
        f"%{UNROUTED_COUNT}%",
    )
    return bool(waiting)


def test_a_stop_during_a_long_api_read_ends_saying_what_it_gave_up_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A request of the API still reading when the stop begins: the server waits
    ``HTTP_ON_STOP_S`` for it and cuts it off, saying so (``runner.py``); the read it left on
    aiosqlite's thread holds its connection's close, which the loop's end gives up on after
    ``LEFTOVERS_S``; then the process ends."""
    mark = tmp_path / "slow-read-began"
    env.update(
        {
            slow_reads.SQL: "ORDER BY rejected_events.received_at DESC",  # GET /api/v1/rejected
            slow_reads.MARK: str(mark),
            slow_reads.SECONDS: "600",
        }
    )
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"]))
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    log = tmp_path / "engine.log"
    command = [sys.executable, "-m", "tests.deploy.slow_reads", "run"]
    with engine(command, env, log) as process:
        assert wait_until_answering(f"{base}/healthz", 30), "the engine did not start"
        with ThreadPoolExecutor(1) as pool:
            asked = pool.submit(
                httpx.get, f"{base}/api/v1/rejected", headers=bearer(token), timeout=60
            )
            poll(mark.exists, 30, "the API's read did not begin", log)
            stopped(process, signal.SIGTERM, log, within=EXIT_WITHIN_S + 5)
            with pytest.raises(httpx.HTTPError):  # cut off: no answer, rather than a hang
                asked.result()
        code = process.returncode

    lines = log_lines(log)
    assert code == 0, f"{how_it_ended(code)}; {[line['event'] for line in lines]}"
    [http] = [
        line for line in lines if line["event"] == "stopping: gave up waiting for the http api"
    ]
    assert http["requests"] == 1, http
    [left] = [
        line for line in lines if line["event"] == "stopping: gave up waiting for unfinished tasks"
    ]
    # The request's read, cancelled, or the close of the connection it was reading on.
    assert any("run_asgi" in task or "close" in task for task in left["tasks"]), left
