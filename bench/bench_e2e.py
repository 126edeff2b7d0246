"""End-to-end throughput and latency on the embedded default.

Events in (intake: validate, route, map, commit) -> delivered over real MLLP sockets on loopback
-> ACK parsed and checked -> attempt committed. Receivers are the project's own fast test
receiver, one per destination, in a separate process (a hospital's engine is not in ours).
Latency per message is measured from the store: event ``received_at`` to the end of the
delivering attempt.

    .venv/bin/python bench/bench_e2e.py            # 20,000 events per scenario
    .venv/bin/python bench/bench_e2e.py --quick    # 2,000 events per scenario

The engine runs in this process on the event loop and collector settings of ``integrator run``.

Writes ``bench/results/e2e.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402
    make_events,
    peak_rss_mib,
    percentiles,
    results_table,
    sampled_latencies,
    serve_receivers,
)

from destinations.config import destination_from_mapping  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.catalog import build_catalog  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.gcpolicy import tune_for_service  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.store import MessageFilter  # noqa: E402

BATCH = 200


async def scenario(n_events: int, n_destinations: int) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    receivers = multiprocessing.Process(target=serve_receivers, args=(n_destinations, child))
    receivers.start()
    ports: list[int] = parent.recv()
    providers = [f"provider-{i}" for i in range(n_destinations)]
    configs = [
        destination_from_mapping(
            {
                "id": f"dest-{i}",
                "name": f"Destination {i}",
                "providers": [providers[i]],
                "host": "127.0.0.1",
                "port": port,
                "messages": {"referral": "ref-v2"},
            },
            source=f"dest-{i}.yaml",
        )
        for i, port in enumerate(ports)
    ]
    events = make_events(n_events, providers)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", destinations_dir=Path(tmp))
        catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=date.today())
        engine = Engine(settings, catalog=catalog)
        await engine.start()
        tune_for_service()  # as ``integrator run`` does
        try:
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            for start in range(0, len(events), BATCH):
                await engine.intake.submit_many(events[start : start + BATCH], source="cli")
            intake_s = time.perf_counter() - t0
            settled = await engine.wait_settled(timeout=600, poll=0.01)
            elapsed = time.perf_counter() - t0
            cpu_s = time.process_time() - cpu0
            messages = await engine.store.list_messages(MessageFilter(), limit=n_events * 2)
            delivered = [m for m in messages if m.status == "delivered"]
            latencies = await sampled_latencies(engine.store, delivered)
        finally:
            await engine.stop()
            parent.send("stop")
            receivers.join()
    return {
        "setup": "embedded + SQLite",
        "destinations": n_destinations,
        "events": n_events,
        "delivered": len(delivered),
        "settled": settled,
        "intake_per_s": n_events / intake_s,
        "delivered_per_s": len(delivered) / elapsed,
        **percentiles(latencies),
        # The engine runs in this process, so these include the harness's submitting.
        "engine_cpu_us": cpu_s / n_events * 1e6,
        "engine_rss_mib": peak_rss_mib(os.getpid()),
    }


async def main(quick: bool) -> None:
    configure_logging(level="warning")
    n = 2_000 if quick else 20_000
    rows = [await scenario(n, 1), await scenario(n, 10)]
    text = (
        "# End-to-end: events in -> delivered with a validated ACK\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"`bench/bench_e2e.py{' --quick' if quick else ''}`. Latency is measured during a burst "
        "(all events submitted as fast as intake takes them), so it includes queueing. The engine "
        "runs in the bench's own process on `integrator run`'s event loop and collector settings; "
        "its CPU column includes submitting the events.\n\n" + results_table(rows) + "\n"
    )
    print(text)
    out = ROOT / "bench" / "results" / "e2e.md"
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    eventloop.run(main(parser.parse_args().quick))
