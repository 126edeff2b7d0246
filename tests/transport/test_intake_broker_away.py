"""Events accepted and messages resent over HTTP while RabbitMQ is away: answered as done, stored,
and delivered once it is back.

The engine reaches the broker through a proxy the test cuts (``tests.deploy.proxy``), which it
sees exactly as a broker gone away. The commit succeeds, the publish cannot: the answer used to
be a 500 for an event that was stored, and an upstream system that sends it again under a new
event id makes a second referral.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.store import MessageFilter
from integrator.transport.committed import DELIVERY_AWAY, RESEND_AWAY
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
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq

EVENTS = 5


@dataclass
class Proxied:
    engine: Engine
    transport: RabbitMQTransport
    proxy: CuttableProxy
    receiver: MllpReceiver


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[Proxied]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    receiver = MllpReceiver()
    engine = one_destination_engine(
        tmp_path,
        await receiver.start(),
        amqp_url=f"amqp://guest:guest@127.0.0.1:{port}/",
        amqp_prefix=prefix,
    )
    await engine.start()
    try:
        transport = engine._transport
        assert isinstance(transport, RabbitMQTransport)
        yield Proxied(engine, transport, proxy, receiver)
    finally:
        await proxy.restore_if_cut()
        await engine.stop()
        await proxy.close()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


async def test_events_accepted_while_the_broker_is_away_answer_202_and_go_out_once_it_is_back(
    proxied: Proxied, referral_data: dict[str, Any]
) -> None:
    engine, transport = proxied.engine, proxied.transport
    events = []
    for n in range(EVENTS):
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD2000000{n:02d}"
        events.append(event)

    async with api_client(engine) as api:
        await proxied.proxy.cut()
        assert await eventually(lambda: not transport.link.connected, timeout=10)
        with capture_logs() as logs:
            answers = [await api.post("/api/v1/events", json=event) for event in events]
        for answer in answers:
            assert answer.status_code == 202, answer.text
            body = answer.json()
            assert body["duplicate"] is False
            assert DELIVERY_AWAY in body["warnings"]
            [message] = body["messages"]
            assert message["status"] == "queued"
        away = [e for e in logs if e["event"].startswith("messages stored but not published")]
        # Told by the first only, not one line per POST; then once a minute (with the clock
        # driven: tests/integrator/test_background_outage_log_lines.py).
        [first] = away
        assert first["log_level"] == "warning" and first["messages"] == 1
        assert "999990019" not in str(away)  # no patient data
        assert not any(e["event"] == "http request failed" for e in logs)

        # Stored, waiting; sending one again answers as for any duplicate.
        for event in events:
            assert await engine.store.get_event(event["event_id"]) is not None
        again = await api.post("/api/v1/events", json=events[0])
        assert again.status_code == 202 and again.json()["duplicate"] is True
        assert proxied.receiver.received == []

        await proxied.proxy.restore()
        assert await eventually(lambda: all_delivered(engine, EVENTS), timeout=30)
    stored = await engine.store.list_messages(MessageFilter(destination_id=PROVIDER))
    assert len(stored) == EVENTS
    # Each exactly once: the transport's re-publish of what it could not publish and the
    # recovery leader's re-publish of the store's pending messages both ran; the receiving side
    # skips the copies of what is delivered already (given a moment to arrive).
    await asyncio.sleep(1)
    assert await engine.wait_settled(timeout=5)
    sent = sorted(read_msh(m).control_id for m in proxied.receiver.received)
    assert sent == sorted(m.control_id for m in stored)


async def test_a_resend_while_the_broker_is_away_is_answered_done_and_goes_out_once_it_is_back(
    proxied: Proxied, referral_data: dict[str, Any]
) -> None:
    """The resend is stored, then its publish fails: 201 with the note, not a 500 that invites
    a second resend; the transport publishes it after its reconnect, and it is delivered once."""
    engine, transport = proxied.engine, proxied.transport
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    async with api_client(engine) as api:
        accepted = await api.post("/api/v1/events", json=event)
        assert accepted.status_code == 202, accepted.text
        [original] = accepted.json()["messages"]
        assert await eventually(lambda: len(proxied.receiver.received) == 1, timeout=30)

        await proxied.proxy.cut()
        assert await eventually(lambda: not transport.link.connected, timeout=10)
        answer = await api.post(
            f"/api/v1/messages/{original['message_id']}/resend", json={"reason": "GP called"}
        )
        assert answer.status_code == 201, answer.text
        resent = answer.json()
        assert resent["resent"] is True and resent["note"] == RESEND_AWAY
        assert len(proxied.receiver.received) == 1

        await proxied.proxy.restore()

        async def delivered() -> bool:
            stored = await engine.store.get_message(resent["message_id"])
            return stored is not None and stored.status == "delivered"

        assert await eventually(delivered, timeout=30)
    await asyncio.sleep(1)  # copies (the transport's and the recovery leader's) would arrive now
    assert await engine.wait_settled(timeout=5)
    sent = [read_msh(m).control_id for m in proxied.receiver.received]
    assert sent == [original["control_id"], resent["control_id"]]  # the resend exactly once
    _, resends = await engine.store.list_resends(original["message_id"])
    assert [r.message_id for r in resends] == [resent["message_id"]]
