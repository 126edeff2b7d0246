"""CPU of the delivery side alone: a destination's loop sending pre-mapped messages.

    .venv/bin/python bench/delivery_only.py [--profile]

No intake and no store: the messages are put on the embedded transport's queue, and attempts
go to a sink that only counts, so what is measured is the runner, the worker, the MLLP client
and the ACK check, against the bench's ACK-only receiver in another process.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import json
import multiprocessing
import os
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ackserver  # noqa: E402
from scenarios import _sample_payload  # noqa: E402

from destinations.config import destination_from_mapping  # noqa: E402
from destinations.worker import AttemptResult, OutboundMessage  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.clock import SystemClock  # noqa: E402
from integrator.delivery import DestinationRunner  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.transport.embedded import EmbeddedTransport  # noqa: E402

N = 5000


async def _nothing_stored(ids: Sequence[str]) -> list[OutboundMessage]:
    """No store here: every message is acknowledged, so no retry is ever read back."""
    return []


class _Sink:
    def __init__(self) -> None:
        self.count = 0
        self.done = asyncio.Event()

    async def record(self, result: AttemptResult) -> None:
        self.count += 1
        if self.count == N:
            self.done.set()


async def run(port: int, profile: bool) -> dict[str, float]:
    payload = _sample_payload()
    control = payload.split(b"|")[9].decode()
    config = destination_from_mapping(
        {"id": "d", "name": "D", "providers": ["p"], "host": "127.0.0.1", "port": port,
         "messages": {"referral": "ref-v2"}},
        source="d.yaml",
    )  # fmt: skip
    transport = EmbeddedTransport()
    now = datetime.datetime.now(datetime.UTC)
    await transport.publish(
        [OutboundMessage(f"m{i}", "d", control, payload, now) for i in range(N)]
    )
    sink = _Sink()
    runner = DestinationRunner(
        config, transport=transport, sink=sink, clock=SystemClock(), load=_nothing_stored
    )
    profiler = cProfile.Profile() if profile else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    runner.start()
    await sink.done.wait()
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    await runner.stop()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return {"cpu_us_per_message": cpu / N * 1e6, "messages_per_s": N / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", action="store_true")
    profile = parser.parse_args().profile
    configure_logging(level="warning")
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=ackserver.serve, args=(1, child))
    receiver.start()
    try:
        port = parent.recv()[0]
        print(json.dumps(eventloop.run(run(port, profile))))
    finally:
        parent.send("stop")
        receiver.join()


if __name__ == "__main__":
    main()
