"""A small AMQP intake batch waits a moment for more (``amqp_intake.GATHER_S``), so that at a
steady rate one commit, publish and ack serves several events; and events held while a batch
gathers are not lost when the engine stops then: unacked, the broker gives them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.transport import amqp_intake
from integrator.transport.amqp_intake import AmqpIntake
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    all_delivered,
    delete_topology,
    eventually,
    make_events,
    one_destination_engine,
    publish_events,
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq

#: Long enough that an event published once the first is taken lands inside the wait, however
#: slow the machine.
GATHER_S = 3.0


@pytest.fixture
async def broker() -> AsyncIterator[tuple[str, str]]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    try:
        yield url, prefix
    finally:
        await delete_topology(url, prefix, [PROVIDER])


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    receiver = MllpReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def started(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    gather_s: float,
) -> Engine:
    """An engine of the broker's prefix delivering to ``receiver``, its small batches waiting
    ``gather_s`` for more."""
    url, prefix = broker
    monkeypatch.setattr(amqp_intake, "GATHER_S", gather_s)
    engine = one_destination_engine(tmp_path, receiver.port, amqp_url=url, amqp_prefix=prefix)
    await engine.start()
    return engine


def taken_signal(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once a worker has taken deliveries from the inbox (its first look, before the
    wait): from then on it gathers."""
    intake = engine._amqp_intake
    assert isinstance(intake, AmqpIntake)
    taken = asyncio.Event()
    drain = intake._drain

    def drained(batch: list[Any]) -> None:
        drain(batch)
        taken.set()

    monkeypatch.setattr(intake, "_drain", drained)
    return taken


async def test_an_event_that_comes_while_a_small_batch_waits_is_committed_with_it(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, prefix = broker
    engine = await started(tmp_path, broker, receiver, monkeypatch, GATHER_S)
    try:
        batches: list[int] = []
        submit_many = engine.intake.submit_many

        async def counted(bodies: Sequence[bytes], **kwargs: Any) -> Any:
            batches.append(len(bodies))
            return await submit_many(bodies, **kwargs)

        monkeypatch.setattr(engine.intake, "submit_many", counted)
        taken = taken_signal(engine, monkeypatch)
        first, second = make_events(referral_data, [PROVIDER], 2)
        await publish_events(url, prefix, [first])
        await asyncio.wait_for(taken.wait(), 10)
        await publish_events(url, prefix, [second])
        assert await eventually(lambda: all_delivered(engine, 2), timeout=20)
        assert batches == [2]  # without the wait: [1, 1]
        assert len(receiver.received) == 2
    finally:
        await engine.stop()


async def test_events_held_while_a_batch_gathers_are_not_lost_when_the_engine_stops(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, prefix = broker
    # The stop comes inside the wait.
    engine = await started(tmp_path, broker, receiver, monkeypatch, 60.0)
    try:
        taken = taken_signal(engine, monkeypatch)
        [event] = make_events(referral_data, [PROVIDER], 1)
        await publish_events(url, prefix, [event])
        await asyncio.wait_for(taken.wait(), 10)
        assert sum((await engine.store.count_by_status()).values()) == 0  # not committed yet
    finally:
        await engine.stop()

    again = await started(tmp_path, broker, receiver, monkeypatch, 0.004)
    try:
        assert await eventually(lambda: all_delivered(again, 1), timeout=20)
        [message] = await again.store.list_messages()
        assert message.event_id == event["event_id"]
        assert len(receiver.received) == 1
    finally:
        await again.stop()
