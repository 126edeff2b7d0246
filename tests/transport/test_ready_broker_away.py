"""``/readyz`` stays ready while the broker is away: HTTP intake still takes events then.

Found by an on-call review: with RabbitMQ away ``/readyz`` answered 503, so a load balancer
following it took every engine's HTTP intake out, although ``POST /events`` commits the event
and its messages to the store (the outbox) and publishes them once the broker is back. The
engine reaches the real broker through a proxy the test cuts (``tests.deploy.proxy``); while it
is cut, ``/readyz`` says ready with the broker's state in its body, an event is taken (202, with
the note that delivery waits), and ``integrator_transport_up`` is 0 for the alert; once the
broker is back the event's message goes out.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from integrator.transport.committed import DELIVERY_AWAY
from tests.http.support import api_client
from tests.transport.helpers import all_delivered, eventually
from tests.transport.test_intake_broker_away import Proxied, proxied  # noqa: F401  (fixture)

pytestmark = pytest.mark.rabbitmq


async def test_readyz_stays_ready_while_the_broker_is_away_and_intake_takes_events(
    proxied: Proxied,  # noqa: F811  (the fixture imported above)
    referral_data: dict[str, Any],
) -> None:
    engine, transport = proxied.engine, proxied.transport
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    async with api_client(engine) as api:
        ready = await api.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"store": "ok", "transport": "ok"}}

        await proxied.proxy.cut()
        assert await eventually(lambda: not transport.link.connected, timeout=10)
        ready = await api.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"store": "ok", "transport": "disconnected"},
        }
        assert (await api.head("/readyz")).status_code == 200
        # What a load balancer keeps sending is taken: stored, and answered as such.
        accepted = await api.post("/api/v1/events", json=event)
        assert accepted.status_code == 202, accepted.text
        assert DELIVERY_AWAY in accepted.json()["warnings"]
        assert await engine.store.get_event(event["event_id"]) is not None
        # The broker being away is the metric's (and its alert's) to say.
        assert "integrator_transport_up 0.0" in (await api.get("/metrics")).text

        await proxied.proxy.restore()
        assert await eventually(lambda: all_delivered(engine, 1), timeout=30)
        ready = await api.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"store": "ok", "transport": "ok"}
