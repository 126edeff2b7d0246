"""What validating and mapping cost inside a burst, against the same calls alone.

    .venv/bin/python bench/in_situ.py                    # 8,000 events, 1 destination
    .venv/bin/python bench/in_situ.py --events 4000 --destinations 10

Micro-benchmarks (``bench_validation.py``, ``bench_mapping.py``) call one function in a loop:
its code, its tables and the memory it allocates stay in the CPU's caches. In the engine the
same calls take turns with delivery, the store's writer thread and the receiver's process on two
cores, and the figures differ by 1.5-2.5x. This runs the ``e2e`` burst of ``scenarios.py`` with
``parse_event`` and ``map_event`` timed where intake calls them (``integrator.preparing``; CPU of
the event loop's thread), then the same calls alone on the same events, and prints both; and,
from ``/proc``, each thread's CPU and context switches per event (an involuntary switch is the
scheduler taking the core away, with the GIL held if the event loop was running). One JSON
line, one process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import scenarios  # noqa: E402
from common import make_events  # noqa: E402

from integrator import eventloop, preparing  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from mappings import MappingContext, map_event  # noqa: E402
from schemas import parse_event  # noqa: E402


def _timed(function: Callable[..., Any], total: list[float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            total[0] += time.thread_time() - t0

    return timed


def _threads() -> dict[str, dict[str, float]]:
    """CPU seconds and context switches of each of this process's threads, from /proc."""
    found: dict[str, dict[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            status = Path(f"/proc/self/task/{tid}/status").read_text()
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        values = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        found[tid] = {
            "cpu_s": (int(fields[11]) + int(fields[12])) / tick,
            "voluntary": int(values["voluntary_ctxt_switches"]),
            "involuntary": int(values["nonvoluntary_ctxt_switches"]),
        }
    return found


async def _burst(events: int, destinations: int) -> dict[str, Any]:
    """The e2e burst, with the threads' figures read while it runs (threads end with it)."""
    main = str(os.getpid())
    before = _threads()[main]  # start-up (imports) is not the burst's
    last: dict[str, dict[str, float]] = {}
    task = asyncio.create_task(scenarios.e2e(events, destinations, 0))
    while not task.done():
        await asyncio.sleep(0.1)
        last.update(_threads())
    row = await task
    loop_thread = {key: (value - before[key]) / events for key, value in last[main].items()}
    row["event_loop_thread"] = {
        "cpu_us": round(loop_thread["cpu_s"] * 1e6, 1),
        "voluntary_switches": round(loop_thread["voluntary"], 2),
        "involuntary_switches": round(loop_thread["involuntary"], 2),
    }
    others = sum(value["cpu_s"] for tid, value in last.items() if tid != main)
    row["other_threads_cpu_us"] = round(others / events * 1e6, 1)
    return row


def _alone(events: list[bytes], repeat: int) -> tuple[float, float]:
    """CPU µs per call of parse_event and map_event, called in a loop on these events."""
    context = MappingContext(
        control_id="BENCH000000000000001",
        now=datetime.datetime.now(datetime.UTC),
        receiving_application="HIS",
        receiving_facility="ZNOORD",
    )
    parsed = [parse_event(raw) for raw in events[:repeat]]
    t0 = time.thread_time()
    for raw in events[:repeat]:
        parse_event(raw)
    t1 = time.thread_time()
    for event in parsed:
        map_event("ref-v2", event, context)
    t2 = time.thread_time()
    return (t1 - t0) / repeat * 1e6, (t2 - t1) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--destinations", type=int, default=1)
    args = parser.parse_args()
    configure_logging(level="info")  # as `integrator run` and scenarios.py log: no debug lines
    parse_total, map_total = [0.0], [0.0]
    for name, total in (("parse_event", parse_total), ("map_event", map_total)):
        setattr(preparing, name, _timed(getattr(preparing, name), total))
    row = eventloop.run(_burst(args.events, args.destinations))
    alone_parse, alone_map = _alone(make_events(2000, ["provider-0"]), 2000)
    row.update(
        parse_event_in_burst_us=round(parse_total[0] / args.events * 1e6, 1),
        parse_event_alone_us=round(alone_parse, 1),
        map_event_in_burst_us=round(map_total[0] / args.events * 1e6, 1),
        map_event_alone_us=round(alone_map, 1),
    )
    print(json.dumps(row))


if __name__ == "__main__":
    main()
