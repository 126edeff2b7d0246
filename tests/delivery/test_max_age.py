"""Held or paused is not failing: such time does not use up a message's max_age (product.md §3,
§5; destinations/README.md, "Retries and dead letters").

The engine runs on a clock the test moves: days pass between the hold (or the pause) and the
release (or the resume), then the receiver fails the first try. Without the rule the message
is older than ``max_age`` at that first failure and dies; with it, it is retried and delivered.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from destinations.config import DestinationConfig
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.store import Store
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 deprecated, sunset 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
WEEKEND = timedelta(days=3)
A_DAY_OF_RETRIES = {
    "initial": "10ms",
    "multiplier": 2,
    "max_delay": "20ms",
    "max_attempts": 5,
    "max_age": "24h",
}


def noord(port: int, **overrides: Any) -> DestinationConfig:
    values: dict[str, Any] = {"retry": A_DAY_OF_RETRIES, "ack_timeout": "500ms"}
    values.update(overrides)
    return destination("noord", port, providers=["ziekenhuis-noord"], **values)


async def start(tmp_path: Path, clock: ManualClock, config: DestinationConfig) -> Engine:
    catalog = build_catalog([("noord.yaml", config)], today=clock.now().date())
    engine = Engine(settings_for(tmp_path), clock=clock, catalog=catalog)
    await engine.start()
    return engine


async def submit(engine: Engine, referral: dict[str, Any]) -> str:
    event = copy.deepcopy(referral)
    event["event_id"] = str(uuid.uuid4())
    [message] = (await engine.intake.submit(json.dumps(event), source="cli")).messages
    return message.message_id


async def outcomes(engine: Engine, message_id: str) -> tuple[str, list[str]]:
    await engine.drain()
    stored = await engine.store.get_message(message_id)
    assert stored is not None
    return stored.status, [a.outcome for a in await engine.store.list_attempts(message_id)]


async def test_a_message_held_longer_than_max_age_is_retried_after_its_release(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(BEFORE_SUNSET)
    async with MisbehavingReceiver(["AE"]) as receiver:
        old = noord(receiver.port, messages={"referral": "ref-v1"})
        engine = await start(tmp_path, clock, old)
        try:
            clock.set(AFTER_SUNSET)
            held = await submit(engine, referral_data)
            assert (await outcomes(engine, held))[0] == "held"

            clock.advance(WEEKEND)  # nobody moves the destination for three days
            moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
            await engine.apply_catalog(build_catalog([("noord.yaml", moved)], today=clock.now()))
            assert await engine.wait_settled(timeout=10)

            assert await outcomes(engine, held) == ("delivered", ["retry", "delivered"])
            stored = await engine.store.get_message(held)
            assert stored is not None and stored.released_at == clock.now()
            assert receiver.received_ids() == [stored.control_id] * 2  # the same MSH-10
        finally:
            await engine.stop()


async def test_a_paused_destination_resumed_after_max_age_gives_its_queue_a_fresh_day(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(FRIDAY)
    async with MisbehavingReceiver(["refuse"]) as receiver:
        paused = noord(receiver.port, enabled=False)
        engine = await start(tmp_path, clock, paused)
        try:
            queued = [await submit(engine, referral_data) for _ in range(3)]

            clock.advance(WEEKEND)
            resumed = paused.model_copy(update={"enabled": True})
            await engine.apply_catalog(build_catalog([("noord.yaml", resumed)], today=clock.now()))
            assert await engine.wait_settled(timeout=10)

            # Monday's first network hiccup: retried, and then the queue goes out in order.
            assert await outcomes(engine, queued[0]) == ("delivered", ["failed", "delivered"])
            for later in queued[1:]:
                assert await outcomes(engine, later) == ("delivered", ["delivered"])
        finally:
            await engine.stop()


async def test_a_pause_outlives_a_restart_of_the_engine(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Paused when the engine stopped, enabled by the time it starts again (the file edited
    meanwhile): that is a resume too, known from the store, not from the engine's memory."""
    clock = ManualClock(FRIDAY)
    async with MisbehavingReceiver(["AE"]) as receiver:
        engine = await start(tmp_path, clock, noord(receiver.port, enabled=False))
        try:
            message = await submit(engine, referral_data)
        finally:
            await engine.stop()

        clock.advance(WEEKEND)
        engine = await start(tmp_path, clock, noord(receiver.port))
        try:
            assert await engine.wait_settled(timeout=10)
            assert await outcomes(engine, message) == ("delivered", ["retry", "delivered"])
        finally:
            await engine.stop()


async def test_an_engine_merely_stopped_gives_no_fresh_day(tmp_path: Path) -> None:
    """The counterpart: time the engine was down is no pause. A message older than max_age,
    for a destination never paused, dies at its first failure, by its creation."""
    clock = ManualClock(FRIDAY)
    store = await Store.open(settings_for(tmp_path).database_url, clock=clock.now)
    try:
        old = make_message(destination_id="noord")
        assert await store.accept_event(make_event(), [old])
    finally:
        await store.close()

    clock.advance(WEEKEND)
    async with MisbehavingReceiver(["refuse"]) as receiver:
        engine = await start(tmp_path, clock, noord(receiver.port))
        try:
            assert await engine.wait_settled(timeout=10)
            assert await outcomes(engine, old.id) == ("dead", ["deadletter"])
            stored = await engine.store.get_message(old.id)
            assert stored is not None and stored.last_error is not None
            assert stored.last_error.endswith("; gave up after 1 attempts (max_age 86400s reached)")
        finally:
            await engine.stop()
