"""Calling the API as someone: API tokens made in the engine's store, clients that send them.

Every API test authenticates like a real caller: a token is made with the access service (as
the server's CLI would, ``integrator tokens create``) and sent as ``Authorization: Bearer``.
``api_client`` gives a client with a token holding every role for all clusters, for tests about
something else than access; ``tests/http/test_access.py`` makes narrower ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import requests

from integrator.access import AccessService, Grant, Role, local_identity
from integrator.clock import SystemClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.app import EngineApp
from integrator.store import Store

ROOT = Path(__file__).resolve().parents[2]

MAKER = local_identity("local:tests")
"""Who makes the tests' tokens: the server's CLI, which may make any."""

EVERY_ROLE = tuple(Grant(role) for role in Role)
"""Every role, for all clusters."""


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def message_once_delivered(
    base: str, message_id: str, token: str, within: float = 15.0
) -> dict[str, Any]:
    """The message as a running engine's API shows it, once it is delivered or when ``within``
    seconds have passed (the last answer: the test's assertion says what it was).

    Asked every 0.1 s by one client: ``httpx.get`` makes a client per call, and each loads
    the system's CA bundle (~25 ms of CPU) on the CPUs the engine delivers with."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=base, timeout=2, headers=bearer(token)) as client:
        while True:
            detail: dict[str, Any] = client.get(f"/api/v1/messages/{message_id}").json()
            if detail["status"] == "delivered" or time.monotonic() > deadline:
                return detail
            time.sleep(0.1)


async def make_token(access: AccessService, *grants: Grant, name: str | None = None) -> str:
    """A new token with ``grants`` (default: every role for all clusters); the token itself."""
    made = await access.create_token(
        MAKER, name or f"test-{uuid.uuid4().hex[:12]}", list(grants or EVERY_ROLE)
    )
    return made.token


async def token_for(engine: Engine, *grants: Grant, name: str | None = None) -> str:
    """A token in the (started) engine's store; every role for all clusters without grants."""
    return await make_token(engine.access, *grants, name=name)


async def token_in_store(database_url: str, *grants: Grant, name: str | None = None) -> str:
    """A token in the store at ``database_url``, for an engine process started afterwards."""
    store = await Store.open(database_url)
    try:
        return await make_token(AccessService(store, SystemClock()), *grants, name=name)
    finally:
        await store.close()


@asynccontextmanager
async def api_client(
    engine: Engine, token: str | None = None, *, app: EngineApp | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``engine``'s API (through ``app`` if given) that sends ``token``, by default
    a new token with every role for all clusters."""
    token = token or await token_for(engine)
    transport = httpx.ASGITransport(app=app or create_app(engine))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers=bearer(token)
    ) as client:
        yield client


ENGINE_COMMAND = (sys.executable, "-m", "integrator", "run")
"""What ``engine_process`` starts."""

WATCHDOG_SECONDS = 60.0
"""How long a test may wait for an engine process that never says what it waits for (a log
line, its exit) before the process is killed so the test's read ends."""

LOG_TAIL_LINES = 40
"""How many of the engine's last log lines a failure shows (the log holds no patient data)."""


@contextmanager
def engine_process(
    env: dict[str, str], *, watchdog: float | None = WATCHDOG_SECONDS
) -> Iterator[subprocess.Popen[str]]:
    """``integrator run`` as its own process, its JSON log lines on ``stderr``.

    A watchdog kills it ``watchdog`` seconds after the start, for a test that blocks reading
    its log and would wait forever on an engine that hangs. A test whose every wait is bounded
    passes ``None``: counted from the start, a fixed watchdog also kills an engine that is only
    slow on a loaded machine, under a test still working. Whatever the test did, the process
    is gone afterwards (killed, which also ends a read of its log in another thread).
    """
    process = subprocess.Popen(
        ENGINE_COMMAND,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(watchdog, process.kill) if watchdog is not None else None
    if timer is not None:
        timer.start()  # only if the engine hangs
    try:
        yield process
    finally:
        if timer is not None:
            timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()


def how_it_ended(returncode: int | None) -> str:
    """How a process ended, as a person reads it: ``exit 1``, ``killed by SIGKILL``."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


@dataclass
class RunningEngine:
    """An engine process the test talks to over HTTP, and the last lines of its log.

    Its log is read on by a thread (so a full pipe never blocks the engine) into ``log_tail``:
    when the engine stops answering, the failure says how the process ended and what it last
    logged, instead of a bare ``ConnectionRefusedError``.
    """

    process: subprocess.Popen[str]
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))

    def read_log(self, stream: IO[str]) -> None:
        """Keep the last lines of ``stream`` until it ends (the process exited)."""
        for line in stream:
            self.log_tail.append(line.rstrip("\n"))

    def why_gone(self) -> str:
        """How the process ended (waiting a little for it) and its last log lines."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        lines = "\n".join(self.log_tail) or "(nothing)"
        return (
            f"the engine process: {how_it_ended(self.process.poll())}; "
            f"its last {len(self.log_tail)} log lines:\n{lines}"
        )

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around calls of its API: a connection the engine does not take fails with why."""
        try:
            yield
        except (requests.ConnectionError, httpx.ConnectError) as exc:
            raise AssertionError(
                f"the engine did not take a connection ({type(exc).__name__}); {self.why_gone()}"
            ) from exc


@contextmanager
def listening_engine(env: dict[str, str]) -> Iterator[RunningEngine]:
    """``engine_process`` once its API listens, its log read on into the engine's tail.

    The watchdog guards only the wait for "http api listening", the one read that has no
    timeout of its own: a test that talks to the engine afterwards bounds each call itself,
    and on a loaded machine its calls together can take longer than any fixed watchdog
    (which then killed the engine under a working test; the next call was refused).
    """
    with engine_process(env, watchdog=None) as process:
        assert process.stderr is not None
        engine = RunningEngine(process)
        timer = threading.Timer(WATCHDOG_SECONDS, process.kill)
        timer.start()
        try:
            for line in process.stderr:
                engine.log_tail.append(line.rstrip("\n"))
                if json.loads(line)["event"] == "http api listening":
                    break
            else:
                raise AssertionError(f"the engine never listened; {engine.why_gone()}")
        finally:
            timer.cancel()
        threading.Thread(target=engine.read_log, args=(process.stderr,), daemon=True).start()
        yield engine


async def add_lab_cluster(engine: Engine) -> None:
    """A destination in cluster LAB beside the fixture's CARD one: a grant may only name a
    cluster that a destination is in (docs/access.md)."""
    from destinations.config import dump_destination
    from tests.integrator.support import destination

    config = destination("lab", 2599, providers=["lab-west"], cluster="LAB")
    (engine.settings.destinations_dir / "lab.yaml").write_text(dump_destination(config))
    catalog = await engine.reload_destinations()
    assert "lab" in catalog.destinations, catalog.errors


async def serve_zuid_too(engine: Engine, port: int) -> None:
    """The catalog with ``zuid`` (provider ``ziekenhuis-zuid``) beside ``noord``, both sending
    to ``port``: the events of ``ziekenhuis-zuid`` accepted before, unrouted, can be routed."""
    from datetime import UTC, datetime

    from integrator.catalog import build_catalog
    from tests.integrator.support import destination

    configs = [
        destination("noord", port, providers=["ziekenhuis-noord"]),
        destination("zuid", port, providers=["ziekenhuis-zuid"]),
    ]
    await engine.apply_catalog(
        build_catalog(
            ((f"{c.id}.yaml", c) for c in configs),
            today=datetime.now(UTC).date(),
            in_service={c.id for c in configs},
        )
    )


@asynccontextmanager
async def engine_with_noord(
    tmp_path: Path, database_url: str, port: int, **store: Any
) -> AsyncIterator[Engine]:
    """A running engine on ``database_url`` with one destination, ``noord`` (provider
    ``ziekenhuis-noord``) sending to ``port``; ``store``: more settings (a search key, …)."""
    from tests.integrator.support import destination, engine_on_destinations, settings_for

    settings = settings_for(tmp_path, database_url=database_url, **store)
    config = destination("noord", port, providers=["ziekenhuis-noord"], cluster="CARD")
    async with engine_on_destinations(settings, config) as engine:
        yield engine


@asynccontextmanager
async def postgresql_engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine on a PostgreSQL database of its own (dropped after), with destination
    ``noord`` (cluster CARD; its port answers nothing): for what only PostgreSQL refuses."""
    from tests.services import scratch_database

    async with (
        scratch_database() as (_name, url),
        engine_with_noord(
            tmp_path,
            url.replace("postgresql://", "postgresql+asyncpg://"),
            2599,
            search_key="a-test-search-key-of-enough-length",
        ) as engine,
    ):
        yield engine


async def finished(api: httpx.AsyncClient, answer: httpx.Response) -> dict[str, Any]:
    """The job ``answer`` (a 202 of a route that starts one) started, once it has ended, done:
    its results. ``engine.wait_settled`` does not wait for it: before the job has begun there
    is nothing queued to wait for."""
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    while job["state"] == "running":
        await asyncio.sleep(0.02)
        job = (await api.get(f"/api/v1/jobs/{job['id']}")).json()
    assert job["state"] == "done", job
    return job


@dataclass(frozen=True)
class Trace:
    """What a change leaves behind: the file's text, the revisions, the audit entries."""

    file: str | None
    revisions: int
    audited: int


async def trace(engine: Engine, dest_id: str) -> Trace:
    path = engine.settings.destinations_dir / f"{dest_id}.yaml"
    return Trace(
        path.read_text() if path.exists() else None,
        len(await engine.store.list_destination_revisions(dest_id)),
        len(await engine.store.list_audit(target=dest_id)),
    )
