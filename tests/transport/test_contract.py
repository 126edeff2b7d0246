"""The transport contract, once, against the embedded transport and RabbitMQ."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from destinations.worker import OutboundMessage
from integrator.transport import Delivery, Transport
from tests.transport.conftest import Harness
from tests.transport.helpers import eventually


async def receive(transport: Transport, destination_id: str, timeout: float = 10.0) -> Delivery:
    return await asyncio.wait_for(transport.receive(destination_id), timeout)


async def nothing_more(transport: Transport, destination_id: str, wait: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(transport.receive(destination_id), wait)
    except TimeoutError:
        return True
    return False


def ids(messages: list[OutboundMessage]) -> list[str]:
    return [m.message_id for m in messages]


async def delivered(
    harness: Harness, transport: Transport, destination_id: str, count: int
) -> list[OutboundMessage]:
    """The next ``count`` messages for ``destination_id``, each handled as a worker does
    (its final status recorded, then settled)."""
    got = []
    for _ in range(count):
        delivery = await receive(transport, destination_id)
        got.append(delivery.message)
        await harness.done(delivery.message)
        await delivery.settle()
    return got


async def test_order_is_kept_per_destination(harness: Harness) -> None:
    a = await harness.messages("dest-a", 30)
    b = await harness.messages("dest-b", 30)
    transport = await harness.open()
    interleaved = [m for pair in zip(a, b, strict=True) for m in pair]
    await transport.publish(interleaved[:20])
    await transport.publish(interleaved[20:])

    got = {d: await delivered(harness, transport, d, 30) for d in ("dest-a", "dest-b")}
    assert ids(got["dest-a"]) == ids(a)
    assert ids(got["dest-b"]) == ids(b)
    assert [m.payload for m in got["dest-a"]] == [m.payload for m in a]
    assert [m.control_id for m in got["dest-a"]] == [m.control_id for m in a]
    assert await nothing_more(transport, "dest-a")


async def test_pending_counts_waiting_messages(harness: Harness) -> None:
    messages = await harness.messages("dest-a", 3)
    transport = await harness.open()
    assert transport.pending("dest-b") == 0
    await transport.publish(messages)
    assert await eventually(lambda: transport.pending("dest-a") == 3)

    delivery = await receive(transport, "dest-a")
    assert await eventually(lambda: transport.pending("dest-a") == 2)
    await harness.done(delivery.message)
    await delivery.settle()
    assert transport.pending("dest-b") == 0


async def test_settled_messages_are_not_given_again(harness: Harness) -> None:
    messages = await harness.messages("dest-a", 3)
    transport = await harness.open()
    await transport.publish(messages)
    for _ in messages:
        delivery = await receive(transport, "dest-a")
        await harness.done(delivery.message)
        await delivery.settle()

    transport = await harness.reopen(transport)
    assert await nothing_more(transport, "dest-a", wait=1.0)


async def test_unsettled_messages_come_back_after_a_restart(harness: Harness) -> None:
    messages = await harness.messages("dest-a", 4)
    transport = await harness.open()
    await transport.publish(messages)
    first = await receive(transport, "dest-a")
    await harness.done(first.message)
    await first.settle()
    second = await receive(transport, "dest-a")  # taken, never settled: the engine stopped
    assert second.message.message_id == messages[1].message_id

    transport = await harness.reopen(transport)
    again = await delivered(harness, transport, "dest-a", 3)
    assert ids(again) == ids(messages[1:])
    assert again[0].control_id == messages[1].control_id  # the same MSH-10 when sent again
    assert await nothing_more(transport, "dest-a")


async def test_releasing_a_destination_loses_nothing(harness: Harness) -> None:
    # A paused destination's messages stay for whoever delivers it next.
    messages = await harness.messages("dest-a", 2)
    transport = await harness.open()
    await transport.publish(messages)
    await transport.release("dest-a")
    transport = await harness.reopen(transport)
    got = await delivered(harness, transport, "dest-a", 2)
    assert ids(got) == ids(messages)


async def test_publishing_the_same_pending_message_twice_delivers_it_once(
    harness: Harness,
) -> None:
    # Recovery re-publishes what may still be queued; the receiver must not send it twice.
    messages = await harness.messages("dest-a", 2)
    transport = await harness.open()
    await transport.publish(messages)
    await transport.republish(messages)
    got = await delivered(harness, transport, "dest-a", 2)
    assert ids(got) == ids(messages)
    assert await nothing_more(transport, "dest-a")


async def test_a_release_from_held_travels_with_the_message(harness: Harness) -> None:
    """Where a released message's max_age counts from (``destinations.retry.age_start``) must
    reach the worker through either transport, or the release would be forgotten."""
    [plain, released] = await harness.messages("dest-a", 2)
    moment = released.created_at + timedelta(days=3)
    released = dataclasses.replace(released, released_at=moment)
    transport = await harness.open()
    await transport.publish([plain, released])

    got = await delivered(harness, transport, "dest-a", 2)
    assert [m.released_at for m in got] == [None, moment]
