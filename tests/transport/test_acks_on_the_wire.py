"""Acks and nacks reach the broker in the order the window decided them (real RabbitMQ).

aiormq puts every frame on a write queue of ten; a coroutine waiting for room there can be
overtaken by one that arrives just as room is made. Two settles of one channel racing so sent
``ack(20, multiple)`` before ``ack(10, multiple)``, and the broker closed the intake channel
("unknown delivery tag 10"): the engine then took no more events until it was restarted. Here
many settles race on one channel while a publisher keeps the same connection's write queue
full, as the engine's own publishing does under load.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import aiormq
import pytest
from aiormq.abc import DeliveredMessage

from integrator.transport.acks import ChannelAcks
from tests.services import require_rabbitmq
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq

DELIVERIES = 3000


async def test_racing_settles_never_ack_a_tag_twice_and_settle_everything() -> None:
    url = require_rabbitmq()
    connection = await aiormq.connect(url)
    queue = f"integrator.test.acks.{uuid.uuid4().hex[:8]}"
    try:
        setup = await connection.channel()
        await setup.queue_declare(queue, auto_delete=False)
        for n in range(DELIVERIES):
            await setup.basic_publish(str(n).encode(), routing_key=queue)

        consuming = await connection.channel()
        await consuming.basic_qos(prefetch_count=DELIVERIES)
        tags: list[int] = []
        all_in = asyncio.Event()

        async def on_message(delivered: DeliveredMessage) -> None:
            assert delivered.delivery_tag is not None
            tags.append(delivered.delivery_tag)
            if len(tags) == DELIVERIES:
                all_in.set()

        consume_ok = await consuming.basic_consume(queue, on_message)
        await asyncio.wait_for(all_in.wait(), 30)
        # No more deliveries: what is given back stays queued instead of coming again.
        assert consume_ok.consumer_tag is not None
        await consuming.basic_cancel(consume_ok.consumer_tag)

        acks = ChannelAcks(consuming)
        rng = random.Random(15)
        flooding = True

        async def flood() -> None:  # keeps the connection's write queue full
            while flooding:
                await setup.basic_publish(b"x", routing_key=f"{queue}.nowhere")

        async def settle(tag: int) -> None:
            for _ in range(rng.randrange(4)):
                await asyncio.sleep(0)
            if tag % 97 == 0:
                await acks.give_back(tag)
            else:
                await acks.ack([tag])

        flooders = [asyncio.create_task(flood()) for _ in range(4)]
        try:
            await asyncio.gather(*(settle(tag) for tag in tags))
        finally:
            flooding = False
            await asyncio.gather(*flooders)

        # A tag acked twice makes the broker close the channel; this would then fail.
        await consuming.basic_qos(prefetch_count=1)
        assert not consuming.is_closed
        await consuming.close()
        # Everything acked is gone; what was given back (tag % 97 == 0) is queued again: as
        # soon as the broker has worked through the settles (under load, a moment after).
        given_back = sum(1 for t in tags if t % 97 == 0)

        async def queued_again() -> bool:
            declared = await setup.queue_declare(queue, passive=True)
            return declared.message_count == given_back

        assert await eventually(queued_again, timeout=10)
        await asyncio.sleep(0.2)
        assert await queued_again()  # and stays so
    finally:
        cleanup = await connection.channel()
        await cleanup.queue_delete(queue)
        await connection.close()
