"""A copy of a rotate retry that arrives while the retry waits in its runner's schedule is not
scheduled a second time: the retry is sent once.

Found by a chaos soak of two `integrator run` on RabbitMQ: a message of a rotate destination
was answered AE and waited in its runner's schedule for its retry; the recovery leader (the
other engine, back from a broker restart) re-published the pending messages, this one among
them; its copy, early, went into the same schedule as a second entry. At the time both entries
published the message as a plain retry, which no consumer checks, and the receiver got attempt
2 twice, 0.5 ms apart, on one connection (two attempt rows #2). Here the test re-publishes the
copy itself, as that leader did, while it holds the recovery lock so the engine does not.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.transport.outbox import outbound_message
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.integrator.support import destination, settings_for
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq

TODAY = date(2026, 11, 27)
NOORD = "ziekenhuis-noord"
#: Long enough for the copy to arrive well before the retry is due.
BACKOFF = {"initial": "3s", "multiplier": 1, "max_delay": "3s", "max_attempts": 10, "max_age": "1h"}


async def test_a_copy_of_a_waiting_rotate_retry_is_let_go_and_the_retry_sent_once(
    tmp_path: Path, led_elsewhere: tuple[str, str], referral_data: dict[str, Any]
) -> None:
    url, prefix = led_elsewhere
    receiver = MllpReceiver(ack_code="AE")
    port = await receiver.start()
    config = destination(NOORD, port, providers=[NOORD], ordering="rotate", retry=BACKOFF)
    engine = Engine(
        settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix),
        catalog=build_catalog([(f"{config.id}.yaml", config)], today=TODAY),
    )
    await engine.start()
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        message_id = result.messages[0].message_id
        runner = engine._runners[NOORD]

        async def retrying() -> bool:
            stored = await engine.store.get_message(message_id)
            return stored is not None and stored.status == "retrying"

        assert await eventually(retrying, timeout=10)
        assert await eventually(lambda: runner._waiting_ids == {message_id})
        receiver.ack_code = "AA"
        record = await engine.store.get_message(message_id)
        assert record is not None
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        # The recovery leader's copy: pending in the store, so re-published; it arrives long
        # before the retry's time and is taken by this runner.
        await transport.republish([outbound_message(record)])
        consumer = transport._consumers[NOORD]
        assert await eventually(lambda: consumer.queue.qsize() == 0 and not consumer.in_hand)
        assert len(runner._waiting) == 1  # still the one retry waiting

        async def delivered() -> bool:
            stored = await engine.store.get_message(message_id)
            return stored is not None and stored.status == "delivered"

        assert await eventually(delivered, timeout=15)
        # Nothing else waits to be published or sent: the schedule is empty, the queue too.
        assert await eventually(
            lambda: not runner._waiting and consumer.queue.qsize() == 0 and not consumer.in_hand
        )
        attempts = await engine.store.list_attempts(message_id)
    finally:
        await engine.stop()
        await receiver.stop()
    assert [(a.number, a.ack_code) for a in attempts] == [(1, "AE"), (2, "AA")]
    assert len(receiver.received) == 2  # the AE'd send and its one retry
