"""RabbitMQ-only behaviour: single active consumer hand-over and publishing across a reconnect."""

from __future__ import annotations

import asyncio

import pytest

from integrator.transport import TransportUnavailable
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.topology import MIN_BROKER_VERSION, broker_version
from tests.transport.conftest import Harness
from tests.transport.helpers import unique_prefix

pytestmark = pytest.mark.rabbitmq


async def test_one_engine_at_a_time_consumes_a_destination_and_release_hands_over(
    rabbit: Harness,
) -> None:
    messages = await rabbit.messages("dest-a", 3)
    first = await rabbit.open()
    second = await rabbit.open()
    await first.publish(messages)
    held = await asyncio.wait_for(first.receive("dest-a"), 10)
    assert held.message.message_id == messages[0].message_id
    standby = asyncio.create_task(second.receive("dest-a"))
    await asyncio.sleep(0.5)
    assert not standby.done()  # single active consumer: the second engine waits

    assert isinstance(first, RabbitMQTransport)
    generation = first.link.generation
    await first.release("dest-a")  # paused here: unsettled work goes to the other engine
    taken = await asyncio.wait_for(standby, 10)
    assert taken.message.message_id == messages[0].message_id
    assert taken.message.control_id == messages[0].control_id
    await asyncio.sleep(0.2)
    # Closing a channel on purpose is no broker fault: the link does not reconnect for it.
    assert first.link.generation == generation and first.link.connected


async def test_a_publish_during_a_reconnect_is_published_again_afterwards(
    rabbit: Harness,
) -> None:
    [message] = await rabbit.messages("dest-a", 1)
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    await transport.link.connection.close()  # the connection breaks
    with pytest.raises(TransportUnavailable):
        await transport.publish([message])
    assert await transport.link.wait_connected(timeout=10)
    delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert delivery.message.message_id == message.message_id
    await rabbit.done(delivery.message)
    await delivery.settle()


async def test_a_message_the_broker_refused_goes_again_before_the_next_publish(
    rabbit: Harness,
) -> None:
    """A nack leaves its messages owed with the connection standing: they went again only after
    a reconnect, which a nack does not cause, so every later message overtook them."""
    refused, later = await rabbit.messages("dest-a", 2)
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    transport._remember([refused])  # as ``_publish_once`` does for a nacked publish
    await transport.publish([later])
    for expected in (refused, later):
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        assert delivery.message.message_id == expected.message_id
        await rabbit.done(delivery.message)
        await delivery.settle()
    assert not transport._unconfirmed


async def test_a_copy_of_a_message_a_worker_is_sending_is_skipped_not_sent_again(
    rabbit: Harness,
) -> None:
    """Another engine re-published the pending messages while one of them was on the wire
    here: the store still lists it as pending, but the copy must not reach a second worker."""
    first, second = await rabbit.messages("dest-a", 2)
    transport = await rabbit.open()
    await transport.publish([first])
    sending = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert sending.message.message_id == first.message_id

    other = await rabbit.open()  # another engine
    await other.republish([first])  # a copy, while it is still in the first worker's hands
    await other.publish([second])
    nxt = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert nxt.message.message_id == second.message_id  # the copy was passed over

    await rabbit.done(sending.message)
    await sending.settle()
    await rabbit.done(nxt.message)
    await nxt.settle()


async def test_a_first_publish_overtaken_by_its_copy_is_skipped_while_the_copy_is_sent(
    rabbit: Harness,
) -> None:
    """The recovery leader re-published a message committed a moment ago before its own
    publish went out: the first publish, arriving while the copy is on the wire, is not sent."""
    first, second = await rabbit.messages("dest-a", 2)
    transport = await rabbit.open()
    await transport.republish([first])
    sending = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert sending.message.message_id == first.message_id
    await transport.publish([first, second])
    nxt = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert nxt.message.message_id == second.message_id
    await rabbit.done(sending.message)
    await sending.settle()
    await rabbit.done(nxt.message)
    await nxt.settle()


async def test_start_fails_clearly_when_no_broker_answers() -> None:
    prefix = unique_prefix()
    transport = RabbitMQTransport("amqp://guest:secret@127.0.0.1:1/", prefix=prefix)
    with pytest.raises(TransportUnavailable) as caught:
        await transport.start(timeout=1.0)
    assert "secret" not in str(caught.value)
    assert str(caught.value).endswith(
        "last error: connection refused at 127.0.0.1:1 (INTEGRATOR_AMQP_URL)"
    )
    await transport.close()


def test_broker_version_is_read_from_the_handshake() -> None:
    assert broker_version({"version": b"3.10.8"}) == (3, 10, 8)
    assert broker_version({"version": "3.7.28"}) < MIN_BROKER_VERSION  # type: ignore[operator]
    assert broker_version({}) is None
