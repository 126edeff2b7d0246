"""Broker helpers for transport tests: a private namespace per test, deleted afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiormq
from pamqp.commands import Basic

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.transport.topology import Topology
from tests.deploy.proxy import CuttableProxy
from tests.integrator.support import destination, settings_for
from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_rabbitmq

#: The one provider, and its destination of the same id, of ``one_destination_engine``.
PROVIDER = "ziekenhuis-noord"
TODAY = date(2026, 11, 27)


def unique_prefix() -> str:
    return f"integrator.test.{uuid.uuid4().hex[:12]}"


async def delete_topology(url: str, prefix: str, destinations: Iterable[str]) -> None:
    """Delete every queue and exchange the transport may have declared under ``prefix``."""
    topology = Topology(prefix)
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        queues = [topology.intake_queue, topology.dead_queue]
        queues += [topology.delivery_queue(d) for d in destinations]
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in (
            topology.intake_exchange,
            topology.delivery_exchange,
            topology.dead_exchange,
        ):
            await channel.exchange_delete(exchange)
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float = 10.0,
    poll: float = 0.05,
) -> bool:
    """Poll ``check`` until it holds; False after ``timeout`` (the caller asserts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(poll)


def make_events(base: dict[str, Any], providers: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` distinct referral events, spread round-robin over ``providers``."""
    events = []
    for i in range(count):
        event = copy.deepcopy(base)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD{300000000 + i:09d}"
        event["provider"]["id"] = providers[i % len(providers)]
        events.append(event)
    return events


async def publish_events(
    url: str, prefix: str, events: list[dict[str, Any]], *, declare: bool = True
) -> None:
    """Publish to the intake exchange as an upstream system does (docs/amqp.md).

    ``declare``: declare the topology first, so a test may publish before any engine ran;
    False publishes only, as an upstream system that declares nothing (a deleted intake queue
    then stays deleted, unless the engine declares it again).
    """
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        if declare:
            await Topology(prefix).declare_common(channel)
        await asyncio.gather(
            *(
                channel.basic_publish(
                    json.dumps(event).encode(),
                    exchange=Topology(prefix).intake_exchange,
                    routing_key=f"event.{event['type']}",
                    properties=Basic.Properties(
                        content_type="application/json",
                        delivery_mode=2,
                        message_id=event["event_id"],
                    ),
                )
                for event in events
            )
        )
    finally:
        await connection.close()


async def publish_raw(url: str, prefix: str, bodies: list[bytes]) -> None:
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await Topology(prefix).declare_common(channel)
        for body in bodies:
            await channel.basic_publish(
                body,
                exchange=Topology(prefix).intake_exchange,
                routing_key="event.referral",
                properties=Basic.Properties(content_type="application/json", delivery_mode=2),
            )
    finally:
        await connection.close()


def one_destination_engine(tmp_path: Path, receiver_port: int, **settings: Any) -> Engine:
    """An engine (not started) delivering ``PROVIDER``'s events to one destination at
    ``receiver_port``; ``settings`` are the transport's and the store's (``settings_for``)."""
    config = destination(PROVIDER, receiver_port, providers=[PROVIDER])
    return Engine(
        settings_for(tmp_path, **settings),
        catalog=build_catalog([(f"{PROVIDER}.yaml", config)], today=TODAY),
    )


async def all_delivered(engine: Engine, count: int) -> bool:
    """Whether ``count`` messages are delivered (for ``eventually``)."""
    counts = await engine.store.count_by_status()
    return counts["delivered"] == count


async def queue_consumers(url: str, queue: str) -> int:
    """How many consumers the broker has on ``queue`` (0 when there is no such queue): asked
    on a connection of its own, with a passive declare, so nothing is made here."""
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        ok = await channel.queue_declare(queue, passive=True)
        return int(ok.consumer_count or 0)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return 0
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


@dataclass
class StoreBehindProxy:
    """An engine on RabbitMQ delivering ``PROVIDER``'s events to ``receiver``, which reaches its
    PostgreSQL database through ``proxy``: cut, the store is away as a server gone away."""

    engine: Engine
    url: str
    prefix: str
    proxy: CuttableProxy
    receiver: MllpReceiver


@contextlib.asynccontextmanager
async def store_behind_proxy(tmp_path: Path, database: str) -> AsyncIterator[StoreBehindProxy]:
    """A started ``StoreBehindProxy`` on ``database`` (the ``database`` fixture's URL) and a
    topology of its own, all stopped and deleted afterwards."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
    through = await proxy.start()
    receiver = MllpReceiver()
    engine = one_destination_engine(
        tmp_path,
        await receiver.start(),
        database_url=database.replace(
            f"@{POSTGRES_HOST}:{POSTGRES_PORT}/", f"@127.0.0.1:{through}/"
        ),
        amqp_url=url,
        amqp_prefix=prefix,
        search_key="a-test-search-key-of-enough-length",
    )
    await engine.start()
    try:
        yield StoreBehindProxy(engine, url, prefix, proxy, receiver)
    finally:
        await proxy.restore_if_cut()
        await engine.stop()
        await proxy.close()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])
