"""Events taken from the intake queue while PostgreSQL is away: kept in the engine until it is
back, then stored and delivered once; none handed to the dead-letter queue.

An audit cut PostgreSQL off (a TCP proxy in front of it, killed) for about 20 s: the 5 events
published meanwhile ended in ``P.dead``, stored nowhere and kept as rejected nowhere, while
upstream had its confirms. Each failed try handed the batch back to the broker (``basic.nack``
with requeue) about once a second, and the intake queue's ``x-delivery-limit`` (20) counts each.
Here the engine reaches PostgreSQL through such a proxy (``tests.deploy.proxy``), cut for longer
than the few seconds that the hand-backs took to reach the queue's limit: the intake queue is
declared here with a delivery limit of 2 instead of 20 (the 5 events may come in as three
batches, each tried in its turn, so a batch was handed back about every third second: 10 s
reach 2 for certain, where 25 s might not have reached 20).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import aiormq
import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from integrator.log_throttle import LogThrottle
from integrator.transport import topology
from integrator.transport.topology import Topology
from tests.transport.helpers import (
    PROVIDER,
    StoreBehindProxy,
    all_delivered,
    eventually,
    make_events,
    publish_events,
    store_behind_proxy,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

EVENTS = 5
#: Longer than the hand-backs took to reach the limit below (about one every third second).
OUTAGE_S = 10.0
INTAKE_DELIVERY_LIMIT = 2


@pytest.fixture
async def setup(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StoreBehindProxy]:
    monkeypatch.setattr(topology, "INTAKE_DELIVERY_LIMIT", INTAKE_DELIVERY_LIMIT)  # its queue only
    async with store_behind_proxy(tmp_path, database) as made:
        yield made


async def dead_letters(url: str, prefix: str) -> int:
    """Messages in ``P.dead``, asked of the broker on a connection of the test's own."""
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.queue_declare(Topology(prefix).dead_queue, passive=True)
        return declared.message_count or 0
    finally:
        await connection.close()


async def test_events_taken_while_the_store_is_away_are_kept_not_dead_lettered(
    setup: StoreBehindProxy, referral_data: dict[str, Any]
) -> None:
    engine = setup.engine
    events = make_events(referral_data, [PROVIDER], EVENTS)
    with capture_logs() as logs:
        await setup.proxy.cut()
        await publish_events(setup.url, setup.prefix, events)
        await asyncio.sleep(OUTAGE_S)
        assert await dead_letters(setup.url, setup.prefix) == 0
        assert setup.receiver.received == []
        await setup.proxy.restore()
        assert await eventually(lambda: all_delivered(engine, EVENTS), timeout=60)
    for event in events:
        assert await engine.store.get_event(event["event_id"]) is not None
    assert await engine.store.list_rejected() == []
    sent = [read_msh(m).control_id for m in setup.receiver.received]
    assert len(sent) == len(set(sent)) == EVENTS  # each once
    assert await dead_letters(setup.url, setup.prefix) == 0
    # Told by the first try that failed, with the store's cause, and once when batches commit
    # again with the count of tries; not a line per try (once a minute in between: the rule is
    # tested with its clock driven, tests/integrator/test_log_throttle.py).
    [kept] = [e for e in logs if e["event"] == "intake batch failed; keeping it and trying again"]
    assert kept["log_level"] == "warning" and kept["error_type"] == "StoreUnavailable"
    assert "(ConnectionRefusedError, 08001)" in kept["error"]
    assert kept["retry_in_s"] == 1
    [back] = [e for e in logs if e["event"] == "intake batches commit again"]
    assert back["log_level"] == "info" and back["failures"] >= 2  # tried again, told once
    assert back["failed_for_s"] <= OUTAGE_S + 30


KEPT = "intake batch failed; keeping it and trying again"
#: Tries told in full here (the log tells only the first so, then one line a minute).
TRIES = 4


async def test_a_kept_batch_is_tried_again_at_least_every_five_seconds(
    setup: StoreBehindProxy, referral_data: dict[str, Any]
) -> None:
    """Found by an operator review: the waits between tries doubled up to 30 s, so the intake
    took events again up to half a minute after the store was back (after 1, 2, 4, 8, 16, 30 s
    of waits). They stop growing at 5 s: 1, 2, 4, 5, …, each try's wait as its line says it
    (every try told in full here)."""
    engine = setup.engine
    engine._amqp_intake._keeping = LogThrottle(first=TRIES)  # type: ignore[union-attr]
    with capture_logs() as logs:
        await setup.proxy.cut()
        await publish_events(setup.url, setup.prefix, make_events(referral_data, [PROVIDER], 1))

        def told() -> list[MutableMapping[str, Any]]:
            return [e for e in logs if e["event"] == KEPT]

        assert await eventually(lambda: len(told()) >= TRIES, timeout=60), told()
        await setup.proxy.restore()
        assert await eventually(lambda: all_delivered(engine, 1), timeout=60)
    assert [e["retry_in_s"] for e in told()][:TRIES] == [1, 2, 4, 5]


async def test_broker_connections_lost_while_the_store_is_away_count_one_delivery(
    setup: StoreBehindProxy, referral_data: dict[str, Any]
) -> None:
    """Found by a robustness audit: with the store away, each lost broker connection gave the
    kept batch back to the queue (one delivery counted), and the engine, consuming at once on
    its new connection, held it again until the next loss; twenty such losses in one outage
    moved a valid event, confirmed to its publisher, to ``P.dead``, stored nowhere and told
    nowhere. After a reconnect during an outage the queue is consumed once the store answers:
    three losses here (the limit is 2) leave the event in the queue, delivered once it is."""
    engine = setup.engine
    link = engine._transport.link  # type: ignore[union-attr]
    [event] = make_events(referral_data, [PROVIDER], 1)

    async def stored() -> bool:
        return await engine.store.get_event(event["event_id"]) is not None

    with capture_logs() as logs:
        await setup.proxy.cut()
        await publish_events(setup.url, setup.prefix, [event])
        assert await eventually(lambda: any(e["event"] == KEPT for e in logs), timeout=30)
        for _ in range(3):
            generation = link.generation
            await link.connection.close()  # the connection breaks
            assert await eventually(
                lambda g=generation: link.generation > g and link.connected, timeout=30
            )
            await asyncio.sleep(1.5)  # time for a consumer (were there one) to take it
        assert await dead_letters(setup.url, setup.prefix) == 0
        await setup.proxy.restore()
        # Accepted into the store is what the promise is about (its delivery after three lost
        # connections is the delivery queues' own reconnecting, tested elsewhere).
        accepted = await eventually(stored, timeout=120)
        told = [e["event"] for e in logs if e["log_level"] in ("info", "warning", "error")]
        assert accepted, told
    assert await dead_letters(setup.url, setup.prefix) == 0
    assert "the store answers again; intake consumes again" in told
