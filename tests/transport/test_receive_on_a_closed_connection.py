"""A delivery loop that asks for its next message just as the broker connection closed, before
the link has noticed, keeps running: it waits for the connection to come back.

Found by a chaos soak of two `integrator run` on RabbitMQ (`?heartbeat=10`) whose engines were
frozen (SIGSTOP) for 20-90 s at a time: on waking, one engine's delivery loop for a destination
asked the link for a channel on the connection the broker had closed meanwhile, which the link
still listed as up (it had not yet run since the close). aiormq refuses a channel on a closed
connection with a bare `RuntimeError`, no broker error, so the loop's task ended with it: that
engine no longer delivered to the destination, and every later reload of the destination files
(a SIGHUP, a pause) awaited the dead task, failed with the same error and was retried forever
(`applying destination files failed; trying again` at error, every backoff).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.transport.conftest import Harness

pytestmark = pytest.mark.rabbitmq


async def test_receive_waits_when_the_connection_closed_before_the_link_noticed(
    rabbit: Harness,
) -> None:
    transport = await rabbit.open()
    link = transport.link  # type: ignore[attr-defined]
    (message,) = await rabbit.messages("dest-a", 1)
    connection = link.connection
    closing = asyncio.ensure_future(connection.close())
    # One loop turn at a time: the link takes its turn after the close, this test first.
    while not connection.is_closed:  # noqa: ASYNC110
        await asyncio.sleep(0)
    # The moment the soak hit: the connection is closed and the link has not run since.
    assert link.connected
    receiving = asyncio.ensure_future(transport.receive("dest-a"))
    done, _ = await asyncio.wait({receiving}, timeout=0.5)
    assert not done or receiving.exception() is None, receiving.exception()
    await closing
    # Once the link has connected again the message is received, by the same call.
    await transport.publish([message])
    delivery = await asyncio.wait_for(receiving, timeout=20)
    assert delivery.message.message_id == message.message_id
