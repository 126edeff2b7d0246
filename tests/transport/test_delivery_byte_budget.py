"""A destination's delivery queue holds HL7 payloads within a byte budget, not a prefetch alone.

The broker pushes the consumer's whole prefetch (200) whatever the messages weigh, and while a
destination is down the worker keeps the head message and the prefetched ones wait behind it: 200
messages of 67 MiB each, per destination. The queue has a single active consumer, so it cannot
be consumed again with a smaller prefetch without handing the destination to another engine
while this one holds its head; instead the payloads beyond ``budget.DELIVERY_BUDGET_BYTES`` are
not kept, and are read from the store when their turn comes. Here a receiver refuses
connections (nothing listens on its port) while messages twice the budget's size pile up: the
engine holds all of them in order, but at most the budget of their payloads. Once the receiver
listens every message is delivered, each once, with the bytes the store has.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import MessageFilter, StoreUnavailable
from integrator.transport import budget, rabbitmq
from integrator.transport.outbox import outbound_message
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.integrator.support import destination, settings_for
from tests.services import free_port, require_rabbitmq
from tests.store.factories import make_event, make_message
from tests.transport.conftest import Harness
from tests.transport.helpers import (
    PROVIDER,
    TODAY,
    all_delivered,
    delete_topology,
    eventually,
    make_events,
    publish_events,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

BUDGET = 1024 * 1024
#: Each event carries a letter of this size: an HL7 message of some 520 KB, half the budget.
LETTER_BYTES = 384 * 1024
EVENTS = 8


@pytest.fixture
async def broker() -> AsyncIterator[tuple[str, str]]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    try:
        yield url, prefix
    finally:
        await delete_topology(url, prefix, [PROVIDER])


def with_letter(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * (LETTER_BYTES // 256)
    data = base64.b64encode(pdf).decode("ascii")
    large = copy.deepcopy(events)
    for event in large:
        event["attachments"] = [
            {"filename": "verwijsbrief.pdf", "content_type": "application/pdf", "data": data}
        ]
    return large


async def test_payloads_beyond_the_budget_wait_in_the_store_while_the_destination_is_down(
    tmp_path: Path,
    broker: tuple[str, str],
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, prefix = broker
    monkeypatch.setattr(budget, "DELIVERY_BUDGET_BYTES", BUDGET)
    port = free_port()  # nothing listens: every connect is refused
    config = destination(
        PROVIDER,
        port,
        providers=[PROVIDER],
        retry={
            "initial": "50ms",
            "multiplier": 2,
            "max_delay": "200ms",
            "max_attempts": 1000,
            "max_age": "1h",
        },
    )
    engine = Engine(
        settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix),
        catalog=build_catalog([(f"{PROVIDER}.yaml", config)], today=TODAY),
    )
    await engine.start()
    receiver = MllpReceiver(port=port)
    try:
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        await publish_events(
            url, prefix, with_letter(make_events(referral_data, [PROVIDER], EVENTS))
        )

        def waiting() -> list[Any]:
            consumer = transport._consumers.get(PROVIDER)
            return list(consumer.queue._queue) if consumer is not None else []  # type: ignore[attr-defined]

        # The head message is in the worker's hands, retrying; the others are in the engine.
        assert await eventually(lambda: len(waiting()) == EVENTS - 1, timeout=60)
        sizes = [len(item.message.payload) for item in waiting()]
        assert sum(sizes) <= BUDGET
        assert sizes.count(0) >= EVENTS - 3  # read from the store when their turn comes
        messages = await engine.store.list_messages(MessageFilter(), limit=EVENTS * 2)
        assert len(messages) == EVENTS and all(len(m.payload) > BUDGET // 2 for m in messages)

        await receiver.start()
        assert await eventually(lambda: all_delivered(engine, EVENTS), timeout=60)
        sent = [read_msh(m).control_id for m in receiver.received]
        assert len(sent) == len(set(sent)) == EVENTS  # each once, in order, as stored
        assert receiver.received == [m.payload for m in sorted(messages, key=lambda m: m.seq)]
    finally:
        await engine.stop()
        await receiver.stop()


async def test_a_payload_left_to_the_store_is_read_in_its_turn_also_after_the_store_was_away(
    rabbit: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transport alone: the first payload fits the budget, the others are read from the
    store in their turn; a store that fails twice is asked again (the queue waits, in order),
    and a message delivered meanwhile is passed over."""
    monkeypatch.setattr(budget, "DELIVERY_BUDGET_BYTES", 150_000)
    monkeypatch.setattr(rabbitmq, "RELOAD_PAUSE", 0.05)
    stored = []
    for n in range(4):
        new = make_message(destination_id="dest-a", payload=bytes([65 + n]) * 100_000)
        await rabbit.store.accept_event(make_event(), [new])
        record = await rabbit.store.get_message(new.id)
        assert record is not None
        stored.append(outbound_message(record))
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    reads = 0
    still_pending = transport._still_pending
    assert still_pending is not None

    async def away_twice(message_id: str, *, payload: bool = True) -> OutboundMessage | None:
        nonlocal reads
        reads += 1
        if reads <= 2:
            raise StoreUnavailable("the store does not answer")
        return await still_pending(message_id, payload=payload)

    transport.configure(still_pending=away_twice)
    first = asyncio.ensure_future(transport.receive("dest-a"))
    assert await eventually(lambda: "dest-a" in transport._consumers)
    assert await eventually(lambda: transport._consumers["dest-a"].channel is not None)
    await asyncio.sleep(0.2)  # consuming: nothing waited in the queue before
    await rabbit.store.set_status(stored[2].message_id, "delivered")
    await transport.publish(stored)
    got = [await asyncio.wait_for(first, 10)]
    # All three others came while the first payload was held: none fitted beside it. (Settled
    # sooner, a later one could fit and be kept whole, and a kept first delivery is not
    # checked against the store.)
    assert await eventually(lambda: transport._consumers["dest-a"].queue.qsize() == 3)
    await got[0].settle()
    for _ in range(2):
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        got.append(delivery)
        await delivery.settle()
    kept = [stored[0], stored[1], stored[3]]
    assert [d.message.message_id for d in got] == [m.message_id for m in kept]
    assert [d.message.payload for d in got] == [m.payload for m in kept]
    assert [d.message.control_id for d in got] == [m.control_id for m in kept]
    assert reads == 2 + 3  # two failures, then the three payloads left to the store
    assert transport._consumers["dest-a"].budget.held == 0
