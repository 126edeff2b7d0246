"""Whether the engine's resident memory levels off over an hour of RabbitMQ reconnects.

Soaks with the broker going away and coming back saw the engine's RSS rise by some 0.1-0.5 MiB
per reconnect early on (122 → 137 MB over 18 minutes), and none ran long enough to tell whether
it levels off (memory the allocator and the caches take once) or keeps growing (something kept
per connection, channel or outage).

One engine in this process, on RabbitMQ through a proxy (``tests.deploy.proxy``) and a SQLite
store in a temporary directory (``--postgres``: a fresh PostgreSQL database), with two
destinations on an ACK-only MLLP receiver in this process, so every message is delivered. For
``--minutes``: ``--rate`` events a second over ``intake.submit_many`` (the receiver forgets
what it got each second: it keeps every message otherwise), and every ``--cycle`` seconds the
proxy is cut, restored ``--down`` seconds later, and the transport waited for until it is
connected again with its consumers (``--cycle 0``: never cut, the control). Once a minute
(after ``gc.collect()``) a sample: RSS (and its anonymous and file parts: a store's file maps
count as RSS too), the reconnects so far, the events submitted, the messages delivered
(``count_by_status``), what the transport owes, the live tasks, the objects the collector
tracks (those ``tune_for_service`` froze left out), CPU seconds. Each sample is printed to
stderr as it is taken, with whatever the engine logs (``--log-level``, warnings by default); at
the end one JSON object on stdout: the series, the log lines by level and event, and a summary
(RSS at minutes 5 and 30 and at the end, and its slope, MiB per 10 minutes, over the first and
the last third). ``--tracemalloc``: the allocations that grew between minute ``--snapshot-at``
and the end, by line and by traceback (RSS is then larger, tracemalloc's own).

    .venv/bin/python bench/bench_reconnect_memory.py --minutes 60 > out.json 2> progress.txt
    .venv/bin/python bench/bench_reconnect_memory.py --minutes 3 --cycle 10
    .venv/bin/python bench/bench_reconnect_memory.py --minutes 30 --tracemalloc --snapshot-at 5

Needs RabbitMQ (``BENCH_AMQP_URL``, default guest on 127.0.0.1:5672); with ``--postgres``,
PostgreSQL on 127.0.0.1:5432 (trust, database ``test``). The stream is light (10 events/s, a
few percent of a core): the run measures what the reconnects leave behind, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

from common import bench_catalog, delete_topology, fresh_postgres, make_events  # noqa: E402

import integrator  # noqa: E402
from destinations.receiver import MllpReceiver  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.gcpolicy import tune_for_service  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.transport.rabbitmq import RabbitMQTransport  # noqa: E402
from tests.deploy.proxy import CuttableProxy  # noqa: E402
from tests.transport.helpers import eventually  # noqa: E402

#: The revision measured: its source tree.
SOURCE = Path(integrator.__file__).resolve().parent.parent
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
DESTINATIONS = 2
#: How long the transport has to see the cut, and to be back after the restore.
GONE_TIMEOUT_S = 30.0
BACK_TIMEOUT_S = 60.0
#: Tracemalloc's differences reported, by line and by traceback.
TOP_LINES = 25
TOP_TRACEBACKS = 8


class CountingStderr:
    """``sys.stderr`` as it was, counting the engine's log lines by level as they pass (its
    logger writes to whatever ``sys.stderr`` is then), and each warning's or error's event."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.levels: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def write(self, text: str) -> int:
        for line in text.splitlines():
            start = line.find("[")
            end = line.find("]", start)
            if start < 0 or end < 0 or start > 40:  # not a log line (a traceback's, a sample)
                continue
            level = line[start + 1 : end].strip()
            self.levels[level] += 1
            if level in ("warning", "error", "critical", "exception"):
                words = line[end + 1 :].split()
                event = " ".join(itertools.takewhile(lambda w: "=" not in w, words))
                self.events[f"{level}: {event}"] += 1
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _memory() -> dict[str, float]:
    """This process's resident memory now, MiB: the whole, its anonymous part, its file part,
    and the peak (``/proc/self/status``)."""
    fields = {"VmRSS": "rss_mib", "RssAnon": "anon_mib", "RssFile": "file_mib", "VmHWM": "hwm_mib"}
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            found[fields[key]] = round(int(value.split()[0]) / 1024, 1)
    if "rss_mib" not in found:
        raise RuntimeError("no VmRSS")
    return found


def _slope_per_10_min(series: list[dict[str, Any]], low: float, high: float) -> float | None:
    """RSS's least-squares slope, MiB per 10 minutes, over the samples from minute ``low`` to
    ``high``; None with fewer than three."""
    points = [(s["minute"], s["rss_mib"]) for s in series if low <= s["minute"] <= high]
    if len(points) < 3:
        return None
    slope, _ = statistics.linear_regression([p[0] for p in points], [p[1] for p in points])
    return round(slope * 10, 2)


def _at(series: list[dict[str, Any]], minute: float) -> float | None:
    """RSS at the sample of ``minute`` (the first at or after it), or None if none is."""
    later = [s for s in series if s["minute"] >= minute]
    return later[0]["rss_mib"] if later else None


def summary(series: list[dict[str, Any]], minutes: float) -> dict[str, Any]:
    third = minutes / 3
    first, last = series[0], series[-1]
    cycles = last["cycles"] - first["cycles"]
    return {
        "rss_start_mib": first["rss_mib"],
        "rss_min5_mib": _at(series, 5),
        "rss_min30_mib": _at(series, 30) if minutes >= 30 else None,
        "rss_end_mib": last["rss_mib"],
        "slope_first_third_mib_per_10min": _slope_per_10_min(series, 0, third),
        "slope_last_third_mib_per_10min": _slope_per_10_min(series, 2 * third, minutes),
        "rss_growth_per_cycle_mib": round((last["rss_mib"] - first["rss_mib"]) / cycles, 3)
        if cycles
        else None,
    }


def _diff(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, key: str, top: int
) -> list[dict[str, Any]]:
    """The allocations that grew most from ``before`` to ``after``, grouped by ``key``."""
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), key)
    return [
        {
            "size_diff_kib": round(s.size_diff / 1024, 1),
            "count_diff": s.count_diff,
            "size_kib": round(s.size / 1024, 1),
            "where": s.traceback.format(limit=None if key == "traceback" else 1),
        }
        for s in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:top]
    ]


@contextlib.asynccontextmanager
async def _store_url(postgres: bool, tmp: str) -> AsyncIterator[str]:
    if postgres:
        async with fresh_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp}/bench.db"


class Soak:
    """The run's counters and its three loops: the stream, the cuts, the samples."""

    def __init__(self, engine: Engine, proxy: CuttableProxy, receiver: MllpReceiver) -> None:
        self.engine = engine
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        self.transport = transport
        self.proxy = proxy
        self.receiver = receiver
        self.providers = [f"provider-{n}" for n in range(DESTINATIONS)]
        self.submitted = 0
        self.submit_errors: Counter[str] = Counter()
        self.cycles = 0
        self.back_s: list[float] = []
        self.stopping = False
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()

    def minute(self) -> float:
        return round((self.loop.time() - self.started) / 60, 2)

    async def stream(self, rate: int) -> None:
        """``rate`` events every second until ``stopping``, each second's at once (not
        cancelled: a submit cut short leaves messages stored and never published)."""
        tick = self.loop.time()
        while not self.stopping:
            events = make_events(rate, self.providers, first=self.submitted)
            try:
                await self.engine.intake.submit_many(events, source="cli")
            except Exception as exc:
                self.submit_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            else:
                self.submitted += rate
            self.receiver.clear()  # it keeps every message otherwise
            tick += 1.0
            await asyncio.sleep(max(0.0, tick - self.loop.time()))

    def _back(self) -> bool:
        t = self.transport
        return (
            t.link.connected
            and t._publisher is not None
            and all(c.channel is not None for c in t._consumers.values())
        )

    async def cuts(self, cycle: float, down: float) -> None:
        """Every ``cycle`` seconds: cut the proxy, restore it ``down`` seconds later and wait
        until the transport is back; until ``stopping`` (a cycle under way is finished). The
        cuts are half a cycle off the minute, so the samples come between them."""
        n = 1
        while not self.stopping:
            await asyncio.sleep(max(0.0, self.started + (n - 0.5) * cycle - self.loop.time()))
            n += 1
            if self.stopping:
                return
            await self.proxy.cut()
            if not await eventually(
                lambda: not self.transport.link.connected, timeout=GONE_TIMEOUT_S
            ):
                raise RuntimeError("the engine still sees the broker through the cut proxy")
            await asyncio.sleep(down)
            await self.proxy.restore()
            t0 = self.loop.time()
            if not await eventually(self._back, timeout=BACK_TIMEOUT_S):
                raise RuntimeError(f"the engine was not back {BACK_TIMEOUT_S:.0f} s after restore")
            self.back_s.append(self.loop.time() - t0)
            self.cycles += 1

    async def sample(self) -> dict[str, Any]:
        gc.collect()
        minute, memory, cycles, submitted = self.minute(), _memory(), self.cycles, self.submitted
        counts = await self.engine.store.count_by_status()  # a second's submit may end meanwhile
        back = self.back_s[-10:]
        row = {
            "minute": minute,
            **memory,
            "cycles": cycles,
            "submitted": submitted,
            "delivered": counts["delivered"],
            "not_delivered": sum(n for status, n in counts.items() if status != "delivered"),
            "owed": self.transport.owed(),
            "tasks": len(asyncio.all_tasks()),
            "gc_objects": len(gc.get_objects()),
            "cpu_s": round(time.process_time(), 1),
            "back_s_last10_max": round(max(back), 2) if back else None,
            "received_total": self.receiver.message_count,
            "receiver_connections": self.receiver.connection_count,
        }
        print("sample " + " ".join(f"{k}={v}" for k, v in row.items()), file=sys.stderr, flush=True)
        return row


async def soak(options: argparse.Namespace) -> dict[str, Any]:
    broker = urlsplit(AMQP_URL)
    proxy = CuttableProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    port = await proxy.start()
    via_proxy = broker._replace(netloc=f"{broker.username}:{broker.password}@127.0.0.1:{port}")
    receiver = MllpReceiver()
    receiver_port = await receiver.start()
    catalog = bench_catalog([receiver_port] * DESTINATIONS)
    series: list[dict[str, Any]] = []
    snapshot: tracemalloc.Snapshot | None = None
    grown: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with _store_url(options.postgres, tmp) as url:
            settings = Settings(
                database_url=url,
                destinations_dir=Path(tmp),
                amqp_url=via_proxy.geturl(),
                amqp_prefix=f"integrator.bench.{uuid.uuid4().hex[:12]}",
            )
            engine = Engine(settings, catalog=catalog, http=False)
            await engine.start()
            tune_for_service()
            run = Soak(engine, proxy, receiver)
            topology = run.transport.topology
            tasks: list[asyncio.Task[None]] = []
            try:
                series.append(await run.sample())
                tasks.append(asyncio.create_task(run.stream(options.rate)))
                if options.cycle > 0:
                    tasks.append(asyncio.create_task(run.cuts(options.cycle, options.down)))
                for minute in range(1, options.minutes + 1):
                    wait = run.started + minute * 60 - run.loop.time()
                    done, _ = await asyncio.wait(tasks, timeout=max(0.0, wait))
                    for task in done:
                        task.result()  # a loop that failed ends the run, saying why
                        raise RuntimeError("a loop of the run ended early")
                    series.append(await run.sample())
                    if options.tracemalloc and minute == options.snapshot_at:
                        snapshot = tracemalloc.take_snapshot()
                if snapshot is not None:
                    end = tracemalloc.take_snapshot()
                    grown = {
                        "from_minute": options.snapshot_at,
                        "by_line": _diff(snapshot, end, "lineno", TOP_LINES),
                        "by_traceback": _diff(snapshot, end, "traceback", TOP_TRACEBACKS),
                    }
                    del snapshot, end
                run.stopping = True  # the second's submit and the cut under way end first
                await asyncio.wait_for(
                    asyncio.gather(*tasks), options.cycle + GONE_TIMEOUT_S + BACK_TIMEOUT_S + 60
                )
                drained = await eventually(
                    lambda: _all_delivered(engine, run.submitted), timeout=120, poll=1.0
                )
                counts = await engine.store.count_by_status()
            finally:
                for task in tasks:
                    task.cancel()
                await proxy.restore_if_cut()
                await engine.stop()
                await receiver.stop()
                await proxy.close()
                await delete_topology(AMQP_URL, topology, list(catalog.destinations))
    return {
        "minutes": options.minutes,
        "cycle_s": options.cycle,
        "down_s": options.down,
        "rate_per_s": options.rate,
        "store": "postgresql" if options.postgres else "sqlite",
        "tracemalloc": options.tracemalloc,
        "series": series,
        "summary": summary(series, options.minutes),
        "cycles": run.cycles,
        "back_s_mean": round(statistics.fmean(run.back_s), 2) if run.back_s else None,
        "back_s_max": round(max(run.back_s), 2) if run.back_s else None,
        "submitted": run.submitted,
        "submit_errors": dict(run.submit_errors),
        "drained": drained,
        "final_counts": counts,
        "received_total": receiver.message_count,
        "grown": grown,
        "source": str(SOURCE),
    }


async def _all_delivered(engine: Engine, messages: int) -> bool:
    """Whether every message of the run is delivered (one per event: a destination each),
    and none is anything else (queued, retrying, dead, ...)."""
    counts = await engine.store.count_by_status()
    return counts["delivered"] >= messages and not any(
        n for status, n in counts.items() if status != "delivered"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=int, default=60, help="the run's length")
    parser.add_argument("--cycle", type=float, default=20.0, help="seconds per cut (0: none)")
    parser.add_argument("--down", type=float, default=3.0, help="seconds cut each time")
    parser.add_argument("--rate", type=int, default=10, help="events per second")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--log-level", default="warning", help="the engine's (stderr)")
    parser.add_argument("--tracemalloc", action="store_true", help="what grew, by allocation")
    parser.add_argument("--tracemalloc-frames", type=int, default=10)
    parser.add_argument("--snapshot-at", type=int, default=10, help="tracemalloc's first, min")
    options = parser.parse_args()
    if options.minutes < 1:
        parser.error("--minutes: one at least")
    if options.cycle and options.cycle <= options.down:
        parser.error("--cycle: longer than --down")
    if options.tracemalloc and not 0 < options.snapshot_at < options.minutes:
        parser.error("--snapshot-at: a minute within the run, before its end")
    if options.tracemalloc:
        tracemalloc.start(options.tracemalloc_frames)
    counting = CountingStderr(sys.stderr)
    sys.stderr = counting
    configure_logging(level=options.log_level)
    result = eventloop.run(soak(options))
    result["log_lines"] = dict(counting.levels)
    result["log_events"] = dict(counting.events.most_common())
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
