"""The engine's peak memory on RabbitMQ with large events: the store away, or a destination down.

RabbitMQ bounds a consumer by a prefetch *count* (800 on the intake queue, 200 per delivery
queue), whatever the bodies weigh, and the engine keeps what it was pushed while the store is away
(the intake keeps its batches and tries them again) or a destination is down (a retry holds the
queue and the prefetched messages wait behind it). The byte budgets (``transport/budget.py``)
bound that by bytes. Two scenarios, each run for REV and for the working tree (one process each,
``integrator run`` on RabbitMQ and a fresh PostgreSQL database):

- ``intake``: PostgreSQL reached through a proxy (``tests.deploy.proxy``) that is cut, then
  ``--events`` events with a letter of ``--letter-mib`` MiB are published to the intake exchange
  and the engine is left ``--hold`` seconds; then the store is back and every event must be
  delivered (to a receiver in this process).
- ``delivery``: the store up, the destination's port refusing connections: the events are taken
  in and their messages pile up for the destination; ``--hold`` seconds later the receiver
  listens and every message must be delivered.

Printed per scenario: the engine's peak RSS (``VmHWM``) at the end of the hold and over the whole
run, its RSS at the end of the hold (in ``delivery`` the peak is the intake's work on the large
events, the RSS then what the destination's queue holds), the messages the broker still held
ready then, and the seconds from the store's (or the receiver's) return to the last delivery;
B's figures against A's as ratios.

    .venv/bin/python bench/amqp_memory.py HEAD                      # intake and delivery
    .venv/bin/python bench/amqp_memory.py HEAD --scenario intake --events 80 --letter-mib 4

Needs RabbitMQ (``BENCH_AMQP_URL``, default guest on 127.0.0.1:5672) and PostgreSQL on
127.0.0.1:5432 (trust, database ``test``). One run per scenario and side: memory, not time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiormq
import yaml
from pamqp.commands import Basic

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ab  # noqa: E402
from common import delete_topology, free_port, fresh_postgres, peak_rss_mib  # noqa: E402

import integrator  # noqa: E402
from destinations.receiver import MllpReceiver  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.store import Store  # noqa: E402
from integrator.transport.topology import Topology  # noqa: E402
from tests.deploy.proxy import CuttableProxy  # noqa: E402

#: The revision measured: its source tree (``ab.run_json`` checks that it is the one asked for).
SOURCE = Path(integrator.__file__).resolve().parent.parent
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_HOST, PG_PORT = "127.0.0.1", 5432
PROVIDER = "provider-0"
DESTINATION = "dest-0"
SAMPLE = HERE.parent / "config" / "samples" / "referral.json"


def events(n: int, letter_mib: float) -> list[bytes]:
    """``n`` referrals for ``PROVIDER``, each with a PDF letter of ``letter_mib`` MiB."""
    base = json.loads(SAMPLE.read_text())
    pdf = b"%PDF-1.4\n" + os.urandom(int(letter_mib * 1024 * 1024))
    base["attachments"] = [
        {
            "filename": "verwijsbrief.pdf",
            "content_type": "application/pdf",
            "data": base64.b64encode(pdf).decode("ascii"),
        }
    ]
    bodies = []
    for i in range(n):
        event = copy.copy(base)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD{500000000 + i:09d}"
        event["provider"] = {**base["provider"], "id": PROVIDER}
        bodies.append(json.dumps(event).encode())
    return bodies


async def publish(topology: Topology, bodies: list[bytes]) -> None:
    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await asyncio.gather(
            *(
                channel.basic_publish(
                    body,
                    exchange=topology.intake_exchange,
                    routing_key="event.referral",
                    properties=Basic.Properties(content_type="application/json", delivery_mode=2),
                )
                for body in bodies
            )
        )
    finally:
        await connection.close()


async def queue_state(queue: str) -> tuple[int, int]:
    """Messages ready in ``queue`` and its consumers (0, 0 while it does not exist)."""
    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        ok = await channel.queue_declare(queue, passive=True)
        return int(ok.message_count or 0), int(ok.consumer_count or 0)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return 0, 0
    finally:
        await connection.close()


def rss_mib(pid: int) -> float | None:
    """A live process's resident memory now (Linux ``VmRSS``); None where unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def destination_file(directory: Path, port: int) -> None:
    data = {
        "id": DESTINATION,
        "name": "Destination 0",
        "providers": [PROVIDER],
        "host": "127.0.0.1",
        "port": port,
        "messages": {"referral": "ref-v2"},
        "connect_timeout": "1s",
        # Down for the hold: tried again every second, never a dead letter meanwhile.
        "retry": {
            "initial": "200ms",
            "multiplier": 2,
            "max_delay": "1s",
            "max_attempts": 1000,
            "max_age": "1h",
        },
    }
    (directory / f"{DESTINATION}.yaml").write_text(yaml.safe_dump(data))


async def side(scenario: str, n_events: int, letter_mib: float, hold_s: float) -> dict[str, Any]:
    """One side's figures: ``integrator run`` of the tree on ``PYTHONPATH`` in a process."""
    bodies = events(n_events, letter_mib)
    topology = Topology(f"integrator.bench.{uuid.uuid4().hex[:12]}")
    port = free_port()
    receiver = MllpReceiver(port=port)
    proxy = CuttableProxy(PG_HOST, PG_PORT)
    through = await proxy.start()
    async with fresh_postgres() as database:
        store: Store | None = None
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp) / "destinations"
            directory.mkdir()
            destination_file(directory, port)
            env = {
                **os.environ,
                "INTEGRATOR_DATABASE_URL": database.replace(
                    f"@{PG_HOST}:{PG_PORT}/", f"@127.0.0.1:{through}/"
                ),
                "INTEGRATOR_SEARCH_KEY": "bench-search-key-of-this-run",
                "INTEGRATOR_AMQP_URL": AMQP_URL,
                "INTEGRATOR_AMQP_PREFIX": topology.prefix,
                "INTEGRATOR_DESTINATIONS_DIR": str(directory),
                "INTEGRATOR_LOG_LEVEL": "error",
            }
            engine = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "integrator", "run", "--no-http"),
                cwd=SOURCE,
                env=env,
                stdout=(Path(tmp) / "engine.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            try:
                for _ in range(300):
                    if (await queue_state(topology.intake_queue))[1]:
                        break
                    await asyncio.sleep(0.2)
                started_mib = peak_rss_mib(engine.pid)
                store = await Store.open(database)  # the engine made its schema
                if scenario == "intake":
                    await receiver.start()
                    await proxy.cut()
                await publish(topology, bodies)
                await asyncio.sleep(hold_s)
                held_mib = peak_rss_mib(engine.pid)
                now_mib = rss_mib(engine.pid)
                queue = (
                    topology.intake_queue
                    if scenario == "intake"
                    else topology.delivery_queue(DESTINATION)
                )
                ready = (await queue_state(queue))[0]
                t0 = time.perf_counter()
                if scenario == "intake":
                    await proxy.restore()
                else:
                    await receiver.start()
                deadline = t0 + 600
                while (await store.count_by_status())["delivered"] < n_events:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("not every event was delivered within 600 s")
                    await asyncio.sleep(0.25)
                back_s = time.perf_counter() - t0
                run_mib = peak_rss_mib(engine.pid)
                sent = len(receiver.received)
            finally:
                engine.send_signal(signal.SIGTERM)
                await asyncio.wait_for(engine.wait(), 60)
                if store is not None:
                    await store.close()
                await receiver.stop()
                await proxy.close()
                await delete_topology(AMQP_URL, topology, [DESTINATION])
    return {
        "scenario": scenario,
        "events": n_events,
        "letter_mib": letter_mib,
        "body_bytes": len(bodies[0]),
        "started_mib": round(started_mib or 0, 1),
        "held_mib": round(held_mib or 0, 1),
        "now_mib": round(now_mib or 0, 1),
        "run_mib": round(run_mib or 0, 1),
        "ready": ready,
        "back_s": round(back_s, 1),
        "sent": sent,
        "source": str(SOURCE),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument(
        "--scenario", choices=["intake", "delivery"], nargs="+", default=["intake", "delivery"]
    )
    parser.add_argument("--events", type=int, default=80)
    parser.add_argument("--letter-mib", type=float, default=4.0)
    parser.add_argument("--hold", type=float, default=15.0, help="seconds the outage lasts")
    parser.add_argument("--side", action="store_true", help="measure the revision on the path")
    options = parser.parse_args()
    if options.side:
        figures = side(options.scenario[0], options.events, options.letter_mib, options.hold)
        print(json.dumps(eventloop.run(figures)))
        return 0
    if options.rev is None:
        parser.error("REV is required")
    scenarios: list[str] = options.scenario
    rows = ab.per_size(  # by the scenario's place in the list
        options.rev,
        range(len(scenarios)),
        lambda n: [
            str(Path(__file__).resolve()),
            *("--side", "--scenario", scenarios[n], "--events", str(options.events)),
            *("--letter-mib", str(options.letter_mib), "--hold", str(options.hold)),
        ],
        name="amqp-memory",
    )
    print(ab.heading(options.rev, None, 1, "one per scenario"))
    print(
        "| scenario | events × body | engine peak MiB, end of the hold: A | B | B smaller by "
        "| RSS MiB then: A | B | B smaller by | peak over the run: A | B | B smaller by "
        "| ready in the broker then: A | B | back to all delivered, s: A | B |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in rows:
        size = f"{a['events']} × {a['body_bytes'] / 1024 / 1024:.1f} MiB"
        cells = [a["scenario"], size]
        for key in ("held_mib", "now_mib", "run_mib"):
            cells += [f"{a[key]:,.0f}", f"{b[key]:,.0f}", f"{a[key] / b[key]:.1f}x"]
        cells += [str(a["ready"]), str(b["ready"]), f"{a['back_s']:.1f}", f"{b['back_s']:.1f}"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
