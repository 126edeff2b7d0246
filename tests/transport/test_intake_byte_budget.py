"""The AMQP intake holds event bodies within a byte budget, not a prefetch count alone.

The broker pushed the intake consumer's whole prefetch (800) whatever the bodies weighed, and the
intake keeps its batches in the engine while the store is away: 800 events with a 50 MiB
attachment were tens of GB, and 800 five-MiB referral letters 5.4 GB. Here the budget
(``budget.INTAKE_BUDGET_BYTES``) is smaller than one event, PostgreSQL is cut off behind a proxy
(``tests.deploy.proxy``) and such events are published: the engine takes one, and the broker
keeps the others ready (a passive declare counts the ready messages only), also when the
consumer had grown on small events before, and the deliveries it had pushed already are handed
back. Once the store is back every event is stored and delivered, each once, and none went to
the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.ack import read_msh
from integrator.transport import budget
from integrator.transport.amqp_intake import AmqpIntake
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

BUDGET = 256 * 1024
#: Each event carries a letter of this size: some 520 KB of JSON, twice the budget.
LETTER_BYTES = 384 * 1024
LARGE = 8
SMALL = 8


class Setup(StoreBehindProxy):
    @property
    def intake(self) -> AmqpIntake:
        intake = self.engine._amqp_intake
        assert isinstance(intake, AmqpIntake)
        return intake


@pytest.fixture
async def setup(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Setup]:
    monkeypatch.setattr(budget, "INTAKE_BUDGET_BYTES", BUDGET)
    async with store_behind_proxy(tmp_path, database) as made:
        yield Setup(made.engine, made.url, made.prefix, made.proxy, made.receiver)


def with_letter(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events``, each with a PDF letter of ``LETTER_BYTES`` attached."""
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * (LETTER_BYTES // 256)
    data = base64.b64encode(pdf).decode("ascii")
    large = copy.deepcopy(events)
    for event in large:
        event["attachments"] = [
            {"filename": "verwijsbrief.pdf", "content_type": "application/pdf", "data": data}
        ]
    return large


async def ready(url: str, prefix: str, queue: str = "intake") -> int:
    """Ready messages in the intake queue (or the dead-letter queue): a passive declare counts
    those the broker holds, not those pushed to a consumer and unacked."""
    topology = Topology(prefix)
    name = topology.intake_queue if queue == "intake" else topology.dead_queue
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.queue_declare(name, passive=True)
        return int(declared.message_count or 0)
    finally:
        await connection.close()


async def stays_ready(setup: Setup, count: int) -> None:
    """The broker holds ``count`` events ready, and still after a second: the engine takes no
    more while the one it holds fills its budget."""
    assert await eventually(lambda: _ready_is(setup, count), timeout=20), (
        f"ready: {await ready(setup.url, setup.prefix)}, not {count}"
    )
    await asyncio.sleep(1.0)
    assert await ready(setup.url, setup.prefix) == count
    assert setup.intake._budget.held <= 2 * LETTER_BYTES  # the one event taken


async def _ready_is(setup: Setup, count: int) -> bool:
    return await ready(setup.url, setup.prefix) == count


async def all_once(setup: Setup, events: list[dict[str, Any]]) -> None:
    """Every event stored and delivered, each once, none refused or dead-lettered."""
    engine = setup.engine
    assert await eventually(lambda: all_delivered(engine, len(events)), timeout=120)
    for event in events:
        assert await engine.store.get_event(event["event_id"]) is not None
    assert await engine.store.list_rejected() == []
    sent = [read_msh(m).control_id for m in setup.receiver.received]
    assert len(sent) == len(set(sent)) == len(events)
    assert await ready(setup.url, setup.prefix, "dead") == 0


async def test_large_events_stay_in_the_broker_while_the_store_is_away(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    large = with_letter(make_events(referral_data, [PROVIDER], LARGE))
    await setup.proxy.cut()
    await publish_events(setup.url, setup.prefix, large)
    await stays_ready(setup, LARGE - 1)
    await setup.proxy.restore()
    await all_once(setup, large)


async def test_a_consumer_grown_on_small_events_hands_back_the_large_ones_pushed_to_it(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    small = make_events(referral_data, [PROVIDER], SMALL)
    await publish_events(setup.url, setup.prefix, small)
    assert await eventually(lambda: all_delivered(setup.engine, SMALL), timeout=60)
    # Small bodies: the consumer was started again with a larger prefetch, so the broker
    # pushes several large events at once before it is cancelled.
    assert await eventually(lambda: (setup.intake.prefetch() or 0) > 1)
    large = with_letter(make_events(referral_data, [PROVIDER], LARGE))
    for n, event in enumerate(large):
        event["zd_number"] = f"ZD{400000000 + n:09d}"
    await setup.proxy.cut()
    await publish_events(setup.url, setup.prefix, large)
    await stays_ready(setup, LARGE - 1)
    await setup.proxy.restore()
    await all_once(setup, small + large)
