"""RabbitMQ: what ``destinations remove --force`` dead-letters is not sent when the destination
comes back, although its copies stay in the broker's delivery queue.

The removal dead-letters the waiting messages in the store only. The copies a consumer had
prefetched came back ``redelivered`` and were checked against the store; the ones the broker had
never handed out were not, so the runner started by a rollback sent them and their attempts
turned ``dead`` into ``delivered`` (support may have resent those dead letters meanwhile: the
referral twice at the hospital). Every message waiting in the queue when a consumer starts is
now checked (``rabbitmq._Waiting``); what the store still lists as pending is delivered as
before, and what is published after the start costs no store read.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.topology import Topology
from tests.integrator.support import destination, settings_for
from tests.services import free_port, require_rabbitmq
from tests.transport.conftest import Harness
from tests.transport.helpers import delete_topology, eventually, unique_prefix

pytestmark = pytest.mark.rabbitmq

DEST = "noord"
PREFETCH = 200  # the engine's per destination
COUNT = 260  # more than the prefetch: some copies are never handed to the consumer


@dataclass
class Site:
    engine: Engine
    receiver: MllpReceiver
    url: str
    prefix: str


@asynccontextmanager
async def site(tmp_path: Path, retry: dict[str, str]) -> AsyncIterator[Site]:
    """An engine on RabbitMQ with one fifo destination on a port nobody listens on yet."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    port = free_port()
    settings = settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix)
    settings.destinations_dir.mkdir()
    config = destination(DEST, port, providers=["ziekenhuis-noord"], retry=retry)
    (settings.destinations_dir / f"{DEST}.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    receiver = MllpReceiver(port=port)
    try:
        yield Site(engine, receiver, url, prefix)
    finally:
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [DEST])


async def submit(engine: Engine, referral: dict[str, Any], count: int) -> list[str]:
    """``count`` new referrals for the destination; their message ids, in order."""
    events = []
    for _ in range(count):
        event = copy.deepcopy(referral)
        event["event_id"] = str(uuid.uuid4())
        events.append(json.dumps(event))
    results = await engine.intake.submit_many(events, source="cli")
    accepted = [r for r in results if isinstance(r, IntakeResult)]
    assert len(accepted) == count
    return [m.message_id for r in accepted for m in r.messages]


async def ready_in_broker(s: Site) -> int:
    """Messages in the delivery queue that no consumer has been handed."""
    connection = await aiormq.connect(s.url)
    try:
        channel = await connection.channel()
        ok = await channel.queue_declare(Topology(s.prefix).delivery_queue(DEST), passive=True)
        return ok.message_count or 0
    finally:
        await connection.close()


async def statuses(engine: Engine, ids: list[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for message_id in ids:
        record = await engine.store.get_message(message_id)
        assert record is not None
        counted[record.status] = counted.get(record.status, 0) + 1
    return counted


async def control_ids(engine: Engine, ids: list[str]) -> list[str]:
    found = []
    for message_id in ids:
        record = await engine.store.get_message(message_id)
        assert record is not None
        found.append(record.control_id)
    return found


def received_control_ids(receiver: MllpReceiver) -> list[str]:
    """MSH-10 of every frame the receiver got, in order (no payload beyond it is read)."""
    return [frame.split(b"\r", 1)[0].split(b"|")[9].decode() for frame in receiver.received]


async def test_a_rollback_does_not_send_what_a_forced_removal_dead_lettered(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with site(tmp_path, {"initial": "1h", "max_delay": "1h", "max_age": "24h"}) as s:
        ids = await submit(s.engine, referral_data, COUNT)
        # The first attempt is refused and waits out an hour; the prefetch is in the engine,
        # the rest was never handed out (no redelivered flag on them).
        assert await eventually(lambda: _ready_is(s, COUNT - PREFETCH), timeout=20)

        change = await s.engine.admin.remove(DEST, actor="local:anna", force=True, reason="gone")
        assert change.dead_lettered == COUNT and change.revision is not None
        assert await statuses(s.engine, ids) == {"dead": COUNT}
        assert await ready_in_broker(s) == COUNT  # the copies are still there

        await s.receiver.start()  # the hospital is back
        await s.engine.admin.rollback(
            DEST, change.revision - 1, actor="local:anna", reason="removed by mistake"
        )
        # A new referral queues behind every copy left: once it is delivered, they were all
        # received, and skipped or sent.
        (later,) = await submit(s.engine, referral_data, 1)
        assert await eventually(lambda: _delivered(s.engine, later), timeout=30)

        assert received_control_ids(s.receiver) == await control_ids(s.engine, [later])
        assert await statuses(s.engine, ids) == {"dead": COUNT}
        assert await ready_in_broker(s) == 0  # the skipped copies are acked, not left behind


async def test_messages_pending_when_their_destination_returns_are_delivered(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The check drops nothing the store still lists as pending: a paused destination with
    copies never handed out gets each of them once when it is resumed."""
    async with site(tmp_path, {"initial": "1s", "max_delay": "1s", "max_age": "24h"}) as s:
        ids = await submit(s.engine, referral_data, COUNT)
        assert await eventually(lambda: _ready_is(s, COUNT - PREFETCH), timeout=20)

        await s.engine.admin.set_enabled(DEST, False, actor="local:anna", reason="maintenance")
        await s.receiver.start()
        await s.engine.admin.set_enabled(DEST, True, actor="local:anna")

        assert await eventually(lambda: _all_delivered(s.engine, ids), timeout=60, poll=0.25), (
            await statuses(s.engine, ids)
        )
        await asyncio.sleep(0.5)  # a second copy, if any, would arrive meanwhile
        assert received_control_ids(s.receiver) == await control_ids(s.engine, ids)


async def test_only_what_waited_when_the_consumer_started_costs_a_store_read(
    rabbit: Harness,
) -> None:
    """Transport level: of the messages waiting when the consumer starts, the dead ones are
    acked and skipped and the pending ones handed out; what is published after the start is
    handed out without a store read (the steady state)."""
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    checked: list[str] = []
    still_pending = transport._still_pending
    assert still_pending is not None

    async def counting(message_id: str, *, payload: bool = True) -> OutboundMessage | None:
        checked.append(message_id)
        assert not payload  # only whether it is owed: a waiting copy goes out as published
        return await still_pending(message_id, payload=payload)

    transport.configure(still_pending=counting)
    waiting = await rabbit.messages("dest-a", 5)
    await transport.publish(waiting)
    for dead in (waiting[1], waiting[3]):  # a forced removal's dead letters, say
        await rabbit.store.set_status(dead.message_id, "dead")

    handed: list[str] = []
    for _ in range(3):
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        handed.append(delivery.message.message_id)
        await rabbit.done(delivery.message)
        await delivery.settle()
    assert handed == [waiting[i].message_id for i in (0, 2, 4)]
    assert checked == [m.message_id for m in waiting]

    later = await rabbit.messages("dest-a", 3)
    await transport.publish(later)
    for message in later:
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        assert delivery.message.message_id == message.message_id
        await rabbit.done(delivery.message)
        await delivery.settle()
    assert checked == [m.message_id for m in waiting]  # no read for the later ones


async def _ready_is(s: Site, count: int) -> bool:
    return await ready_in_broker(s) == count


async def _delivered(engine: Engine, message_id: str) -> bool:
    record = await engine.store.get_message(message_id)
    return record is not None and record.status == "delivered"


async def _all_delivered(engine: Engine, ids: list[str]) -> bool:
    return await statuses(engine, ids) == {"delivered": len(ids)}
