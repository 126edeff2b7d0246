"""Benchmark scenarios that run on whichever revision of the project comes first on the path.

``compare.py`` runs this file once per scenario and revision, with that revision's source first
on ``PYTHONPATH``, and reads the one JSON line it prints. The harness (this file, ``common.py``,
``ackserver.py``) is always the working tree's, so both revisions are driven and measured the
same way, against the same ACK-only receiver.

    .venv/bin/python bench/scenarios.py e2e --destinations 1 --events 3000
    .venv/bin/python bench/scenarios.py paced --destinations 1 --rate 500 --seconds 10
    .venv/bin/python bench/scenarios.py paced --destinations 1 --fraction 0.5   # half the max
    .venv/bin/python bench/scenarios.py rabbitmq-paced --destinations 10        # the same, AMQP
    .venv/bin/python bench/scenarios.py map-pdf
    .venv/bin/python bench/scenarios.py rabbitmq --destinations 10 --events 3000
    .venv/bin/python bench/scenarios.py rabbitmq --destinations 10 --rate 200 --seconds 10
    .venv/bin/python bench/scenarios.py backlog --events 100000
    .venv/bin/python bench/scenarios.py floor --events 8000    # the same work, nothing around it
    .venv/bin/python bench/scenarios.py http --clients 8 --events 3000   # POSTs to integrator run
    .venv/bin/python bench/scenarios.py http --clients 8 --store postgresql   # the same, PostgreSQL

Without a revision on ``PYTHONPATH`` the project this file belongs to is used.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ackserver  # noqa: E402
from common import (  # noqa: E402
    bench_catalog,
    children_cpu_seconds,
    latency_parts,
    make_events,
    part_percentiles,
    peak_rss_mib,
    percentiles,
)

import integrator  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.gcpolicy import tune_for_service  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.store import MessageFilter  # noqa: E402

#: The revision under test: its source tree (engines run as processes start there).
SOURCE = Path(integrator.__file__).resolve().parent.parent
BATCH = 200
SAMPLES = HERE.parent / "config" / "samples"


def _receivers(count: int) -> tuple[multiprocessing.Process, Any, list[int]]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=ackserver.serve, args=(count, child))
    process.start()
    ports: list[int] = parent.recv()
    return process, parent, ports


def _sample_payload() -> bytes:
    """A mapped sample referral, as the engine sends it, for the bare baselines."""
    from mappings import MappingContext, map_event
    from schemas import parse_event

    event = parse_event((SAMPLES / "referral.json").read_bytes())
    context = MappingContext(
        control_id="BENCH000000000000001",
        now=datetime.datetime.now(datetime.UTC),
        receiving_application="HIS",
        receiving_facility="ZNOORD",
    )
    return bytes(map_event("ref-v2", event, context).data)


def _engine(tmp: str, ports: list[int], paused: bool = False) -> Engine:
    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", destinations_dir=Path(tmp))
    return Engine(settings, catalog=bench_catalog(ports, paused=paused))


async def e2e(
    n_events: int, n_destinations: int, baseline_s: float, in_flight: int = 1
) -> dict[str, Any]:
    """A burst of events through the embedded engine; baselines first, same receivers.

    ``in_flight``: batches of ``BATCH`` submitted at once. One (the default, as every round
    measured) waits for each batch to be committed and published before the next is handed
    in, so intake's steps run one after another; the AMQP intake keeps three batches in work
    (``amqp_intake.WORKERS``) and HTTP callers submit side by side, which overlaps them."""
    process, pipe, ports = _receivers(n_destinations)
    try:
        base = ackserver.baselines(ports, _sample_payload(), baseline_s) if baseline_s else {}
        events = make_events(n_events, [f"provider-{i}" for i in range(n_destinations)])
        with tempfile.TemporaryDirectory() as tmp:
            engine = _engine(tmp, ports)
            await engine.start()
            tune_for_service()
            try:
                helpers0 = children_cpu_seconds(excluding=[process.pid or 0])
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                await _submit(engine, events, in_flight)
                intake_s = time.perf_counter() - t0
                await _all_recorded(engine, n_events)
                elapsed = time.perf_counter() - t0
                cpu_s = time.process_time() - cpu0
                # The engine's helper processes (INTEGRATOR_PREPARE_PROCESS) count too.
                helpers = children_cpu_seconds(excluding=[process.pid or 0])
                cpu_s += sum(s - helpers0.get(pid, 0.0) for pid, s in helpers.items())
                counts = await engine.store.count_by_status()
            finally:
                await engine.stop()
    finally:
        pipe.send("stop")
        process.join()
    delivered = counts.get("delivered", 0)
    row: dict[str, Any] = {
        "events": n_events,
        "destinations": n_destinations,
        "delivered": delivered,
        "intake_per_s": n_events / intake_s,
        "delivered_per_s": delivered / elapsed,
        "cpu_us_per_event": cpu_s / max(delivered, 1) * 1e6,
        "rss_mib": peak_rss_mib(os.getpid()),
        **base,
    }
    for key, value in base.items():
        row[f"ratio_to_{key.removesuffix('_per_s')}"] = row["delivered_per_s"] / value
    return row


async def _submit(engine: Engine, events: list[bytes], in_flight: int) -> None:
    """Every event, ``BATCH`` at a time, with up to ``in_flight`` batches submitted at once
    (each next one as soon as one is answered)."""
    batches = [events[start : start + BATCH] for start in range(0, len(events), BATCH)]
    pending: set[asyncio.Task[Any]] = set()
    for batch in batches:
        if len(pending) >= in_flight:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        pending.add(asyncio.create_task(engine.intake.submit_many(batch, source="cli")))
    await asyncio.gather(*pending)


async def _all_recorded(engine: Engine, attempts: int) -> None:
    """Wait until ``attempts`` attempts are committed, then until nothing is pending.

    Watching the recorder's count costs nothing; polling the store every few milliseconds
    (``wait_settled``) cost the engine's process more CPU than some of what is measured.
    """
    recorder = engine._recorder
    while recorder is not None and recorder._written < attempts:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    await engine.wait_settled(timeout=600, poll=0.05)


async def paced(n_destinations: int, rate: float, seconds: float) -> dict[str, Any]:
    """Open loop: events submitted at a fixed rate, whatever the engine does with them.

    Every 5 ms the events due by then are submitted (one ``submit_many`` task, not awaited by
    the generator), so a slow engine falls behind and its latency grows instead of the load
    easing off (closed-loop benchmarks hide exactly that). Latency: event received (committed)
    -> end of the delivering attempt, for every delivered message.
    """
    process, pipe, ports = _receivers(n_destinations)
    n_events = int(rate * seconds)
    events = make_events(n_events, [f"provider-{i}" for i in range(n_destinations)])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = _engine(tmp, ports)
            await engine.start()
            # The steady state is measured: not the start's own writes (the first daily check,
            # on a new store a prune, each a transaction that holds SQLite's one writer).
            # An engine without a daily prune (40008a0, the baseline) has no such tick.
            prune = getattr(engine, "daily_prune", None)
            if prune is not None:
                await asyncio.wait_for(prune.first_tick.wait(), timeout=60)
            tune_for_service()
            try:
                loop = asyncio.get_running_loop()
                t0 = loop.time()
                sent = 0
                late = 0.0
                submitting: set[asyncio.Task[Any]] = set()
                while sent < n_events:
                    due = min(n_events, int((loop.time() - t0) * rate) + 1)
                    if due > sent:
                        late = max(late, loop.time() - (t0 + sent / rate))
                        batch = events[sent:due]
                        task = asyncio.create_task(engine.intake.submit_many(batch, source="cli"))
                        submitting.add(task)
                        task.add_done_callback(submitting.discard)
                        sent = due
                    await asyncio.sleep(0.005)
                submit_s = loop.time() - t0
                while submitting:
                    await asyncio.gather(*submitting)
                settled = await engine.wait_settled(timeout=600, poll=0.005)
                messages = await engine.store.list_messages(MessageFilter(), limit=n_events * 2)
                delivered = [m for m in messages if m.status == "delivered"]
                parts = await latency_parts(engine.store, delivered, samples=5000)
                latencies = parts["total"]
            finally:
                await engine.stop()
    finally:
        pipe.send("stop")
        process.join()
    return {
        "destinations": n_destinations,
        "rate": rate,
        "achieved_rate": n_events / submit_s,
        "max_submit_lag_ms": late * 1000,
        "delivered": len(delivered),
        "settled": settled,
        **percentiles(latencies),
        **part_percentiles(parts),
        "max_ms": max(latencies, default=float("nan")),
    }


def map_pdf(seconds: float) -> dict[str, Any]:
    """``map_event`` for ref-v2 of the sample referral with a 5 MiB PDF (one core)."""
    import base64

    from mappings import MappingContext, map_event
    from schemas import parse_event

    data = json.loads((SAMPLES / "referral.json").read_text(encoding="utf-8"))
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4096 * 5
    data["attachments"] = [
        {
            "filename": "verwijsbrief.pdf",
            "content_type": "application/pdf",
            "data": base64.b64encode(pdf).decode("ascii"),
        }
    ]
    raw = json.dumps(data).encode()
    t_parse = time.perf_counter()
    event = parse_event(raw)
    parse_ms = (time.perf_counter() - t_parse) * 1000
    context = MappingContext(
        control_id="BENCH000000000000001",
        now=datetime.datetime.now(datetime.UTC),
        receiving_application="HIS",
        receiving_facility="ZNOORD",
    )
    n = 0
    size = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        size = len(map_event("ref-v2", event, context).data)
        n += 1
    per = (time.perf_counter() - t0) / n
    return {"maps": n, "ms_per_map": per * 1000, "maps_per_s": 1 / per, "parse_ms": parse_ms,
            "message_bytes": size}  # fmt: skip


async def rabbitmq(
    n_events: int,
    n_destinations: int,
    n_engines: int,
    rate: float | None = None,
    profile: Path | None = None,
    sample: Path | None = None,
    in_service: int = 0,
) -> dict[str, Any]:
    """RabbitMQ + PostgreSQL: engines are ``integrator run`` processes of the revision.

    With ``rate`` the events are published open loop at that many per second (each tick's
    events confirmed in a task of their own) instead of as fast as the broker confirms them,
    and the latency percentiles are of every delivered message (up to 5,000 sampled). With
    ``in_service``, that many events go through as a burst first and the database is analysed,
    as autovacuum keeps a store in service (``bench_rabbitmq.put_in_service``).
    """
    sys.argv = [sys.argv[0]]
    import bench_rabbitmq
    from pamqp.commands import Basic

    os.chdir(SOURCE)  # ``python -m integrator`` puts the working directory first on the path
    bench_rabbitmq.ROOT = SOURCE
    bench_rabbitmq.serve_receivers = ackserver.serve
    published_at: dict[str, float] = {}
    if rate is not None:

        async def paced_publish(topology: Any, events: list[bytes]) -> None:
            import aiormq
            from aiormq.abc import ConfirmationFrameType

            connection = await aiormq.connect(bench_rabbitmq.AMQP_URL)
            try:
                channel = await connection.channel(publisher_confirms=True)
                properties = Basic.Properties(content_type="application/json", delivery_mode=2)
                loop = asyncio.get_running_loop()
                confirms: list[asyncio.Future[ConfirmationFrameType | None]] = []
                ids = [json.loads(event)["event_id"] for event in events]
                t0, sent = loop.time(), 0
                while sent < len(events):
                    due = min(len(events), int((loop.time() - t0) * rate) + 1)
                    now = time.time()
                    published_at.update((event_id, now) for event_id in ids[sent:due])
                    confirms.extend(
                        asyncio.ensure_future(
                            channel.basic_publish(
                                body,
                                exchange=topology.intake_exchange,
                                routing_key="event.referral",
                                properties=properties,
                            )
                        )
                        for body in events[sent:due]
                    )
                    sent = due
                    await asyncio.sleep(0.005)
                await asyncio.gather(*confirms)
            finally:
                await connection.close()

        bench_rabbitmq.publish = paced_publish
    row = await bench_rabbitmq.scenario(
        n_events,
        n_destinations,
        n_engines,
        profile=profile,
        sample=sample,
        samples=1000 if rate is None else 5000,
        in_service=in_service,
        published_at=published_at if rate is not None else None,
    )
    if rate is not None:
        row["rate"] = rate
    return {k: v for k, v in row.items() if k != "setup"}


async def backlog(n_events: int, attachment_kib: int = 0) -> dict[str, Any]:
    """``n_events`` queued for a paused destination, then resumed: RSS while they pile up.

    ``rss_while_queueing_mib``: this process's resident memory before the first event and
    after each fifth of them (the harness keeps one batch of events at a time). With
    ``attachment_kib`` every referral carries a PDF of that size.
    """
    batch = BATCH if not attachment_kib else max(1, min(BATCH, 16 * 1024 // attachment_kib))
    process, pipe, ports = _receivers(1)
    rss: list[float | None] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = _engine(tmp, ports)
            await engine.start()
            tune_for_service()
            try:
                runner = engine._runners.pop("dest-0")  # paused: nothing is delivered
                await runner.stop()
                rss.append(_rss_mib())
                fifth = max(1, n_events // 5)
                for start in range(0, n_events, batch):
                    # Made batch by batch: the harness holds no more than one batch itself.
                    events = make_events(batch, ["provider-0"], attachment_kib=attachment_kib)
                    await engine.intake.submit_many(events, source="cli")
                    del events
                    if (start + batch) // fifth != start // fifth:
                        rss.append(_rss_mib())
                rss.append(_rss_mib())
                t0 = time.perf_counter()
                engine._start_destination(engine.catalog.destinations["dest-0"])
                settled = await engine.wait_settled(timeout=1200, poll=0.05)
                elapsed = time.perf_counter() - t0
                counts = await engine.store.count_by_status()
            finally:
                await engine.stop()
    finally:
        pipe.send("stop")
        process.join()
    return {
        "events": n_events,
        "attachment_kib": attachment_kib,
        "rss_while_queueing_mib": rss,
        "peak_rss_mib": peak_rss_mib(os.getpid()),
        "delivered": counts.get("delivered", 0),
        "settled": settled,
        "delivered_per_s_after_resume": counts.get("delivered", 0) / elapsed,
    }


def _floor(n_events: int) -> dict[str, Any]:
    """``floor.py``'s pipeline on the same events, against the same receiver as ``e2e``."""
    from floor import floor

    process, pipe, ports = _receivers(1)
    try:
        return floor(make_events(n_events, ["provider-0"]), ports[0])
    finally:
        pipe.send("stop")
        process.join()


def _rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "scenario",
        choices=[
            "e2e",
            "paced",
            "map-pdf",
            "rabbitmq",
            "rabbitmq-paced",
            "backlog",
            "floor",
            "http",
        ],
    )
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--destinations", type=int, default=1)
    parser.add_argument("--engines", type=int, default=1)
    parser.add_argument("--rate", type=float, default=None, help="paced: events per second")
    parser.add_argument(
        "--fraction",
        type=float,
        default=0.5,
        help="paced, rabbitmq-paced: this share of the delivered/s of a burst measured first",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline-seconds", type=float, default=1.5)
    parser.add_argument(
        "--in-flight", type=int, default=1, help="e2e: batches of 200 events submitted at once"
    )
    parser.add_argument(
        "--attachment-kib", type=int, default=0, help="backlog: a PDF of this size per referral"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        help="the engine's log level; info (a line per accepted event) as `integrator run` logs",
    )
    parser.add_argument(
        "--profile", type=Path, help="rabbitmq: cProfile (CPU time) the first engine into this file"
    )
    parser.add_argument(
        "--py-spy", type=Path, help="rabbitmq, http: py-spy's collapsed stacks of the first engine"
    )
    parser.add_argument(
        "--in-service",
        type=int,
        default=0,
        help="rabbitmq, rabbitmq-paced: this many events through first, then the database "
        "analysed (a store in service, not one made for the run)",
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="http: clients posting one event at a time each"
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="http: the engine's store (postgresql: a new database on 127.0.0.1:5432)",
    )
    args = parser.parse_args()
    configure_logging(level=args.log_level)
    result: dict[str, Any]
    if args.scenario == "map-pdf":
        result = map_pdf(args.seconds)
    elif args.scenario == "e2e":
        result = eventloop.run(
            e2e(args.events, args.destinations, args.baseline_seconds, args.in_flight)
        )
        result["in_flight"] = args.in_flight
    elif args.scenario == "paced":
        rate, burst = args.rate, None
        if rate is None:  # a share of what a burst of the same revision sustains, just now
            burst = eventloop.run(e2e(2000, args.destinations, 0))["delivered_per_s"]
            rate = args.fraction * burst
        result = eventloop.run(paced(args.destinations, rate, args.seconds))
        result["burst_delivered_per_s"] = burst
    elif args.scenario == "rabbitmq":
        events = int(args.rate * args.seconds) if args.rate else args.events
        result = eventloop.run(
            rabbitmq(
                events,
                *(args.destinations, args.engines, args.rate, args.profile, args.py_spy),
                in_service=args.in_service,
            )
        )
    elif args.scenario == "rabbitmq-paced":  # open loop at a share of the same setup's burst
        burst = eventloop.run(
            rabbitmq(args.events, args.destinations, args.engines, None, in_service=args.in_service)
        )
        rate = args.fraction * burst["delivered_per_s"]
        events = int(rate * args.seconds)
        result = eventloop.run(
            rabbitmq(
                events,
                *(args.destinations, args.engines, rate, args.profile, args.py_spy),
                in_service=args.in_service,
            )
        )
        result["burst_delivered_per_s"] = burst["delivered_per_s"]
    elif args.scenario == "floor":
        result = _floor(args.events)
    elif args.scenario == "http":
        import bench_http_intake

        result = eventloop.run(
            bench_http_intake.scenario(
                SOURCE, args.events, args.clients, sample=args.py_spy, store=args.store
            )
        )
    else:
        result = eventloop.run(backlog(args.events, args.attachment_kib))
    result["source"] = str(SOURCE)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
