"""Pieces the end-to-end benchmarks share: the event stream and the receivers' process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from destinations.config import destination_from_mapping
from destinations.receiver import MllpReceiver
from integrator import eventloop
from integrator.catalog import Catalog, build_catalog
from integrator.store import MessageRecord, Store

ROOT = Path(__file__).resolve().parent.parent


def bench_catalog(ports: Sequence[int], *, paused: bool = False) -> Catalog:
    """A catalog of one destination per port, ``dest-<n>`` serving ``provider-<n>``
    (``make_events``' providers), each taking referrals as ``ref-v2``; ``paused``: every one
    ``enabled: false``. Built with the measured revision's own config code."""
    configs = [
        destination_from_mapping(
            {
                "id": f"dest-{n}",
                "name": f"Destination {n}",
                "providers": [f"provider-{n}"],
                "host": "127.0.0.1",
                "port": port,
                "messages": {"referral": "ref-v2"},
                **({"enabled": False} if paused else {}),
            },
            source=f"dest-{n}.yaml",
        )
        for n, port in enumerate(ports)
    ]
    return build_catalog(((f"{c.id}.yaml", c) for c in configs), today=date.today())


def make_events(
    n: int, providers: list[str], *, attachment_kib: int = 0, first: int = 0
) -> list[bytes]:
    """``n`` copies of the sample referral, each its own event, spread over ``providers``;
    with ``attachment_kib``, each carries a PDF of that size; their ZD numbers count from
    ``first`` on."""
    base = json.loads((ROOT / "config" / "samples" / "referral.json").read_text())
    if attachment_kib:
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4 * attachment_kib
        base["attachments"] = [
            {
                "filename": "verwijsbrief.pdf",
                "content_type": "application/pdf",
                "data": base64.b64encode(pdf).decode("ascii"),
            }
        ]
    events = []
    for i in range(n):
        event = dict(base)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD{200000000 + first + i:09d}"
        event["provider"] = {**base["provider"], "id": providers[i % len(providers)]}
        events.append(json.dumps(event).encode())
    return events


def serve_receivers(count: int, conn: Connection) -> None:
    """Child process: the hospitals' receivers, as in real life not in the engine's process.

    Sends the bound ports over ``conn``, then serves until anything arrives on it.
    """

    async def serve() -> None:
        receivers = [MllpReceiver() for _ in range(count)]
        conn.send([await r.start() for r in receivers])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for r in receivers:
            await r.stop()

    eventloop.run(serve())  # as ``integrator receiver`` runs


async def sampled_latencies(
    store: Store, delivered: Sequence[MessageRecord], *, samples: int = 2000
) -> list[float]:
    """Milliseconds from event received to the end of its delivering attempt, for about
    ``samples`` delivered messages spread over the run, sorted."""
    return (await latency_parts(store, delivered, samples=samples))["total"]


async def latency_parts(
    store: Store,
    delivered: Sequence[MessageRecord],
    *,
    samples: int = 2000,
    published_at: Mapping[str, float] | None = None,
) -> dict[str, list[float]]:
    """``sampled_latencies`` and its two parts, each sorted on its own: ``to_wire`` (event
    received to the start of its delivering attempt: commit, queueing, the broker) and
    ``exchange`` (that attempt: connect if needed, send, wait for the ACK). A tail is then
    placed on one side of the wire or the other. ``STEADY``: the totals of the events received
    ``WARM_UP`` or more after the first: a new engine's first commits, publishes and consumer
    deliveries left out (in RabbitMQ runs they were a fifth to two thirds of the events above
    30 ms; bench/results/perf.md, twenty-second session); ``FIRST``: those of the first
    ``WARM_UP`` alone. ``FROM_PUBLISH``, where ``published_at`` has the event's publish time
    (``time.time()``, by event id): from that to the ACK, the time in the intake queue and the
    intake's gathering included, which ``received_at`` (when intake prepared it) leaves out."""
    parts: dict[str, list[float]] = {"total": [], "to_wire": [], "exchange": [], FROM_PUBLISH: []}
    received: list[datetime] = []
    for m in delivered[:: max(1, len(delivered) // samples)]:
        event = await store.get_event(m.event_id)
        attempts = await store.list_attempts(m.id)
        if event is None or not attempts:
            continue
        attempt = attempts[-1]
        to_wire = (attempt.started_at - event.received_at).total_seconds() * 1000
        parts["to_wire"].append(to_wire)
        parts["exchange"].append(attempt.duration_ms)
        parts["total"].append(to_wire + attempt.duration_ms)
        received.append(event.received_at)
        if published_at is not None and m.event_id in published_at:
            acked = attempt.started_at.timestamp() + attempt.duration_ms / 1000
            parts[FROM_PUBLISH].append((acked - published_at[m.event_id]) * 1000)
    steady_from = min(received) + WARM_UP if received else None
    pairs = list(zip(parts["total"], received, strict=True))
    parts[STEADY] = [total for total, at in pairs if steady_from and at >= steady_from]
    parts[FIRST] = [total for total, at in pairs if steady_from and at < steady_from]
    return {name: sorted(values) for name, values in parts.items()}


STEADY = "total_steady"
"""``latency_parts``' totals of the events received ``WARM_UP`` or more after the first."""

FROM_PUBLISH = "from_publish"
"""``latency_parts``' part from the event's publish to its ACK (where the publisher timed it)."""

FIRST = "total_first"
"""The other totals: of the events received in the first ``WARM_UP``, which a new engine's
start holds up (its connections, statements, queues), or no longer does."""

WARM_UP = timedelta(seconds=1)


def part_percentiles(parts: dict[str, list[float]]) -> dict[str, float]:
    """p99 of each part of ``latency_parts`` (NaN when there are none); of ``FROM_PUBLISH``
    the p50 too."""
    return {
        **{
            f"p99_{name}_ms": percentiles(values)["p99_ms"]
            for name, values in parts.items()
            if name != "total"
        },
        f"p50_{FROM_PUBLISH}_ms": percentiles(parts.get(FROM_PUBLISH, []))["p50_ms"],
    }


def percentiles(latencies: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of sorted latencies (NaN when there are none)."""
    if not latencies:
        return {"p50_ms": float("nan"), "p99_ms": float("nan")}
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)],
    }


def free_port() -> int:
    """A TCP port on loopback that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new database on the machine's PostgreSQL (127.0.0.1:5432, user postgres, trust): its
    store URL for an engine; dropped afterwards, with any session still on it."""
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def peak_rss_mib(pid: int) -> float | None:
    """A live process's peak resident memory (Linux ``VmHWM``); None where unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a live process has used so far (Linux); None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_cpu_seconds(pid: int) -> float | None:
    """CPU time so far of an engine process and of its live children (the process preparing
    events, ``INTEGRATOR_PREPARE_PROCESS``, whose CPU is the engine's too); None where
    unknown."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    return own + sum(children_cpu_seconds(parent=pid).values())


def children_cpu_seconds(
    excluding: Sequence[int] = (), parent: int | None = None
) -> dict[int, float]:
    """CPU time so far of each live child of ``parent`` (this process by default; Linux), by
    pid, but for ``excluding`` (the receivers): the engine's own helpers, such as the process
    that prepares events (``INTEGRATOR_PREPARE_PROCESS``), whose CPU is the engine's too."""
    me = str(os.getpid() if parent is None else parent)
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in excluding:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def broker_cpu_seconds() -> float | None:
    """CPU time so far of the local RabbitMQ broker (every ``beam.smp`` process), or None
    where none is found or readable.

    The broker is shared: whatever else uses it during a run (other jobs' tests) counts too,
    so read its per-event figure as an upper bound, and its ratio between two runs made side
    by side as the measure.
    """
    try:
        found = subprocess.run(
            ["pgrep", "-x", "beam.smp"], capture_output=True, text=True, check=False
        ).stdout.split()
    except OSError:
        return None
    times = [cpu_seconds(int(pid)) for pid in found]
    known = [t for t in times if t is not None]
    return sum(known) if known else None


def results_table(rows: Sequence[dict[str, Any]]) -> str:
    """One markdown table layout for every end-to-end result; each row names its ``setup``.

    ``engine_cpu_us`` (all engine processes' CPU time per event, start-up included) and
    ``engine_rss_mib`` (the largest engine process's peak) are optional: ``-`` when not taken.
    CPU per event varies far less between runs than events per second on a shared machine.
    """
    lines = [
        "| transport + store | destinations | events | delivered | intake events/s "
        "| delivered/s | p50 latency ms | p99 latency ms | engine CPU µs/event "
        "| engine peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rss = r.get("engine_rss_mib")
        cpu = r.get("engine_cpu_us")
        lines.append(
            f"| {r['setup']} | {r['destinations']} | {r['events']} | {r['delivered']} "
            f"| {r['intake_per_s']:,.0f} | {r['delivered_per_s']:,.0f} "
            f"| {r['p50_ms']:,.1f} | {r['p99_ms']:,.1f} "
            f"| {'-' if cpu is None else f'{cpu:,.0f}'} "
            f"| {'-' if rss is None else f'{rss:,.0f}'} |"
        )
    return "\n".join(lines)


async def delete_topology(url: str, topology: Any, destinations: Sequence[str]) -> None:
    """Delete the queues and exchanges a bench's RabbitMQ transport declared (``Topology``)."""
    import aiormq

    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        for queue in [topology.intake_queue, topology.dead_queue] + [
            topology.delivery_queue(d) for d in destinations
        ]:
            await channel.queue_delete(queue)
        for exchange in (
            topology.intake_exchange,
            topology.delivery_exchange,
            topology.dead_exchange,
        ):
            await channel.exchange_delete(exchange)
    finally:
        await connection.close()
