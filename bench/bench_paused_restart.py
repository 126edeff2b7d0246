"""What an engine's restart costs the broker behind a paused destination's backlog (RabbitMQ).

A hospital's interface engine is down for maintenance, its destination paused (``enabled:
false``), and referrals queue up for it. Every start of an engine, leader take-over and engine
leaving re-published every pending message, that destination's too: nobody consumes its queue,
so each restart copied the whole backlog into it again (the copies are checked against the
store only when delivered, after the resume). Since 2026-12-07 the recovery leader leaves a
paused destination out and re-publishes its messages once, at its resume.

Per side (REV, then the working tree, each in its own process with its source first on
``PYTHONPATH``): an engine on RabbitMQ and a SQLite store with one paused destination takes
``--events`` referrals, and stops; a second engine starts on the same store and broker (the
recovery leader's take-over at a start). Printed: the paused queue's messages after the first
engine and after the restart, the copies the restart added, the seconds from the second
engine's start until its re-publish is done, and that process's CPU seconds for it.

    .venv/bin/python bench/bench_paused_restart.py REV --events 2000 10000

Needs RabbitMQ (``BENCH_AMQP_URL``, default guest on 127.0.0.1:5672). One run per size: the
counts do not move from run to run, the seconds do (read them as direction).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ab  # noqa: E402
from common import bench_catalog, delete_topology, make_events  # noqa: E402

import integrator  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.transport.topology import Topology  # noqa: E402
from tests.transport.helpers import eventually  # noqa: E402

#: The revision measured: its source tree (``ab.run_json`` checks that it is the one asked for).
SOURCE = Path(integrator.__file__).resolve().parent.parent
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
BATCH = 200
PAUSED, PROVIDER = "dest-0", "provider-0"  # ``bench_catalog``'s one destination
#: Nothing listens there: the destination is paused.
NOWHERE = 9


async def _queued(topology: Topology) -> int:
    """The paused destination's messages in the broker now."""
    import aiormq

    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        ok = await channel.queue_declare(topology.delivery_queue(PAUSED), passive=True)
        return ok.message_count or 0
    finally:
        await connection.close()


async def side(n_events: int) -> dict[str, Any]:
    """One side's figures for a restart behind ``n_events`` messages for a paused destination."""
    catalog = bench_catalog([NOWHERE], paused=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            destinations_dir=Path(tmp),
            amqp_url=AMQP_URL,
            amqp_prefix=f"integrator.bench.{uuid.uuid4().hex[:12]}",
        )
        topology = Topology(settings.amqp_prefix)
        try:
            first = Engine(settings, catalog=catalog, http=False)
            await first.start()
            try:
                for n in range(0, n_events, BATCH):
                    events = make_events(min(BATCH, n_events - n), [PROVIDER], first=n)
                    await first.intake.submit_many(events, source="cli")
            finally:
                await first.stop()
            before = await _queued(topology)
            second = Engine(settings, catalog=catalog, http=False)
            cpu, wall = time.process_time(), time.perf_counter()
            await second.start()
            try:
                leader = second.recovery
                if not await eventually(
                    lambda: leader is not None and leader.recovered.is_set(), timeout=600
                ):
                    raise RuntimeError("the restarted engine did not re-publish within 600 s")
                recovered_s = time.perf_counter() - wall
                recovered_cpu_s = time.process_time() - cpu
                after = await _queued(topology)
            finally:
                await second.stop()
        finally:
            await delete_topology(AMQP_URL, topology, [PAUSED])
    return {
        "events": n_events,
        "queued_before": before,
        "queued_after": after,
        "copies": after - before,
        "recovered_s": round(recovered_s, 2),
        "recovered_cpu_s": round(recovered_cpu_s, 2),
        "source": str(SOURCE),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument("--events", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--side", action="store_true", help="measure the revision on the path")
    options = parser.parse_args()
    if options.side:
        configure_logging(level="error")
        print(json.dumps(eventloop.run(side(options.events[0]))))
        return 0
    if options.rev is None:
        parser.error("REV is required")
    rows = ab.per_size(
        options.rev,
        options.events,
        lambda events: [str(Path(__file__).resolve()), "--side", "--events", str(events)],
        name="paused-restart",
    )
    print(ab.heading(options.rev, None, 1, "one per size"))
    print(
        "| messages for the paused destination | in its queue after the restart: A | B "
        "| copies the restart added: A | B "
        "| start until re-published, s: A | B | the restart's CPU, s: A | B |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in rows:
        print(
            f"| {a['events']:,} | {a['queued_after']:,} | {b['queued_after']:,} "
            f"| {a['copies']:,} | {b['copies']:,} "
            f"| {a['recovered_s']:.2f} | {b['recovered_s']:.2f} "
            f"| {a['recovered_cpu_s']:.2f} | {b['recovered_cpu_s']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
