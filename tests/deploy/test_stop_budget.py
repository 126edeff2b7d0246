"""``integrator run`` ends within its stated stop budget (``engine.stop_budget_s``), whatever it
was waiting for when the signal came, and says what it gave up on.

Each test runs the engine (or a command's event loop) as a real process and holds it up with a
real peer: a client that sends half a request, a "store" (a loopback listener) that takes the
connection and never speaks, a call on the loop's threads that never returns. Before, the first
held the stop 5 s without a word (beyond the budget the docs quoted), the second held it until
the store's connection gave up, the third for ever.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import HTTP_ON_STOP_S, START_ON_STOP_S, stop_budget_s
from integrator.eventloop import LEFTOVERS_S
from integrator.store import Store
from tests.http.support import bearer, token_in_store
from tests.integrator.support import destination
from tests.integrator.test_cli import ROOT
from tests.services import POSTGRES_HOST, POSTGRES_PORT, free_port

pytestmark = pytest.mark.slow  # engine processes, each held up on purpose

SLACK_S = 15.0
"""Time beyond the budget for a loaded machine: the process's imports, its log lines."""

SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def events(path: Path) -> list[str]:
    return [line["event"] for line in log_lines(path)]


def poll(condition: Any, within: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {within} s; the log: {events(log)}")
        time.sleep(0.05)


@contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` as a process, its stdout and stderr in ``log``; killed afterwards."""
    with log.open("wb") as log_file:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log_file, stderr=log_file)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def ended_within(
    proc: subprocess.Popen[bytes], sig: signal.Signals, within: float, log: Path
) -> int:
    """Send ``sig``; the exit code, which must come ``within`` seconds."""
    proc.send_signal(sig)
    try:
        return proc.wait(within)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"still running {within} s after {sig.name}; its log: {events(log)}"
        ) from None


ENGINE = [sys.executable, "-m", "integrator", "run"]


@SIGNALS
def test_a_request_held_open_does_not_hold_the_stop_and_is_said(
    env: dict[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    """A client that sent its headers and half its body keeps uvicorn waiting for ever; the
    stop waits ``HTTP_ON_STOP_S`` for it, says how many were open, and ends in its budget."""
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.INTAKE)))
    log = tmp_path / "engine.log"
    with process(ENGINE, env, log) as proc:
        poll(lambda: "http api listening" in events(log), 60, "the engine did not listen", log)
        port = int(env["INTEGRATOR_HTTP_PORT"])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: Bearer {token}\r\n".encode()
                + b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                + b'{"event_id": '
            )
            time.sleep(0.5)  # the request reaches the app, which waits for the rest of the body
            code = ended_within(proc, sig, stop_budget_s(0) + SLACK_S, log)
            try:
                answer = client.recv(4096)
            except ConnectionError:
                answer = b""
        assert answer == b"", answer  # cut off without an answer (no 500 to take for ours)
        assert code == 0, events(log)
    lines = log_lines(log)
    [gave_up] = [
        line for line in lines if line["event"] == "stopping: gave up waiting for the http api"
    ]
    assert gave_up["connections"] == 1 and gave_up["requests"] == 1, gave_up
    assert gave_up["after_s"] == HTTP_ON_STOP_S
    assert "engine stopped" in events(log)
    # Said once, as that line: no traceback of the request cancelled, no address, no token.
    text = log.read_text()
    assert "Traceback" not in text and token not in text
    assert not [line for line in text.splitlines() if line and not line.startswith("{")], text


class SilentPeer:
    """A loopback listener that takes connections and never says a word: a store or a broker
    that does not answer. ``connected`` is set at the first connection."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._held.append(conn)
            self.connected.set()

    def close(self) -> None:
        self.listener.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    peer = SilentPeer()
    try:
        yield peer
    finally:
        peer.close()


@SIGNALS
@pytest.mark.parametrize("silent", ["store", "broker"])
def test_a_stop_while_the_store_or_the_broker_does_not_answer_at_start_ends_saying_so(
    env: dict[str, str], tmp_path: Path, silent_peer: SilentPeer, silent: str, sig: signal.Signals
) -> None:
    """The engine connects to a PostgreSQL (or a RabbitMQ, after its SQLite store) that never
    answers; the stop ends the start within ``START_ON_STOP_S`` and the rest of a stop with
    nothing sent, exit 0, naming what it waited for."""
    if silent == "store":
        env["INTEGRATOR_DATABASE_URL"] = f"postgresql://test@127.0.0.1:{silent_peer.port}/test"
    else:
        env["INTEGRATOR_AMQP_URL"] = f"amqp://guest:guest@127.0.0.1:{silent_peer.port}/"
    env["INTEGRATOR_SEARCH_KEY"] = "a-test-search-key-of-enough-length"
    log = tmp_path / "engine.log"
    with process(ENGINE, env, log) as proc:
        assert silent_peer.connected.wait(60), f"the engine never connected: {events(log)}"
        time.sleep(0.5)  # into the connection's start-up, which the peer never answers
        code = ended_within(proc, sig, START_ON_STOP_S + stop_budget_s(0) + SLACK_S, log)
    [said] = [line for line in log_lines(log) if line["event"] == "stopped while starting"]
    assert (
        said["waiting_for"]
        == {"store": "the store (opening it, migrating it)", "broker": "RabbitMQ"}[silent]
    ), said
    assert code == 0, events(log)
    assert events(log).count("engine stopped") == 1, events(log)
    assert "engine started" not in events(log)


GIVES_UP_A_THREAD = """
import asyncio, threading
from integrator.eventloop import run
from integrator.logging import configure_logging

def never_returns() -> None:
    threading.Event().wait()

async def main() -> None:
    asyncio.get_running_loop().run_in_executor(None, never_returns)
    await asyncio.sleep(0.2)  # the call has begun on its thread
    print("began", flush=True)

configure_logging(fmt="json")
run(main())
"""


def test_a_call_on_the_loops_threads_that_never_returns_does_not_hold_the_end(
    tmp_path: Path,
) -> None:
    """asyncio's end, and the interpreter's exit, waited for the default executor's threads
    without bound; the end now waits ``LEFTOVERS_S`` and names the call it leaves."""
    log = tmp_path / "command.log"
    with process([sys.executable, "-c", GIVES_UP_A_THREAD], dict(os.environ), log) as proc:
        try:
            code = proc.wait(LEFTOVERS_S + 30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the command did not end: {log.read_text()}") from None
    assert code == 0, log.read_text()
    [gave_up] = [
        line
        for line in log_lines(log)
        if line["event"] == "stopping: gave up waiting for calls on the loop's threads"
    ]
    assert gave_up["calls"] == ["__main__.never_returns"], gave_up


async def _made(url: str) -> None:
    """The store's tables, made as an engine's first start makes them."""
    await (await Store.open(url)).close()


async def _reload_waits(conn: asyncpg.Connection, database: str) -> bool:
    """Whether a session of the engine reads the destinations' revisions, waiting for a lock
    (asked in the lock's transaction: the activity read afresh)."""
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        " AND query LIKE '%destination_revisions%'",
        database,
    )
    return bool(waiting)


@pytest.mark.postgres
def test_a_reload_that_waits_for_the_store_does_not_hold_the_stop(
    env: dict[str, str], tmp_path: Path, pg_database: str
) -> None:
    """SIGHUP reads the destinations again, and their revisions in the store wait on a lock
    (a PostgreSQL that does not answer, for this read); SIGTERM then gives the reload the HTTP
    API's wait, cancels it saying so, and ends in the budget. Before, the stop awaited it for
    as long as the lock lasted."""
    dsn = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{pg_database}"
    env["INTEGRATOR_DATABASE_URL"] = dsn.replace("postgresql:", "postgresql+asyncpg:", 1)
    env["INTEGRATOR_SEARCH_KEY"] = "a-test-search-key-of-enough-length"
    config = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(dump_destination(config))
    log = tmp_path / "engine.log"
    with asyncio.Runner() as runner:
        runner.run(_made(env["INTEGRATOR_DATABASE_URL"]))
        locker = runner.run(asyncpg.connect(dsn))
        try:
            with process(ENGINE, env, log) as proc:
                poll(lambda: "http api listening" in events(log), 60, "no start", log)
                runner.run(
                    locker.execute(
                        "BEGIN; LOCK TABLE destination_revisions IN ACCESS EXCLUSIVE MODE"
                    )
                )
                proc.send_signal(signal.SIGHUP)
                poll(
                    lambda: runner.run(_reload_waits(locker, pg_database)),
                    30,
                    "the reload did not wait for the lock",
                    log,
                )
                code = ended_within(proc, signal.SIGTERM, stop_budget_s(0) + SLACK_S, log)
        finally:
            runner.run(locker.close())
    assert code == 0, events(log)
    [gave_up] = [
        line
        for line in log_lines(log)
        if line["event"] == "stopping: gave up waiting for the reload of the destinations"
    ]
    assert gave_up["after_s"] == HTTP_ON_STOP_S
    assert "engine stopped" in events(log)


def test_a_mail_to_a_server_that_never_answers_does_not_hold_the_stop(
    env: dict[str, str], tmp_path: Path, silent_peer: SilentPeer
) -> None:
    """An invitation's mail goes out on the loop's threads (``SmtpMailer``), to an SMTP server
    that takes the connection and never greets: the stop cuts the request off, and the end
    gives up on the thread, naming its call, instead of waiting out SMTP's 30 s timeout."""
    env.update(
        INTEGRATOR_SMTP_HOST="127.0.0.1",
        INTEGRATOR_SMTP_PORT=str(silent_peer.port),
        INTEGRATOR_SMTP_FROM="integrator@example.nl",
    )
    # A destination in cluster CARD, the cluster the invitation grants a role in.
    config = destination("noord", free_port(), providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(dump_destination(config))
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.ADMIN)))
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    log = tmp_path / "engine.log"
    with process(ENGINE, env, log) as proc:
        poll(lambda: "http api listening" in events(log), 60, "the engine did not listen", log)
        with ThreadPoolExecutor(1) as pool:
            invited = pool.submit(
                httpx.post,
                f"{base}/api/v1/people",
                json={"email": "a@example.nl", "grants": [{"role": "viewer", "cluster": "CARD"}]},
                headers=bearer(token),
                timeout=60,
            )
            assert silent_peer.connected.wait(30), f"no mail was begun: {events(log)}"
            code = ended_within(proc, signal.SIGTERM, stop_budget_s(0) + SLACK_S, log)
            with pytest.raises(httpx.HTTPError):  # cut off: no answer
                invited.result()
    assert code == 0, events(log)
    [gave_up] = [
        line
        for line in log_lines(log)
        if line["event"] == "stopping: gave up waiting for calls on the loop's threads"
    ]
    assert gave_up["calls"] == ["integrator.access.mail.SmtpMailer._send_now"], gave_up
    assert "a@example.nl" not in log.read_text()
