"""A delivery queue deleted under a running transport: nothing is dropped, nothing stops.

Without handling, the broker's ``basic.cancel`` left the destination's consumer gone while the
engine looked connected, and a publish to the missing queue was confirmed and dropped (the
exchange had no binding). Each test deletes only its own prefix's queue, from its own
connection, as an operator's ``rabbitmqctl delete_queue`` would.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiormq
import pytest
from structlog.testing import capture_logs

from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.skipped import SKIPPED, SKIPPED_SINCE, SkippedCopies
from integrator.transport.topology import Topology
from tests.transport.conftest import Harness
from tests.transport.helpers import eventually, queue_consumers

pytestmark = pytest.mark.rabbitmq


async def delete_queue(url: str, queue: str) -> None:
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def test_a_publish_to_a_deleted_queue_is_returned_declared_again_and_delivered(
    rabbit: Harness,
) -> None:
    """The queue is gone and nobody consumes (so nobody re-declares it): the mandatory
    publish comes back (``basic.return``) instead of being confirmed and dropped, and the
    transport declares the queue and binding again and publishes it once more."""
    assert rabbit.url is not None
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    first, second = await rabbit.messages("dest-a", 2)
    await transport.publish([first])  # declares the queue and its binding
    await delete_queue(rabbit.url, Topology(rabbit.prefix).delivery_queue("dest-a"))

    with capture_logs() as logs:
        await asyncio.wait_for(transport.publish([second]), 10)
    returned = [e for e in logs if e["event"].startswith("message broker returned messages")]
    assert len(returned) == 1 and returned[0]["log_level"] == "error"
    assert returned[0]["destinations"] == ["dest-a"] and returned[0]["messages"] == 1
    assert not transport._unconfirmed  # confirmed on the second try: nothing owed

    delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert delivery.message.message_id == second.message_id  # ``first`` went with the queue
    await rabbit.done(delivery.message)
    await delivery.settle()
    assert await transport.ready_count("dest-a") == 0  # once, not twice


async def test_a_cancelled_consumer_consumes_its_queue_again(rabbit: Harness) -> None:
    """The broker cancels the consumer of a deleted queue; the transport says it is not
    consuming, declares the queue again (with backoff while that fails) and consumes it."""
    assert rabbit.url is not None
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    first, second = await rabbit.messages("dest-a", 2)
    await transport.publish([first])
    delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
    await rabbit.done(delivery.message)
    await delivery.settle()
    generation = transport.link.generation

    # Hold the re-declare back (failing once first) so the "not consuming" state can be seen.
    subscribe = transport._subscribe
    gate = asyncio.Event()
    tries = 0

    async def held_subscribe(*args: object, **kwargs: object) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise aiormq.exceptions.ChannelInvalidStateError("declaring failed (test)")
        await gate.wait()
        await subscribe(*args, **kwargs)  # type: ignore[arg-type]

    transport._subscribe = held_subscribe  # type: ignore[method-assign]
    with capture_logs() as logs:
        await delete_queue(rabbit.url, Topology(rabbit.prefix).delivery_queue("dest-a"))
        assert await eventually(lambda: transport.not_consuming() == ["dest-a"], timeout=10)
        assert await eventually(lambda: tries >= 2, timeout=10)  # backed off and tried again
        gate.set()
        assert await eventually(lambda: transport.not_consuming() == [], timeout=10)
    cancelled = [e for e in logs if e["event"].startswith("message broker cancelled a delivery")]
    assert len(cancelled) == 1 and cancelled[0]["log_level"] == "error"
    assert cancelled[0]["destination"] == "dest-a"
    retried = [e for e in logs if e["event"].startswith("consuming a delivery queue again failed")]
    assert retried and retried[0]["log_level"] == "warning"

    await transport.publish([second])
    again = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert again.message.message_id == second.message_id
    await rabbit.done(again.message)
    await again.settle()
    assert transport.link.generation == generation  # no reconnect was needed for it


async def test_a_message_already_delivered_is_skipped_when_published_again(
    rabbit: Harness,
) -> None:
    """A copy of a delivered message (published again by recovery) is acked and skipped."""
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    message, later = await rabbit.messages("dest-a", 2)
    await transport.publish([message])
    delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
    await rabbit.done(delivery.message)
    await delivery.settle()
    await transport.republish([message])
    await transport.publish([later])
    with capture_logs() as logs:
        nxt = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert nxt.message.message_id == later.message_id
    assert [e["message_id"] for e in logs if e["event"] == "duplicate delivery skipped"] == [
        message.message_id
    ]


class Seconds:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_of_copies_skipped_is_told_by_its_first_and_a_count_not_a_line_each(
    rabbit: Harness,
) -> None:
    """A backlog re-published after an engine left made one info line per copy (156 for one
    engine stopped with 156 waiting). Now the first copy is told, the rest counted in one line
    a minute later (here a timer of 0.2 s; the lines' clock is the test's). A minute without a
    copy ends the burst: the next is told again."""
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    clock = Seconds()
    transport.skipped_copies = lambda d: SkippedCopies(d, every=0.2, clock=clock)
    messages = await rabbit.messages("dest-a", 7)
    done, later, last = messages[:5], messages[5], messages[6]
    await transport.publish(done)
    for _ in done:
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        await rabbit.done(delivery.message)
        await delivery.settle()
    with capture_logs() as logs:
        await transport.republish(done)
        await transport.republish(done[:2])  # a second re-publish, of some of them
        await transport.publish([later])
        nxt = await asyncio.wait_for(transport.receive("dest-a"), 10)
        assert nxt.message.message_id == later.message_id
        clock.now += 60
        assert await eventually(lambda: any(e["event"] == SKIPPED_SINCE for e in logs), timeout=10)
    told = [e for e in logs if e["log_level"] == "info"]
    assert [e["event"] for e in told] == [SKIPPED, SKIPPED_SINCE]
    assert told[0]["message_id"] == done[0].message_id and told[0]["why"] == "done"
    assert told[1]["destination"] == "dest-a"
    assert (told[1]["skipped"], told[1]["why"], told[1]["for_s"]) == (6, {"done": 6}, 60)

    await asyncio.sleep(0.5)  # no copy for a "minute": the burst has ended
    with capture_logs() as logs:
        await transport.republish(done[:1])
        await transport.publish([last])
        nxt = await asyncio.wait_for(transport.receive("dest-a"), 10)
        assert nxt.message.message_id == last.message_id
    assert [(e["event"], e["log_level"]) for e in logs if e["event"] == SKIPPED] == [
        (SKIPPED, "info")
    ]


async def test_a_queue_its_consumer_declared_is_not_declared_again_by_the_first_publish(
    rabbit: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer declares its queue and binding before it consumes; the publisher used to
    declare them again before its first publish there (two round trips a destination while a
    new engine's first events waited). Deleted after that, the queue is still declared again
    when a publish comes back (the test above)."""
    assert rabbit.url is not None
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    declared: list[tuple[str, str]] = []
    declare = Topology.declare_destination

    async def counted(
        topology: Topology, channel: aiormq.abc.AbstractChannel, destination_id: str
    ) -> None:
        by = "publisher" if channel is transport._publisher else "consumer"
        declared.append((by, destination_id))
        await declare(topology, channel, destination_id)

    monkeypatch.setattr(Topology, "declare_destination", counted)
    [message] = await rabbit.messages("dest-a", 1)
    receiving = asyncio.create_task(transport.receive("dest-a"))
    queue = Topology(rabbit.prefix).delivery_queue("dest-a")
    assert await eventually(lambda: consumers_on(rabbit.url, queue), timeout=10)

    await asyncio.wait_for(transport.publish([message]), 10)
    delivery = await asyncio.wait_for(receiving, 10)
    assert delivery.message.message_id == message.message_id
    await rabbit.done(delivery.message)
    await delivery.settle()
    assert declared == [("consumer", "dest-a")]


async def consumers_on(url: str | None, queue: str) -> bool:
    assert url is not None
    return await queue_consumers(url, queue) > 0
