"""A connection to RabbitMQ gone half-open (a partition, a firewall's state dropped: no byte
passes, no socket closes) while the engine waits for a publish's confirm.

aiormq notices by the heartbeat, and ends the confirms it still owes as cancelled. The
transport passed that on as a cancellation: an intake worker ended as if stopped, taking its
event's message with it (committed, never published, owed to no one), and after a few such
cuts no worker took from the intake at all while ``/readyz`` said ready; an HTTP submit hung
and answered a bare 500. Now a confirm lost so is the broker gone (``TransportUnavailable``):
the message is owed, published again after the reconnect, and delivered.

Through a proxy the test freezes at the engine's next publish (``tests.deploy.proxy``), with a
heartbeat of 2 s so that it is noticed in seconds.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.deploy.proxy import CuttableProxy
from tests.http.support import api_client
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    all_delivered,
    delete_topology,
    eventually,
    one_destination_engine,
    publish_events,
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq


def _event(referral_data: dict[str, Any], n: int) -> dict[str, Any]:
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD3000000{n:02d}"
    return event


async def test_a_confirm_lost_to_a_half_open_connection_is_published_again_and_delivered(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    url = require_rabbitmq()
    prefix = unique_prefix()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    receiver = MllpReceiver()
    engine: Engine = one_destination_engine(
        tmp_path,
        await receiver.start(),
        amqp_url=f"amqp://guest:guest@127.0.0.1:{port}/?heartbeat=2",
        amqp_prefix=prefix,
    )
    await engine.start()
    try:
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        # Through the AMQP intake: frozen when the worker publishes the event's message.
        proxy.freeze_at_next_write()
        with capture_logs() as logs:
            await publish_events(url, prefix, [_event(referral_data, 0)])
            assert await eventually(lambda: proxy.frozen, timeout=10)
            assert await eventually(lambda: not transport.link.connected, timeout=20)
        proxy.thaw()
        # The log line says what ended the connection.
        [lost] = [e for e in logs if e["event"].startswith("message broker connection lost")]
        assert "heartbeat" in lost.get("cause", ""), lost
        assert await eventually(lambda: all_delivered(engine, 1), timeout=30)
        # Over HTTP: frozen at the publish after the commit; answered, not a 500.
        async with api_client(engine) as api:
            proxy.freeze_at_next_write()
            answer = await api.post("/api/v1/events", json=_event(referral_data, 1))
            assert answer.status_code == 202, answer.text
            proxy.thaw()
        assert await eventually(lambda: all_delivered(engine, 2), timeout=30)
        # The intake still takes events: no worker ended as if stopped.
        await publish_events(url, prefix, [_event(referral_data, n) for n in range(2, 7)])
        assert await eventually(lambda: all_delivered(engine, 7), timeout=30)
    finally:
        proxy.thaw()
        await engine.stop()
        await proxy.close()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])
