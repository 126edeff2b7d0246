"""What a waiting ``rotate`` retry costs the engine: resident memory per retry, as a ratio.

A receiver that answers AE to everything leaves every queued message of a ``rotate``
destination waiting for its next turn. Each waited in a task of its own (its coroutines, a
``wait_for`` timer, a future); now it is an entry in its runner's schedule. Per side (REV, then
the working tree, each in its own process with its source first on ``PYTHONPATH``): the engine
in the measuring process, its rotate destination's runner stopped while ``--events`` referrals
are queued (as ``scenarios.py backlog`` does), then started against a receiver in another
process that answers AE to each, with a backoff of an hour, until every message waits for its
retry. Printed: the RSS growth from the queued to the all-waiting state per waiting retry, the
asyncio tasks and gc-tracked objects per waiting retry, and B's figures against A's.

    .venv/bin/python bench/bench_rotate_waiting.py REV --events 20000 100000

One round per size: the figures are memory, not time, and move little from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ab  # noqa: E402
import ackserver  # noqa: E402
from common import make_events  # noqa: E402

import integrator  # noqa: E402
from destinations.config import destination_from_mapping  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.catalog import build_catalog  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.gcpolicy import tune_for_service  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402

#: The revision measured: its source tree (``ab.run_json`` checks that it is the one asked for).
SOURCE = Path(integrator.__file__).resolve().parent.parent

BATCH = 200
DEST = "dest-0"
#: Far beyond the run: every retry waits the whole time.
AN_HOUR = {"initial": "1h", "multiplier": 1, "max_delay": "1h", "max_attempts": 5}


_AA_FOR = ackserver.ack_for


def _ae_for(message: bytes) -> bytes:
    return _AA_FOR(message).replace(b"\rMSA|AA|", b"\rMSA|AE|", 1)


def _serve_ae(conn: Connection) -> None:
    """Child process: one receiver answering AE (try again) to every message."""
    ackserver.ack_for = _ae_for  # what its protocol answers with
    ackserver.serve(1, conn)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def side(n_events: int) -> dict[str, Any]:
    """One side's figures for ``n_events`` waiting retries (the revision on the path)."""
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_serve_ae, args=(child,))
    receiver.start()
    [port] = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = destination_from_mapping(
                {
                    "id": DEST,
                    "name": "Destination 0",
                    "providers": ["provider-0"],
                    "host": "127.0.0.1",
                    "port": port,
                    "messages": {"referral": "ref-v2"},
                    "ordering": "rotate",
                    "retry": AN_HOUR,
                },
                source=f"{DEST}.yaml",
            )
            database = f"sqlite:///{tmp}/bench.db"
            settings = Settings(database_url=database, destinations_dir=Path(tmp))
            catalog = build_catalog([(f"{DEST}.yaml", config)], today=datetime.date.today())
            engine = Engine(settings, catalog=catalog)
            await engine.start()
            tune_for_service()
            try:
                runner = engine._runners.pop(DEST)  # stopped while they queue
                await runner.stop()
                for _ in range(0, n_events, BATCH):
                    events = make_events(BATCH, ["provider-0"])
                    await engine.intake.submit_many(events, source="cli")
                    del events
                gc.collect()
                rss_queued, objects_queued = _rss_mib(), len(gc.get_objects())
                tasks_queued = len(asyncio.all_tasks())
                t0 = time.perf_counter()
                engine._start_destination(engine.catalog.destinations[DEST])
                await _all_waiting(engine, n_events)
                waited_s = time.perf_counter() - t0
                await engine.drain()
                gc.collect()
                rss_waiting, objects_waiting = _rss_mib(), len(gc.get_objects())
                tasks_waiting = len(asyncio.all_tasks())
            finally:
                await engine.stop()
    finally:
        parent.send("stop")
        receiver.join()
    return {
        "events": n_events,
        "rss_queued_mib": round(rss_queued, 1),
        "rss_waiting_mib": round(rss_waiting, 1),
        "rss_kib_per_retry": round((rss_waiting - rss_queued) * 1024 / n_events, 3),
        "tasks_per_retry": round((tasks_waiting - tasks_queued) / n_events, 4),
        "objects_per_retry": round((objects_waiting - objects_queued) / n_events, 2),
        "all_waiting_after_s": round(waited_s, 1),
        "source": str(SOURCE),
    }


async def _all_waiting(engine: Engine, n_events: int) -> None:
    while True:
        if engine.retries_waiting(DEST) >= n_events:
            return
        await asyncio.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument("--events", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--side", action="store_true", help="measure the revision on the path")
    options = parser.parse_args()
    if options.side:
        configure_logging(level="error")  # not a line per failed attempt or repeated ZD number
        print(json.dumps(eventloop.run(side(options.events[0]))))
        return 0
    if options.rev is None:
        parser.error("REV is required")
    rows = ab.per_size(
        options.rev,
        options.events,
        lambda events: [str(Path(__file__).resolve()), "--side", "--events", str(events)],
        name="rotate-waiting",
    )
    print(ab.heading(options.rev, None, 1, "one per size"))
    print(
        "| waiting retries | RSS queued → all waiting, MiB: A | B "
        "| RSS KiB per waiting retry: A | B | B smaller by "
        "| tasks per retry: A | B | gc objects per retry: A | B |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in rows:
        ratio = a["rss_kib_per_retry"] / b["rss_kib_per_retry"] if b["rss_kib_per_retry"] else 0
        print(
            f"| {a['events']:,} | {a['rss_queued_mib']:.0f} → {a['rss_waiting_mib']:.0f} "
            f"| {b['rss_queued_mib']:.0f} → {b['rss_waiting_mib']:.0f} "
            f"| {a['rss_kib_per_retry']:.2f} | {b['rss_kib_per_retry']:.2f} | {ratio:.1f}x "
            f"| {a['tasks_per_retry']:.2f} | {b['tasks_per_retry']:.2f} "
            f"| {a['objects_per_retry']:.1f} | {b['objects_per_retry']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
