"""A small AMQP intake batch, taken while another is in work, gathers more until none is (for
``amqp_intake.GATHER_S`` at most), so that at a steady rate one commit, publish and ack serves
several events; with none in work it does not wait; and events held while a batch gathers are
not lost when the engine stops then: unacked, the broker gives them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial
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

#: Long enough that the wait ends when the batch in work does, however slow the machine.
GATHER_S = 60.0


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


def held_first_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], asyncio.Event]:
    """The sizes of the batches submitted, in order; the first one is held in work (its
    submit waits) until the event returned is set."""
    batches: list[int] = []
    release = asyncio.Event()
    submit_many = engine.intake.submit_many

    async def counted(bodies: Sequence[bytes], **kwargs: Any) -> Any:
        batches.append(len(bodies))
        if len(batches) == 1:
            await release.wait()
        return await submit_many(bodies, **kwargs)

    monkeypatch.setattr(engine.intake, "submit_many", counted)
    return batches, release


async def gathering_behind_one_in_work(
    engine: Engine,
    broker: tuple[str, str],
    events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[int], asyncio.Event]:
    """The first of two ``events`` published and its batch held in work, then the second
    published and taken: from here on its batch gathers. The sizes of the batches submitted,
    and the event that lets the first go on."""
    url, prefix = broker
    batches, release = held_first_batch(engine, monkeypatch)
    taken = taken_signal(engine, monkeypatch)
    await publish_events(url, prefix, events[:1])
    assert await eventually(lambda: batches == [1], timeout=10)  # in work, held
    taken.clear()
    await publish_events(url, prefix, events[1:2])
    await asyncio.wait_for(taken.wait(), 10)  # taken, and gathering
    return batches, release


def inbox_size(engine: Engine) -> int:
    intake = engine._amqp_intake
    assert isinstance(intake, AmqpIntake)
    return intake._inbox.qsize()


async def test_a_small_batch_gathers_while_another_is_in_work(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It could not commit before the batch in work anyway (batches commit in turn); it
    takes what came meanwhile, and goes on as soon as none is in work."""
    url, prefix = broker
    engine = await started(tmp_path, broker, receiver, monkeypatch, GATHER_S)
    try:
        *two, third = make_events(referral_data, [PROVIDER], 3)
        batches, release = await gathering_behind_one_in_work(engine, broker, two, monkeypatch)
        await publish_events(url, prefix, [third])
        assert await eventually(lambda: inbox_size(engine) == 1, timeout=10)
        release.set()  # none in work: the gathering batch goes on, with what came
        assert await eventually(lambda: all_delivered(engine, 3), timeout=20)
        assert batches == [1, 2]  # without the gathering: [1, 1, 1]
        assert len(receiver.received) == 3
    finally:
        await engine.stop()


async def test_a_small_batch_with_none_in_work_does_not_wait(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event now and then (a quiet engine) is taken in at once: with the wait as long as
    this, it would not be delivered within the test's time otherwise."""
    url, prefix = broker
    engine = await started(tmp_path, broker, receiver, monkeypatch, 600.0)
    try:
        for count, event in enumerate(make_events(referral_data, [PROVIDER], 2), 1):
            await publish_events(url, prefix, [event])
            assert await eventually(partial(all_delivered, engine, count), timeout=20)
    finally:
        await engine.stop()


async def test_events_held_while_a_batch_gathers_are_not_lost_when_the_engine_stops(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stop comes inside the wait, and while the first batch is still in work.
    engine = await started(tmp_path, broker, receiver, monkeypatch, 600.0)
    events = make_events(referral_data, [PROVIDER], 2)
    try:
        await gathering_behind_one_in_work(engine, broker, events, monkeypatch)
        assert sum((await engine.store.count_by_status()).values()) == 0  # none committed
    finally:
        await engine.stop()

    again = await started(tmp_path, broker, receiver, monkeypatch, 0.008)
    try:
        assert await eventually(lambda: all_delivered(again, 2), timeout=20)
        stored = {m.event_id for m in await again.store.list_messages()}
        assert stored == {event["event_id"] for event in events}
        assert len(receiver.received) == 2
    finally:
        await again.stop()
