"""End-to-end throughput and latency on RabbitMQ + PostgreSQL, with 1 and 2 engine processes.

Events are published to the intake exchange (as upstream systems do) -> ``integrator run``
processes consume, validate, map and commit to PostgreSQL -> delivery queues -> MLLP on loopback
-> ACK checked -> attempt committed. Receivers (the project's fast test receiver, one per
destination) run in their own process, engines in theirs. Latency per message is measured from
the store: event ``received_at`` to the end of the delivering attempt.

Needs RabbitMQ on 127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432 (a scratch database is
created and dropped per scenario).

    .venv/bin/python bench/bench_rabbitmq.py            # 20,000 events per scenario
    .venv/bin/python bench/bench_rabbitmq.py --quick    # 2,000 events per scenario
    .venv/bin/python bench/bench_rabbitmq.py --engines 1 --destinations 10 --no-embedded
    BENCH_LOG_LEVEL=info .venv/bin/python bench/bench_rabbitmq.py   # engines log as in production

The embedded + SQLite rows (``bench_e2e.scenario``) come first, so both stand in one table.

Writes ``bench/results/rabbitmq.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiormq
import asyncpg
import yaml
from pamqp.commands import Basic

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_e2e  # noqa: E402
from common import (  # noqa: E402
    cpu_seconds,
    make_events,
    peak_rss_mib,
    percentiles,
    results_table,
    sampled_latencies,
    serve_receivers,
)

from integrator import eventloop  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.store import MessageFilter, Store  # noqa: E402
from integrator.transport.topology import Topology  # noqa: E402

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
IN_FLIGHT = 1000


async def intake_consumers(topology: Topology) -> int:
    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await topology.declare_common(channel)
        ok = await channel.queue_declare(
            topology.intake_queue, durable=True, arguments=topology.intake_arguments()
        )
        return int(ok.consumer_count or 0)
    finally:
        await connection.close()


async def publish(topology: Topology, events: list[bytes]) -> None:
    """Publish with confirms, ``IN_FLIGHT`` at a time (DESIGN: never one confirm at a time)."""
    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        properties = Basic.Properties(content_type="application/json", delivery_mode=2)
        for start in range(0, len(events), IN_FLIGHT):
            await asyncio.gather(
                *(
                    channel.basic_publish(
                        body,
                        exchange=topology.intake_exchange,
                        routing_key="event.referral",
                        properties=properties,
                    )
                    for body in events[start : start + IN_FLIGHT]
                )
            )
    finally:
        await connection.close()


async def delete_topology(topology: Topology, destinations: list[str]) -> None:
    connection = await aiormq.connect(AMQP_URL)
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


async def scenario(n_events: int, n_destinations: int, n_engines: int) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    receivers = multiprocessing.Process(target=serve_receivers, args=(n_destinations, child))
    receivers.start()
    ports: list[int] = parent.recv()
    providers = [f"provider-{i}" for i in range(n_destinations)]
    db = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(**PG, database="test")
    await admin.execute(f'CREATE DATABASE "{db}"')
    url = f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{db}"
    topology = Topology(f"integrator.bench.{uuid.uuid4().hex[:8]}")
    destinations = [f"dest-{i}" for i in range(n_destinations)]
    processes: list[asyncio.subprocess.Process] = []
    with tempfile.TemporaryDirectory() as tmp:
        dest_dir = Path(tmp) / "destinations"
        dest_dir.mkdir()
        for i, port in enumerate(ports):
            data = {
                "id": destinations[i],
                "name": f"Destination {i}",
                "providers": [providers[i]],
                "host": "127.0.0.1",
                "port": port,
                "messages": {"referral": "ref-v2"},
            }
            (dest_dir / f"{destinations[i]}.yaml").write_text(yaml.safe_dump(data))
        env = {
            **os.environ,
            "INTEGRATOR_DATABASE_URL": url,
            "INTEGRATOR_SEARCH_KEY": "bench-search-key-of-this-run",
            "INTEGRATOR_AMQP_URL": AMQP_URL,
            "INTEGRATOR_AMQP_PREFIX": topology.prefix,
            "INTEGRATOR_DESTINATIONS_DIR": str(dest_dir),
            "INTEGRATOR_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "error"),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
        store: Store | None = None
        try:
            for n in range(n_engines):
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        *("-m", "integrator", "run", "--no-http"),
                        cwd=ROOT,
                        env=env,
                        stdout=(Path(tmp) / f"engine-{n}.log").open("wb"),
                        stderr=subprocess.STDOUT,
                    )
                )
            for _ in range(300):  # the engines are up when they consume the intake queue
                if await intake_consumers(topology) >= n_engines:
                    break
                await asyncio.sleep(0.2)
            store = await Store.open(url)
            events = make_events(n_events, providers)

            t0 = time.perf_counter()
            await publish(topology, events)
            published_s = time.perf_counter() - t0
            intake_s = elapsed = 0.0
            delivered = delivered_at_intake = 0
            deadline = t0 + 600
            while time.perf_counter() < deadline:
                counts = await store.count_by_status()
                total = sum(counts.values())
                if not intake_s and total >= n_events:
                    intake_s = time.perf_counter() - t0
                    delivered_at_intake = counts["delivered"]
                delivered = counts["delivered"]
                if delivered >= n_events:
                    elapsed = time.perf_counter() - t0
                    break
                await asyncio.sleep(0.02)
            # Where the time went: the harness's publishing, the intake, the delivery's tail.
            print(
                f"# published in {published_s:.1f}s; all taken in at {intake_s:.1f}s with "
                f"{delivered_at_intake} delivered; all delivered at {elapsed:.1f}s",
                file=sys.stderr,
            )
            messages = await store.list_messages(MessageFilter(), limit=n_events * 2)
            done = [m for m in messages if m.status == "delivered"]
            latencies = await sampled_latencies(store, done, samples=1000)
        finally:
            peaks = [peak_rss_mib(process.pid) for process in processes]
            cpu = [cpu_seconds(process.pid) for process in processes]
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                await asyncio.wait_for(process.wait(), 30)
            if store is not None:
                await store.close()
            parent.send("stop")
            receivers.join()
            await delete_topology(topology, destinations)
            await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            await admin.close()
    engines = "1 engine" if n_engines == 1 else f"{n_engines} engines"
    return {
        "setup": f"RabbitMQ + PostgreSQL, {engines}",
        "engines": n_engines,
        "destinations": n_destinations,
        "events": n_events,
        "delivered": delivered,
        "intake_per_s": n_events / intake_s if intake_s else float("nan"),
        "delivered_per_s": delivered / elapsed if elapsed else float("nan"),
        **percentiles(latencies),
        "engine_rss_mib": max((p for p in peaks if p is not None), default=None),
        "engine_cpu_us": (
            sum(c for c in cpu if c is not None) / n_events * 1e6 if None not in cpu else None
        ),
    }


async def main(
    quick: bool, engine_counts: list[int], destination_counts: list[int], embedded: bool
) -> None:
    n = 2_000 if quick else 20_000
    rows = []
    if embedded:  # the default's figures, in the same table
        for destinations in destination_counts:
            rows.append(await bench_e2e.scenario(n, destinations))
            print(results_table(rows[-1:]).splitlines()[-1], flush=True)
    for engines in engine_counts:
        for destinations in destination_counts:
            rows.append(await scenario(n, destinations, engines))
            print(results_table(rows[-1:]).splitlines()[-1], flush=True)
    text = (
        "# End-to-end on RabbitMQ + PostgreSQL (and the embedded default): events in -> "
        "delivered with a validated ACK\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"`bench/bench_rabbitmq.py{' --quick' if quick else ''}`. Events are published to the "
        "intake exchange as fast as the broker confirms them; engines are `integrator run` "
        "processes; receivers run in another process. Latency (event received -> ACK) is "
        "measured during that burst, so it includes queueing. The embedded rows run the engine "
        "in the bench's own process (its CPU column includes submitting the events). "
        f"{os.cpu_count()} CPUs shared by broker, database, engines and receivers; load average "
        f"{os.getloadavg()[0]:.1f} at the end (other jobs on the machine count too).\n\n"
        + results_table(rows)
        + "\n"
    )
    print(text)
    out = ROOT / "bench" / "results" / "rabbitmq.md"
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engines", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--destinations", type=int, nargs="+", default=[1, 10])
    parser.add_argument(
        "--no-embedded", action="store_true", help="skip the embedded + SQLite rows"
    )
    args = parser.parse_args()
    configure_logging(level="warning")
    eventloop.run(main(args.quick, args.engines, args.destinations, not args.no_embedded))
