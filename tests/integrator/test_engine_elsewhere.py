"""An engine on the store that the CLI does not find at its address: the CLI refuses, exit 2.

The bug this guards: with the CLI's INTEGRATOR_HTTP_PORT not the engine's, ``submit`` and
``resend`` wrote into the store "to be sent when the engine runs" while an engine was running
(and would not send it until its restart), bypassing its token check.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.presence import EngineElsewhere, engine_way
from integrator.settings import Settings
from integrator.store import EnginePresence, Store
from integrator.store.presence import pid_namespace
from tests.cli_in_process import run_cli as cli
from tests.integrator.support import destination
from tests.integrator.test_cli import ROOT, SAMPLES
from tests.services import free_port, wait_until_answering

NOORD = "ziekenhuis-noord"
COUNTED = ("events", "rejected_events", "messages", "resends", "audit_log", "jobs")


def _db(env: dict[str, str]) -> Path:
    return Path(env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///"))


def counts(env: dict[str, str]) -> dict[str, int]:
    with sqlite3.connect(_db(env)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}


def presence_rows(env: dict[str, str]) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(_db(env)) as conn:
        rows = conn.execute("SELECT host, pid, http_address FROM engine_presence").fetchall()
    return [(str(h), int(p), a) for h, p, a in rows]


def event_file(tmp_path: Path, provider: str) -> Path:
    """The sample referral as a new event, for ``provider``."""
    data = json.loads((SAMPLES / "referral.json").read_text(encoding="utf-8"))
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = provider
    path = tmp_path / f"{data['event_id']}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@contextmanager
def running_engine(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """``integrator run`` on ``env``, until its presence row is there (and it answers, if HTTP)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", "run", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not presence_rows(env):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the engine did not start")
            time.sleep(0.1)
        if "--no-http" in args:
            # Present is not yet started: the engine records and audits its destination files
            # after it announces itself, and a test comparing the store before and after must
            # not count those writes. Its last start-up line says it is done.
            if not _said_started(process, deadline):
                pytest.fail("the engine did not finish starting")
        else:
            url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}/healthz"
            if not wait_until_answering(url, max(0.0, deadline - time.monotonic())):
                pytest.fail("the engine did not answer /healthz")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _said_started(process: subprocess.Popen[str], deadline: float) -> bool:
    """Whether the engine logged ``engine started`` before ``deadline``; its stderr is read on
    a thread from here on, so the pipe never fills."""
    started = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if "engine started" in line:
                started.set()

    threading.Thread(target=read, daemon=True).start()
    return started.wait(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def store_with_work(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A store with a dead letter and an unrouted event, made while no engine runs."""
    config = destination(NOORD, free_port(), providers=[NOORD])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{NOORD}.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    done = cli("submit", "--json", str(event_file(tmp_path, NOORD)), env=env)
    assert done.returncode == 0, done.stderr
    message_id = json.loads(done.stdout)[0]["messages"][0]["message_id"]
    unrouted = cli("submit", "--json", str(event_file(tmp_path, "huisarts-nergens")), env=env)
    assert unrouted.returncode == 0, unrouted.stderr
    with sqlite3.connect(_db(env)) as conn:
        conn.execute("UPDATE messages SET status = 'dead' WHERE id = ?", (message_id,))
    return {"message_id": message_id, "event_id": json.loads(unrouted.stdout)[0]["event_id"]}


def test_an_engine_on_another_port_refuses_every_store_fallback(
    env: dict[str, str], tmp_path: Path, store_with_work: dict[str, str]
) -> None:
    message_id, event_id = store_with_work["message_id"], store_with_work["event_id"]
    engine_port = env["INTEGRATOR_HTTP_PORT"]
    elsewhere = {**env, "INTEGRATOR_HTTP_PORT": str(free_port()), "USER": "anna"}
    commands = [
        ("submit", str(event_file(tmp_path, NOORD))),
        ("resend", message_id, "--reason", "GP called"),
        ("resend", message_id, "--reason", "GP called", "--dry-run"),
        ("deadletter", "resend", "--all", "--reason", "GP called"),
        ("deadletter", "resend", "--all", "--reason", "GP called", "--dry-run"),
        ("events", "route", event_id, "--reason", "connected"),
        ("events", "route", event_id, "--reason", "connected", "--dry-run"),
    ]
    with running_engine(env) as engine:
        [(host, pid, address)] = presence_rows(env)
        assert (pid, address) == (engine.pid, f"127.0.0.1:{engine_port}")
        before = counts(env)
        for command in commands:
            result = cli(*command, env=elsewhere)
            assert result.returncode == 2, (command, result.stdout, result.stderr)
            assert result.stdout == ""
            [line] = result.stderr.strip().splitlines()
            assert (
                f"an engine is running on this store (HTTP at 127.0.0.1:{engine_port}, "
                f"pid {pid} on host {host}, last seen"
            ) in line
            assert f"none answers at http://127.0.0.1:{elsewhere['INTEGRATOR_HTTP_PORT']}" in line
            assert line.endswith(
                "set INTEGRATOR_HTTP_HOST/INTEGRATOR_HTTP_PORT to its address; nothing was done"
            )
        assert counts(env) == before  # nothing written, not even an audit entry
    assert engine.returncode == 0, engine.stderr.read() if engine.stderr else ""
    assert presence_rows(env) == []  # a clean stop removes the row
    # With the engine gone, the store way works as before.
    after = cli("submit", str(event_file(tmp_path, NOORD)), env=elsewhere)
    assert after.returncode == 0, after.stderr
    assert "Written to the store (sent when the engine runs)" in after.stdout


def test_an_engine_without_http_refuses_too_and_says_so(
    env: dict[str, str], tmp_path: Path, store_with_work: dict[str, str]
) -> None:
    with running_engine(env, "--no-http"):
        [(_, _, address)] = presence_rows(env)
        assert address is None
        before = counts(env)
        for command in (
            ("submit", str(event_file(tmp_path, NOORD))),
            ("resend", store_with_work["message_id"], "--reason", "x", "--dry-run"),
        ):
            result = cli(*command, env=env)
            assert result.returncode == 2, result.stderr
            assert "an engine is running on this store without its HTTP API" in result.stderr
            assert "this command needs that API" in result.stderr
        assert counts(env) == before
    assert presence_rows(env) == []


def test_a_stale_row_of_a_crashed_engine_does_not_block(
    env: dict[str, str], tmp_path: Path, store_with_work: dict[str, str]
) -> None:
    seen = datetime.now(UTC) - timedelta(minutes=5)
    crashed = EnginePresence("crashed", "h", 1, "127.0.0.1:1", seen, seen)

    async def leave_a_row() -> None:
        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            await store.register_engine(crashed)
        finally:
            await store.close()

    asyncio.run(leave_a_row())
    submitted = cli("submit", str(event_file(tmp_path, NOORD)), env=env)
    assert submitted.returncode == 0, submitted.stderr
    assert "Written to the store (sent when the engine runs)" in submitted.stdout
    resent = cli("resend", store_with_work["message_id"], "--reason", "x", "--json", env=env)
    assert resent.returncode == 0, resent.stderr
    assert json.loads(resent.stdout)["via"] == "store"
    assert len(presence_rows(env)) == 1  # left alone: only its own engine removes a row


def test_a_fresh_row_of_an_engine_that_crashed_on_this_host_does_not_block(
    env: dict[str, str], tmp_path: Path, store_with_work: dict[str, str]
) -> None:
    """Its heartbeat is seconds old, but its process is gone: ``submit`` takes the store way at
    once instead of refusing for up to 30 s, and removes the row. (The engine's process is
    one that ended and was reaped, so no process has its pid.)"""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    now = datetime.now(UTC)
    crashed = EnginePresence(
        "crashed", socket.gethostname(), ended.pid, "127.0.0.1:1", now, now, pid_namespace()
    )

    async def leave_a_row() -> None:
        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            await store.register_engine(crashed)
        finally:
            await store.close()

    asyncio.run(leave_a_row())
    submitted = cli("submit", str(event_file(tmp_path, NOORD)), env=env)
    assert submitted.returncode == 0, submitted.stderr
    assert "Written to the store (sent when the engine runs)" in submitted.stdout
    assert presence_rows(env) == []


class SlowHealth(http.server.BaseHTTPRequestHandler):
    """An engine's ``/healthz`` that answers after 1.5 s: one busy with a burst, on a loaded
    machine."""

    def do_GET(self) -> None:
        time.sleep(1.5)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return


async def test_a_busy_engine_slow_to_answer_is_looked_at_again_not_called_elsewhere(
    tmp_path: Path,
) -> None:
    """The first look at the engine's API waits a second; a command beside a busy engine (a
    loaded test machine, a burst) was refused with "none answers at" its own right address.
    The store says an engine runs there, so it is looked at again, longer."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHealth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        destinations_dir=tmp_path,
        http_port=port,
    )
    now = datetime.now(UTC)
    busy = EnginePresence(
        "busy", socket.gethostname(), os.getpid(), f"127.0.0.1:{port}", now, now, pid_namespace()
    )
    store = await Store.open(settings.database_url)
    try:
        await store.register_engine(busy)
        assert await engine_way(settings, store) is True
        elsewhere = settings.model_copy(update={"http_port": free_port()})
        with pytest.raises(EngineElsewhere, match="none answers at"):
            await engine_way(elsewhere, store)
    finally:
        await store.close()
        server.shutdown()
        server.server_close()
