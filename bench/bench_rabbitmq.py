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
import json
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, TypedDict

import aiormq
import asyncpg
import yaml
from pamqp.commands import Basic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import bench_e2e  # noqa: E402
from common import (  # noqa: E402
    broker_cpu_seconds,
    cpu_seconds,
    delete_topology,
    engine_cpu_seconds,
    latency_parts,
    make_events,
    part_percentiles,
    peak_rss_mib,
    percentiles,
    results_table,
)
from common import serve_receivers as serve_receivers  # noqa: E402  (scenarios.py swaps it)

from integrator import eventloop  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.store import MessageFilter, Store  # noqa: E402
from integrator.transport.topology import Topology  # noqa: E402

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


class _Postgres(TypedDict):
    host: str
    port: int
    user: str


PG: _Postgres = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
IN_FLIGHT = 1000
#: The harness's own sessions' ``application_name`` (the engines' are ``integrator``).
HARNESS = "bench-harness"


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


#: The burst publish, kept for ``in_service``'s first events when a paced one replaces ``publish``.
burst_publish = publish


async def put_in_service(
    topology: Topology, store: Store, url: str, providers: list[str], n_events: int, first: int
) -> None:
    """``n_events`` through the engines as a burst, then the database vacuumed and analysed.

    What a store in service has that a database made for the run has not: rows, and the
    statistics autovacuum keeps (the servers here run without autovacuum, so the planner would
    plan on an empty table's estimates all run long). ``first``: the warm-up's ZD numbers
    begin there, apart from the measured events'."""
    await burst_publish(topology, make_events(n_events, providers, first=first))
    deadline = time.perf_counter() + 300
    while (await store.count_by_status()).get("delivered", 0) < n_events:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the {n_events} events putting the store in service stalled")
        await asyncio.sleep(0.1)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()


def _keep_logs(tmp: Path, keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for log_file in tmp.glob("engine-*.log"):
        (keep / log_file.name).write_bytes(log_file.read_bytes())


async def scenario(
    n_events: int,
    n_destinations: int,
    n_engines: int,
    *,
    profile: Path | None = None,
    sample: Path | None = None,
    samples: int = 1000,
    in_service: int = 0,
    published_at: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One burst through ``n_engines`` engine processes; ``profile``: cProfile the first one
    (CPU time, whole life); ``sample``: py-spy's collapsed stacks of the first one while the
    events go through (``py-spy`` must be installed; it samples, so it barely slows the engine);
    ``in_service``: that many events go through first and the database is analysed
    (``put_in_service``); the figures are of the measured events alone. ``published_at``:
    filled by a ``publish`` that times each event (by event id), for ``latency_parts``.

    ``engine_cpu_us`` counts the engines' CPU from their start; ``engine_cpu_us_run`` only
    from the first event published on (start-up left out), which is what an event costs.
    """
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
    cpu0: list[float | None] = []
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
        delivered = 0
        try:
            for n in range(n_engines):
                # cProfile'd: ``cpu_profile.py OUT`` runs the same command as ``-m integrator``.
                how = (str(HERE / "cpu_profile.py"), str(profile)) if profile and not n else ()
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        *(how or ("-m", "integrator")),
                        *("run", "--no-http"),
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
            # Its sessions are left out of the database's CPU (``backend_cpu``): named where the
            # revision's store takes ``application_name`` in its URL, else known by their pids
            # (the revisions before 5b99e1e refuse the parameter).
            before = await backend_pids(admin, db)
            try:
                store = await Store.open(f"{url}?application_name={HARNESS}")
            except TypeError:
                store = await Store.open(url)
            await store.count_by_status()
            harness_pids = await backend_pids(admin, db) - before
            if in_service:
                await put_in_service(topology, store, url, providers, in_service, n_events)
            events = make_events(n_events, providers)
            measured = {json.loads(event)["event_id"] for event in events}

            spy = None
            if sample is not None:
                spy = await asyncio.create_subprocess_exec(
                    *(_py_spy(), "record", "--nonblocking", "--format", "raw", "--rate", "250"),
                    *("--pid", str(processes[0].pid), "-o", str(sample)),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            cpu0 = [engine_cpu_seconds(process.pid) for process in processes]
            db_cpu0 = await backend_cpu(admin, db, harness_pids)
            broker_cpu0 = broker_cpu_seconds()
            receivers_cpu0 = cpu_seconds(receivers.pid) if receivers.pid else None
            t0 = time.perf_counter()
            await publish(topology, events)
            published_s = time.perf_counter() - t0
            intake_s = elapsed = 0.0
            db_cpu1: dict[int, float] = {}
            broker_cpu1 = receivers_cpu1 = None
            delivered = delivered_at_intake = 0
            deadline = t0 + 600
            while time.perf_counter() < deadline:
                counts = await store.count_by_status()
                total = sum(counts.values()) - in_service
                if not intake_s and total >= n_events:
                    intake_s = time.perf_counter() - t0
                    delivered_at_intake = counts["delivered"] - in_service
                delivered = counts["delivered"] - in_service
                if delivered >= n_events:
                    elapsed = time.perf_counter() - t0
                    db_cpu1 = await backend_cpu(admin, db, harness_pids)
                    broker_cpu1 = broker_cpu_seconds()
                    receivers_cpu1 = cpu_seconds(receivers.pid) if receivers.pid else None
                    break
                # Each count is a scan of ``messages`` (~1 ms at 3,000 rows on PostgreSQL):
                # polled every 20 ms it took ~5 % of a CPU from the engines and the database.
                await asyncio.sleep(0.1)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                await spy.wait()
            # Where the time went: the harness's publishing, the intake, the delivery's tail.
            print(
                f"# published in {published_s:.1f}s; all taken in at {intake_s:.1f}s with "
                f"{delivered_at_intake} delivered; all delivered at {elapsed:.1f}s",
                file=sys.stderr,
            )
            messages = await store.list_messages(MessageFilter(), limit=(n_events + in_service) * 2)
            done = [m for m in messages if m.status == "delivered" and m.event_id in measured]
            parts = await latency_parts(store, done, samples=samples, published_at=published_at)
        finally:
            peaks = [peak_rss_mib(process.pid) for process in processes]
            cpu = [engine_cpu_seconds(process.pid) for process in processes]
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for n, process in enumerate(processes):
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:  # said, and killed: the receivers below must stop too
                    print(f"# engine {n} not stopped 30 s after SIGTERM; killed", file=sys.stderr)
                    process.kill()
                    await process.wait()
            keep = os.environ.get("BENCH_KEEP_LOGS")
            if keep and delivered < n_events:  # a stall: keep the engines' own account of it
                _keep_logs(Path(tmp), Path(keep))
            if store is not None:
                await store.close()
            parent.send("stop")
            receivers.join()
            try:  # the broker may be restarting under us (other jobs share it)
                await delete_topology(AMQP_URL, topology, destinations)
            except (aiormq.exceptions.AMQPError, OSError) as exc:
                print(f"# topology {topology.prefix} not deleted: {exc!r}", file=sys.stderr)
            await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            await admin.close()
    engines = "1 engine" if n_engines == 1 else f"{n_engines} engines"
    run_cpu = [c - c0 for c, c0 in zip(cpu, cpu0, strict=True) if c is not None and c0 is not None]
    database_cpu_us_run = (
        sum(c - db_cpu0.get(pid, 0.0) for pid, c in db_cpu1.items()) / n_events * 1e6
        if db_cpu1
        else None
    )
    engine_cpu_us_run = sum(run_cpu) / n_events * 1e6 if len(run_cpu) == n_engines else None
    broker_cpu_us_run = _per_event(broker_cpu0, broker_cpu1, n_events)
    receivers_cpu_us_run = _per_event(receivers_cpu0, receivers_cpu1, n_events)
    parts_run = [engine_cpu_us_run, database_cpu_us_run, broker_cpu_us_run, receivers_cpu_us_run]
    return {
        "setup": f"RabbitMQ + PostgreSQL, {engines}",
        "engines": n_engines,
        "destinations": n_destinations,
        "events": n_events,
        "delivered": delivered,
        "intake_per_s": n_events / intake_s if intake_s else float("nan"),
        "delivered_per_s": delivered / elapsed if elapsed else float("nan"),
        **percentiles(parts["total"]),
        **part_percentiles(parts),
        "engine_rss_mib": max((p for p in peaks if p is not None), default=None),
        "engine_cpu_us": (
            sum(c for c in cpu if c is not None) / n_events * 1e6 if None not in cpu else None
        ),
        "engine_cpu_us_run": engine_cpu_us_run,
        "engine_cpu_s_each": [round(c, 2) for c in run_cpu],
        "database_cpu_us_run": database_cpu_us_run,
        "broker_cpu_us_run": broker_cpu_us_run,
        "receivers_cpu_us_run": receivers_cpu_us_run,
        # What an event costs the whole machine: the four above (the broker's share includes
        # whatever else uses the shared broker meanwhile).
        "system_cpu_us_run": (
            sum(p for p in parts_run if p is not None) if None not in parts_run else None
        ),
    }


def _per_event(before: float | None, after: float | None, n_events: int) -> float | None:
    """µs of CPU per event between two readings of a process's CPU seconds (None: unknown,
    or the run never finished)."""
    if before is None or after is None:
        return None
    return (after - before) / n_events * 1e6


async def backend_pids(admin: asyncpg.Connection, db: str) -> set[int]:
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", db)
    return {row["pid"] for row in rows}


async def backend_cpu(
    admin: asyncpg.Connection, db: str, harness_pids: set[int]
) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the engines in ``db``. The
    harness's own (``HARNESS`` or ``harness_pids``: a count of ``messages`` every 100 ms while
    it waits, a scan each) is left out. A backend that ends during the run is not counted; the
    engines keep theirs open."""
    pids = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2",
        db,
        HARNESS,
    )
    found = {row["pid"]: cpu_seconds(row["pid"]) for row in pids if row["pid"] not in harness_pids}
    return {pid: cpu for pid, cpu in found.items() if cpu is not None}


def _py_spy() -> str:
    """py-spy next to this interpreter (a virtualenv's bin), else on the path."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


async def scaling(n_events: int, n_destinations: int, rounds: int) -> None:
    """1 engine against 2 over the same event stream, alternated (1 2, then 2 1, ...).

    Each run is a fresh database and topology; the ratio of each round is taken between its two
    runs only, and the median and spread of the rounds are printed (2 engines / 1 engine).
    """
    runs: list[dict[int, dict[str, Any]]] = []
    for n in range(rounds):
        got: dict[int, dict[str, Any]] = {}
        for engines in (1, 2) if n % 2 == 0 else (2, 1):
            for attempt in range(3):  # a broker restarted by another job fails a run
                try:
                    got[engines] = row = await scenario(n_events, n_destinations, engines)
                except (aiormq.exceptions.AMQPError, OSError) as exc:
                    print(f"# run failed ({exc!r}); again", file=sys.stderr)
                    await asyncio.sleep(5)
                    continue
                if row["delivered"] == n_events or attempt == 2:
                    break
            if engines not in got:
                raise SystemExit(f"round {n + 1}: {engines} engine(s) failed three times")
            print(
                f"round {n + 1}, {engines} engine(s): {row['delivered_per_s']:,.0f} delivered/s, "
                f"engine CPU {row['engine_cpu_us_run']:,.0f} µs/event "
                f"(each engine, s: {row['engine_cpu_s_each']}), "
                f"p50 {row['p50_ms']:,.0f} ms",
                flush=True,
            )
        runs.append(got)
    print(
        f"\n{rounds} rounds, {n_events} events, {n_destinations} destinations; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| measure | 1 engine (median) | 2 engines (median) | 2 / 1 (median) | spread |")
    print("|---|---:|---:|---:|---|")
    for key, label in [
        ("delivered_per_s", "delivered/s"),
        ("intake_per_s", "taken in/s"),
        ("engine_cpu_us_run", "engine CPU µs per event (all engines)"),
    ]:
        one = [r[1][key] for r in runs]
        two = [r[2][key] for r in runs]
        ratios = [b / a for a, b in zip(one, two, strict=True)]
        print(
            f"| {label} | {statistics.median(one):,.0f} | {statistics.median(two):,.0f} "
            f"| {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} |"
        )


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
    parser.add_argument(
        "--scaling",
        type=int,
        metavar="ROUNDS",
        help="only 1 engine against 2, alternated, this many rounds (first --destinations)",
    )
    parser.add_argument("--events", type=int, help="events per run (default 20,000; 2,000 quick)")
    args = parser.parse_args()
    configure_logging(level="warning")
    if args.scaling:
        n = args.events or (2_000 if args.quick else 5_000)
        eventloop.run(scaling(n, args.destinations[0], args.scaling))
        raise SystemExit(0)
    eventloop.run(main(args.quick, args.engines, args.destinations, not args.no_embedded))
