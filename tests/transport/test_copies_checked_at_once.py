"""Two copies of one message taken by two workers of a destination at once are sent once.

A destination with ``connections`` above 1 has as many workers, each asking the transport for
its next delivery. A copy that may have been attempted (re-published, redelivered) is checked
against the store after the recorder's barrier; while the first worker waited there, the second
took the next delivery, another copy of the same message, and checked it too: both found it
pending and both were sent. The message is now in hand from the moment its check begins, so the
second copy is skipped as in hand.
"""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from integrator.transport.outbox import outbound_message
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.skipped import SKIPPED
from tests.store.factories import make_event, make_message
from tests.transport.conftest import Harness
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq


async def test_a_copy_taken_while_another_is_checked_is_skipped_as_in_hand(
    rabbit: Harness,
) -> None:
    new = make_message(destination_id="dest-a")
    await rabbit.store.accept_event(make_event(), [new])
    record = await rabbit.store.get_message(new.id)
    assert record is not None
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    gate = asyncio.Event()
    at_the_barrier = 0

    async def barrier() -> None:  # the recorder's (checks and acks wait for it), held a while
        nonlocal at_the_barrier
        at_the_barrier += 1
        await gate.wait()

    transport.configure(barrier=barrier)
    with capture_logs() as logs:
        first = asyncio.ensure_future(transport.receive("dest-a"))
        assert await eventually(lambda: "dest-a" in transport._consumers)
        consumer = transport._consumers["dest-a"]
        assert await eventually(lambda: consumer.channel is not None)
        # Two copies, as two engines' recoveries (or a re-publish and a redelivery) leave them.
        await transport.republish([outbound_message(record)])
        await transport.republish([outbound_message(record)])
        assert await eventually(lambda: at_the_barrier == 1)  # the first copy, in its check
        assert await eventually(lambda: consumer.queue.qsize() == 1)  # the second, waiting
        second = asyncio.ensure_future(transport.receive("dest-a"))
        assert await eventually(lambda: consumer.queue.qsize() == 0)  # the second, taken
        await asyncio.sleep(0.1)  # time to check it against the store, as the first did
        skipped = [e for e in logs if e["event"] == SKIPPED]
        gate.set()
        delivery = await asyncio.wait_for(first, 10)
        assert delivery.message.message_id == new.id
        # Checked alone, the second copy found the message pending as the first did and was
        # handed out too; now it was skipped as soon as it was taken.
        assert [(e["message_id"], e["why"]) for e in skipped] == [(new.id, "in hand")]
        assert not second.done()
        await delivery.settle()
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
    assert new.id not in consumer.in_hand
