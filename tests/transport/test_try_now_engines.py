"""Try now with two engines on one broker and store: the engine that holds the waiting retry
attempts it, whichever engine took the request.

A destination's queue has one active consumer, so its waiting retry sits in one engine's
runner; support's request may reach the other (a load balancer in front of both). That engine
makes it due in the store, and the holder sees it at its next look there. Both engines run in
this process, on a real RabbitMQ and PostgreSQL, with the store's poll shortened to keep the
test short (the same code path as the 5 s default).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator import retry_waits
from integrator.access import Permission
from integrator.access.permissions import local_identity
from integrator.catalog import Catalog, build_catalog
from integrator.clusters import ClusterScope
from integrator.engine import Engine
from integrator.store import MessageFilter
from integrator.try_now import Where, try_message_now
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

TODAY = date(2026, 11, 27)
NOORD = "ziekenhuis-noord"
SEARCH_KEY = "try-now-engines-test-search-key"
SUPPORT = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)


def catalog_for(port: int, ordering: str) -> Catalog:
    retry = {"initial": "10m", "multiplier": 2, "max_delay": "10m", "max_attempts": 5}
    config = destination(NOORD, port, providers=[NOORD], retry=retry, ordering=ordering)
    return build_catalog([(f"{NOORD}.yaml", config)], today=TODAY)


@pytest.mark.parametrize("ordering", ["fifo", "rotate"])
async def test_a_retry_waiting_in_one_engine_is_tried_now_through_the_other(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    ordering: str,
) -> None:
    monkeypatch.setattr(retry_waits, "POLL_SECONDS", 0.2)
    url = require_rabbitmq()
    prefix = unique_prefix()
    settings = settings_for(
        tmp_path, database_url=database, search_key=SEARCH_KEY, amqp_url=url, amqp_prefix=prefix
    )
    async with MllpReceiver(ack_code="AE") as receiver:
        catalog = catalog_for(receiver.port, ordering)
        engines = [Engine(settings, catalog=catalog, http=False) for _ in range(2)]
        started: list[Engine] = []
        try:
            for engine in engines:
                await engine.start()
                started.append(engine)
            [event] = make_events(referral_data, [NOORD], 1)
            await engines[0].intake.submit(event, source="cli")

            async def held() -> bool:
                waits = sum(e.retries_waiting(NOORD) for e in engines)
                stored = await engines[0].store.list_messages(MessageFilter(status="retrying"))
                return waits == 1 and len(stored) == 1  # waiting, and its attempt committed

            assert await eventually(held, timeout=20)
            holder = next(e for e in engines if e.retries_waiting(NOORD) == 1)
            other = next(e for e in engines if e is not holder)
            [message] = await other.store.list_messages(MessageFilter(status="retrying"))
            receiver.ack_code = "AA"

            await try_message_now(Where.engine(other), SUPPORT, message.id)

            async def delivered() -> bool:
                found = await other.store.get_message(message.id)
                return found is not None and found.status == "delivered"

            assert await eventually(delivered, timeout=20)
            assert len(receiver.received) == 2 and receiver.received[0] == receiver.received[1]
        finally:
            for engine in started:
                await engine.stop()
            await delete_topology(url, prefix, [NOORD])
