"""``publish_batch``: one write for many publishes, each confirmed (or refused) on its own.

Against the real broker: what arrives must be what ``basic_publish`` would have sent (bodies,
properties, order, bodies split over several frames), and a broker's nack must fail exactly the
messages it refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import aiormq
import pytest
from pamqp.commands import Basic

from integrator.transport import publisher
from integrator.transport.publisher import Outgoing, can_batch, publish_batch
from tests.services import require_rabbitmq

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def connection() -> AsyncIterator[aiormq.abc.AbstractConnection]:
    connection = await aiormq.connect(require_rabbitmq())
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def _queue(
    connection: aiormq.abc.AbstractConnection, **arguments: object
) -> tuple[aiormq.abc.AbstractChannel, str]:
    channel = await connection.channel(publisher_confirms=True)
    name = f"integrator.test.publisher.{uuid.uuid4().hex[:12]}"
    await channel.queue_declare(name, auto_delete=False, arguments=arguments or None)  # type: ignore[arg-type]
    return channel, name


def _properties(n: int) -> Basic.Properties:
    return Basic.Properties(
        content_type="application/hl7-v2",
        delivery_mode=2,
        message_id=f"m-{n}",
        headers={"control_id": f"C{n:05d}", "attempt_count": n},
    )


async def _take(
    connection: aiormq.abc.AbstractConnection, queue: str, count: int
) -> list[aiormq.abc.DeliveredMessage]:
    channel = await connection.channel()
    got: list[aiormq.abc.DeliveredMessage] = []
    for _ in range(count):
        message = await channel.basic_get(queue, no_ack=True, timeout=10)
        assert message.body is not None
        got.append(message)
    return got


async def test_the_installed_aiormq_takes_the_batch_path(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    # If this fails after an aiormq upgrade, publishing still works (message by message) but
    # the batch path is gone: look at publisher.py's use of the channel's internals.
    assert can_batch(await connection.channel(publisher_confirms=True))
    assert not can_batch(await connection.channel(publisher_confirms=False))


async def test_a_batch_arrives_as_basic_publish_sends_it(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    channel, queue = await _queue(connection)
    try:
        assert can_batch(channel)
        big = bytes(range(256)) * 2000  # 512 KB: more than one frame at any frame size
        bodies = [b"MSH|first", b"", big, b"MSH|last"]
        futures = await publish_batch(
            channel, [Outgoing("", queue, _properties(n), b) for n, b in enumerate(bodies)]
        )
        confirms = await asyncio.gather(*futures)
        assert all(isinstance(c, Basic.Ack) for c in confirms)
        assert len(big) > channel.max_content_size  # type: ignore[attr-defined]

        got = await _take(connection, queue, len(bodies))
        assert [m.body for m in got] == bodies
        for n, message in enumerate(got):
            properties = message.header.properties
            assert properties.message_id == f"m-{n}"
            assert properties.delivery_mode == 2
            assert properties.content_type == "application/hl7-v2"
            assert properties.headers == {"control_id": f"C{n:05d}", "attempt_count": n}

        # The channel's own publishes go on with the next delivery tags and are confirmed.
        confirm = await channel.basic_publish(b"after", routing_key=queue)
        assert isinstance(confirm, Basic.Ack)
        assert [m.body for m in await _take(connection, queue, 1)] == [b"after"]
    finally:
        await channel.queue_delete(queue)


async def test_the_messages_the_broker_refuses_fail_and_only_those(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    channel, queue = await _queue(connection, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    try:
        futures = await publish_batch(
            channel, [Outgoing("", queue, _properties(n), b"MSH|%d" % n) for n in range(4)]
        )
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert [isinstance(o, Basic.Ack) for o in outcomes] == [True, True, False, False]
        assert all(isinstance(o, aiormq.exceptions.DeliveryError) for o in outcomes[2:])
        assert [m.body for m in await _take(connection, queue, 2)] == [b"MSH|0", b"MSH|1"]
    finally:
        await channel.queue_delete(queue)


async def test_a_lost_connection_fails_every_unconfirmed_message(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    channel, queue = await _queue(connection)
    cleanup = await aiormq.connect(require_rabbitmq())
    try:
        futures = await publish_batch(
            channel, [Outgoing("", queue, _properties(n), b"MSH") for n in range(200)]
        )
        await connection.close()
        outcomes = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10)
        # Each either confirmed before the close or failed: none is left waiting. A closed
        # connection fails aiormq's own publishes the same ways: with its exception, or (closed
        # cleanly, before the broker answered) by cancelling their confirmations.
        assert all(
            isinstance(o, (Basic.Ack, Exception, asyncio.CancelledError)) for o in outcomes
        ), [type(o).__name__ for o in outcomes]
        with pytest.raises(aiormq.exceptions.ChannelInvalidStateError):
            await publish_batch(channel, [Outgoing("", queue, _properties(0), b"MSH")])
    finally:
        other = await cleanup.channel()
        await other.queue_delete(queue)
        await cleanup.close()


async def test_a_batch_larger_than_one_write_arrives_whole_and_in_order(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    channel, queue = await _queue(connection)
    try:
        bodies = [b"MSH|%04d|" % n + b"x" * 4000 for n in range(300)]  # ~1.2 MB: 5 writes
        assert sum(map(len, bodies)) > 4 * publisher.WRITE_BYTES
        futures = await publish_batch(
            channel, [Outgoing("", queue, _properties(n), b) for n, b in enumerate(bodies)]
        )
        assert all(isinstance(c, Basic.Ack) for c in await asyncio.gather(*futures))
        assert [m.body for m in await _take(connection, queue, len(bodies))] == bodies
    finally:
        await channel.queue_delete(queue)


@pytest.mark.parametrize("write_bytes", [publisher.WRITE_BYTES, 1])
async def test_a_message_that_cannot_be_marshalled_takes_back_only_what_was_not_written(
    connection: aiormq.abc.AbstractConnection,
    monkeypatch: pytest.MonkeyPatch,
    write_bytes: int,
) -> None:
    # write_bytes 1: every message is written before the next is marshalled, so the two good
    # ones are out when the bad one fails; otherwise nothing of the batch was written.
    monkeypatch.setattr(publisher, "WRITE_BYTES", write_bytes)
    channel, queue = await _queue(connection)
    try:
        bad = Basic.Properties(headers={"not encodable": object()})  # type: ignore[dict-item]
        batch = [Outgoing("", queue, _properties(n), b"MSH|%d" % n) for n in range(2)]
        with pytest.raises(TypeError, match="Unknown type"):
            await publish_batch(channel, [*batch, Outgoing("", queue, bad, b"MSH|bad")])
        # The channel's tags still agree with the broker's: the next publishes are confirmed.
        futures = await publish_batch(channel, [Outgoing("", queue, _properties(9), b"MSH|9")])
        confirms = await asyncio.wait_for(asyncio.gather(*futures), 10)
        assert isinstance(confirms[0], Basic.Ack)
        assert isinstance(await channel.basic_publish(b"MSH|10", routing_key=queue), Basic.Ack)
        written = [b"MSH|0", b"MSH|1"] if write_bytes == 1 else []
        got = await _take(connection, queue, len(written) + 2)
        assert [m.body for m in got] == [*written, b"MSH|9", b"MSH|10"]
    finally:
        await channel.queue_delete(queue)


async def test_a_mandatory_message_no_queue_takes_fails_with_publish_error(
    connection: aiormq.abc.AbstractConnection,
) -> None:
    """The broker returns an unroutable mandatory message before it acks it; the batch path
    must fail that message's confirm (as ``basic_publish`` does), not take the ack as success,
    and keep the routable ones' acks. The message-id table is emptied once all are settled."""
    channel, queue = await _queue(connection)
    try:
        nowhere = f"integrator.test.publisher.none.{uuid.uuid4().hex[:12]}"  # no such queue
        futures = await publish_batch(
            channel,
            [
                Outgoing("", queue, _properties(0), b"MSH|0", mandatory=True),
                Outgoing("", nowhere, _properties(1), b"MSH|1", mandatory=True),
                Outgoing("", queue, _properties(2), b"MSH|2", mandatory=True),
            ],
        )
        confirms = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10)
        assert isinstance(confirms[0], Basic.Ack) and isinstance(confirms[2], Basic.Ack)
        assert isinstance(confirms[1], aiormq.exceptions.PublishError)
        assert not getattr(channel, "message_id_delivery_tag")  # noqa: B009
        got = await _take(connection, queue, 2)
        assert [m.body for m in got] == [b"MSH|0", b"MSH|2"]
    finally:
        await channel.queue_delete(queue)
