"""What an event accepted while RabbitMQ is away costs the engine's memory until it is back.

The RabbitMQ transport remembers every message it could not publish, to publish it after the
reconnect. Held whole (payload and all), two hours at 50 events/s were some 360,000 messages
and most of a gigabyte, more with attachments; by id, the payloads stay in the store.

Per side (REV, then the working tree, each in its own process with its source first on
``PYTHONPATH``): the engine in the measuring process, on RabbitMQ through a proxy that is then
cut (the broker itself keeps running), takes ``--events`` referrals over
``intake.submit_many`` (200 a batch, spread over 10 destinations), each answered accepted with
its messages queued in the store. Printed: the RSS growth from after the first batch (the
working memory of one batch is taken by then: with attachments it is most of it) to after the
last, per message remembered meanwhile; what the transport's memory of them holds
(``_unconfirmed``, its objects' sizes summed, each object once) per message; and B's figures
against A's. The RSS growth includes what the store's connections and the allocator keep,
alike on both sides.

    .venv/bin/python bench/bench_broker_away.py REV --events 20000 50000
    .venv/bin/python bench/bench_broker_away.py REV --events 1000 4000 --attachment-kib 128

Needs RabbitMQ (``BENCH_AMQP_URL``, default guest on 127.0.0.1:5672). One round per size: the
figures are memory, not time, and move little from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

import ab  # noqa: E402
from common import bench_catalog, delete_topology, make_events  # noqa: E402

import integrator  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.engine import Engine  # noqa: E402
from integrator.gcpolicy import tune_for_service  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.transport.rabbitmq import RabbitMQTransport  # noqa: E402
from tests.deploy.proxy import CuttableProxy  # noqa: E402
from tests.transport.helpers import eventually  # noqa: E402

#: The revision measured: its source tree (``ab.run_json`` checks that it is the one asked for).
SOURCE = Path(integrator.__file__).resolve().parent.parent
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
BATCH = 200
DESTINATIONS = 10
#: Nothing listens there: nothing is delivered while the broker is away anyway.
NOWHERE = 9


def _held_bytes(root: object) -> int:
    """The sizes of ``root`` and every object it reaches through containers, dataclass fields
    and slots, each counted once (a destination id shared by many messages, once)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, bool | int):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset):
            stack += list(obj)
        elif hasattr(obj, "__dataclass_fields__"):
            stack += [getattr(obj, name) for name in obj.__dataclass_fields__]
    return total


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def side(n_events: int, attachment_kib: int) -> dict[str, Any]:
    """One side's figures for ``n_events`` events accepted while the broker is away."""
    broker = urlsplit(AMQP_URL)
    proxy = CuttableProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    port = await proxy.start()
    via_proxy = broker._replace(netloc=f"{broker.username}:{broker.password}@127.0.0.1:{port}")
    providers = [f"provider-{n}" for n in range(DESTINATIONS)]
    catalog = bench_catalog([NOWHERE] * DESTINATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            destinations_dir=Path(tmp),
            amqp_url=via_proxy.geturl(),
            amqp_prefix=f"integrator.bench.{uuid.uuid4().hex[:12]}",
        )
        engine = Engine(settings, catalog=catalog)
        await engine.start()
        tune_for_service()
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        try:
            await proxy.cut()
            if not await eventually(lambda: not transport.link.connected):
                raise RuntimeError("the engine still sees the broker through the cut proxy")
            for n in range(0, n_events, BATCH):
                events = make_events(BATCH, providers, attachment_kib=attachment_kib)
                await engine.intake.submit_many(events, source="cli")
                del events
                if n == 0:  # from here: the allocator has seen a batch's peak already
                    gc.collect()
                    rss_before, first = _rss_mib(), len(transport._unconfirmed)
            gc.collect()
            rss_after = _rss_mib()
            remembered = len(transport._unconfirmed)
            held = _held_bytes(transport._unconfirmed)
            back = await _back(engine, transport, proxy, providers)
        finally:
            await engine.stop()
            await delete_topology(AMQP_URL, transport.topology, list(catalog.destinations))
    return {
        "events": n_events,
        "attachment_kib": attachment_kib,
        "remembered": remembered,
        "rss_before_mib": round(rss_before, 1),
        "rss_after_mib": round(rss_after, 1),
        "rss_kib_per_message": round((rss_after - rss_before) * 1024 / (remembered - first), 3),
        "held_bytes_per_message": round(held / remembered),
        **back,
        "source": str(SOURCE),
    }


async def _back(
    engine: Engine, transport: RabbitMQTransport, proxy: CuttableProxy, providers: list[str]
) -> dict[str, float]:
    """The broker back: how long until the transport has published what it owed, and how long
    a batch of 10 events submitted at the reconnect waits for its answer meanwhile (published
    after what was accepted before it, since 2026-12-03)."""
    await proxy.restore()
    if not await eventually(
        lambda: transport.link.connected and transport._publisher is not None, timeout=30
    ):
        raise RuntimeError("the engine did not reconnect through the restored proxy")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await engine.intake.submit_many(make_events(10, providers), source="cli")
    answered = loop.time() - t0
    if not await eventually(lambda: not transport._unconfirmed, timeout=600):
        raise RuntimeError("the transport still owes messages after 600 s")
    return {"new_batch_answered_s": round(answered, 2), "caught_up_s": round(loop.time() - t0, 2)}


def _s(row: dict[str, Any], key: str) -> str:
    """A side's seconds, or "-" for a revision from before they were measured."""
    return f"{row[key]:.2f}" if key in row else "-"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument("--events", type=int, nargs="+", default=[20000, 50000])
    parser.add_argument("--attachment-kib", type=int, default=0, help="a PDF on each referral")
    parser.add_argument("--side", action="store_true", help="measure the revision on the path")
    options = parser.parse_args()
    if any(events <= BATCH for events in options.events or ()):
        parser.error(f"--events: more than one batch ({BATCH}) each: the first is the baseline")
    if options.side:
        configure_logging(level="error")  # not a warning per batch published nowhere
        print(json.dumps(eventloop.run(side(options.events[0], options.attachment_kib))))
        return 0
    if options.rev is None:
        parser.error("REV is required")
    rows = ab.per_size(
        options.rev,
        options.events,
        lambda events: [
            str(Path(__file__).resolve()),
            *("--side", "--events", str(events)),
            *("--attachment-kib", str(options.attachment_kib)),
        ],
        name="broker-away",
    )
    print(ab.heading(options.rev, None, 1, "one per size"))
    print(
        "| messages accepted, broker away | attachment KiB "
        "| RSS after the first batch → the last, MiB: A | B "
        "| RSS KiB per message: A | B | B smaller by "
        "| held by the transport, bytes per message: A | B "
        "| back: owed published after, s: A | B "
        "| 10 events submitted then answered after, s: A | B |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in rows:
        per_a, per_b = a["rss_kib_per_message"], b["rss_kib_per_message"]
        ratio = f"{per_a / per_b:.1f}x" if per_b > 0 else "-"
        print(
            f"| {a['remembered']:,} | {a['attachment_kib']} "
            f"| {a['rss_before_mib']:.0f} → {a['rss_after_mib']:.0f} "
            f"| {b['rss_before_mib']:.0f} → {b['rss_after_mib']:.0f} "
            f"| {per_a:.2f} | {per_b:.2f} | {ratio} "
            f"| {a['held_bytes_per_message']:,} | {b['held_bytes_per_message']:,} "
            f"| {_s(a, 'caught_up_s')} | {_s(b, 'caught_up_s')} "
            f"| {_s(a, 'new_batch_answered_s')} | {_s(b, 'new_batch_answered_s')} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
