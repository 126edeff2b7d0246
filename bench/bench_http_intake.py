"""The embedded default's own intake door: events POSTed one per request to ``integrator run``.

On the embedded default (SQLite, no broker) upstream systems submit over the HTTP API, one event
per ``POST /api/v1/events``; the ``e2e`` scenarios hand the engine batches of 200 in-process,
which no caller of the API can. Here an ``integrator run`` process of the revision under test
(``scenarios.SOURCE``) serves the API on loopback with one destination (an ACK-only receiver
process), ``clients`` HTTP clients each post their share of ``events`` one after another on a
kept-alive connection, and the harness waits until every message is delivered.

    .venv/bin/python bench/scenarios.py http --clients 8 --events 3000
    .venv/bin/python bench/scenarios.py http --clients 1 --events 1500 --py-spy /tmp/http.txt
    .venv/bin/python bench/scenarios.py http --clients 8 --store postgresql  # on PostgreSQL

Reported: ``accepted_per_s`` (202 answers a second), ``delivered_per_s`` (first POST to the
last message delivered), ``engine_cpu_us_run`` (the engine process's CPU per event over the same
span), ``post_p50_ms``/``post_p99_ms`` (a POST's round trip as its client saw it) and the
clients' own CPU per event (``clients_cpu_us``: they share the two cores with the engine).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ackserver
import httpx
import yaml
from common import (
    cpu_seconds,
    engine_cpu_seconds,
    free_port,
    fresh_postgres,
    make_events,
    percentiles,
)

PROVIDER = "provider-0"


def _cli(source: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "integrator", *args],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def _wait_ready(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the engine exited with {process.returncode} before it answered")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the engine did not answer /healthz within 90 s")


async def _post_share(
    client: httpx.AsyncClient, bodies: list[bytes], headers: dict[str, str]
) -> list[float]:
    """Post one body after another; each POST's round trip in ms."""
    took: list[float] = []
    for body in bodies:
        t0 = time.perf_counter()
        answer = await client.post("/api/v1/events", content=body, headers=headers)
        took.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 202:
            raise RuntimeError(f"a POST was answered {answer.status_code}: {answer.text[:200]}")
    return took


async def _delivered(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """Messages delivered so far, as the engine's own metrics count them."""
    text = (await client.get("/metrics", headers=headers)).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("integrator_delivery_attempts_total{") and 'outcome="delivered"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def scenario(
    source: Path,
    n_events: int,
    clients: int,
    *,
    sample: Path | None = None,
    store: str = "sqlite",
) -> dict[str, Any]:
    """``store``: ``sqlite`` (the embedded default, a file in a temporary directory) or
    ``postgresql`` (a new database on the machine's server, dropped afterwards)."""
    if store == "postgresql":
        async with fresh_postgres() as url:
            return await _scenario(source, n_events, clients, sample, url)
    return await _scenario(source, n_events, clients, sample, None)


async def _scenario(
    source: Path, n_events: int, clients: int, sample: Path | None, database_url: str | None
) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    receivers = multiprocessing.Process(target=ackserver.serve, args=(1, child))
    receivers.start()
    [receiver_port] = parent.recv()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        destinations = Path(tmp) / "destinations"
        destinations.mkdir()
        (destinations / "dest-0.yaml").write_text(
            yaml.safe_dump(
                {
                    "id": "dest-0",
                    "name": "Destination 0",
                    "providers": [PROVIDER],
                    "host": "127.0.0.1",
                    "port": receiver_port,
                    "messages": {"referral": "ref-v2"},
                }
            )
        )
        port = free_port()
        env = {
            **os.environ,
            "INTEGRATOR_DATABASE_URL": database_url or f"sqlite:///{tmp}/store.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(destinations),
            "INTEGRATOR_HTTP_PORT": str(port),
            "INTEGRATOR_SEARCH_KEY": "bench-search-key-of-this-run",
            "INTEGRATOR_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "info"),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
        log = (Path(tmp) / "engine.log").open("wb")
        engine = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "integrator", "run", cwd=source, env=env, stdout=log, stderr=log
        )
        spy = None
        try:
            limits = httpx.Limits(
                max_connections=clients + 1, max_keepalive_connections=clients + 1
            )
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
            ) as client:
                await _wait_ready(client, engine)  # the store exists from here on
                intake, reader = (
                    json.loads(
                        _cli(source, env, "tokens", "create", name, "--role", role, "--json")
                    )
                    for name, role in (("bench", "intake"), ("scraper", "metrics"))
                )
                post_headers = {
                    "authorization": f"Bearer {intake['token']}",
                    "content-type": "application/json",
                }
                read_headers = {"authorization": f"Bearer {reader['token']}"}
                bodies = make_events(n_events, [PROVIDER])
                await _post_share(client, make_events(20, [PROVIDER]), post_headers)  # warm
                warm = await _delivered(client, read_headers)
                if sample is not None:
                    spy = await asyncio.create_subprocess_exec(
                        str(Path(sys.executable).with_name("py-spy")),
                        *("record", "--nonblocking", "--gil", "--format", "raw", "--rate", "250"),
                        *("--pid", str(engine.pid), "-o", str(sample)),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    await asyncio.sleep(0.5)
                cpu0 = engine_cpu_seconds(engine.pid)
                me0 = cpu_seconds(os.getpid())
                t0 = time.perf_counter()
                shares = [bodies[i::clients] for i in range(clients)]
                took = await asyncio.gather(
                    *(_post_share(client, share, post_headers) for share in shares)
                )
                accepted_s = time.perf_counter() - t0
                me1 = cpu_seconds(os.getpid())
                deadline = t0 + 600
                while await _delivered(client, read_headers) < warm + n_events:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("not every message was delivered within 600 s")
                    await asyncio.sleep(0.05)
                delivered_s = time.perf_counter() - t0
                cpu1 = engine_cpu_seconds(engine.pid)
        finally:
            if spy is not None:
                spy.send_signal(2)
                await spy.wait()
            engine.terminate()
            await engine.wait()
            log.close()
            parent.send("stop")
            receivers.join(timeout=30)
    latencies = sorted(t for share in took for t in share)
    shares_of = percentiles(latencies)
    return {
        "events": n_events,
        "clients": clients,
        "accepted_per_s": n_events / accepted_s,
        "delivered_per_s": n_events / delivered_s,
        "engine_cpu_us_run": (
            None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / n_events * 1e6
        ),
        "clients_cpu_us": None if me0 is None or me1 is None else (me1 - me0) / n_events * 1e6,
        "post_p50_ms": shares_of["p50_ms"],
        "post_p99_ms": shares_of["p99_ms"],
    }
