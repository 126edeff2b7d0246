"""An engine that made its store at this start does not look for anything to prune then
(``lifecycle.daily``): a store made a moment ago holds nothing past any retention, and the
look cost a new engine about as much CPU as its start. A store that was there before is looked
at, at start, as always."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from structlog.testing import capture_logs

from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.lifecycle.daily import LEASE, DailyPrune
from integrator.lifecycle.retention import Retention
from integrator.store import Store
from tests.integrator.support import settings_for
from tests.store.factories import make_event, make_message

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def test_an_engine_on_a_store_it_made_does_not_prune_at_its_start(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path), clock=ManualClock(NOW))
    with capture_logs() as logs:
        await engine.start()
        try:
            assert engine.store.made_now
            await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
            assert await engine.store.lease(LEASE) == (None, None)
        finally:
            await engine.stop()
    assert not [line for line in logs if line["event"] == "daily prune"], logs


async def test_a_store_that_was_there_is_pruned_at_the_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    long_ago = NOW - timedelta(days=settings.retain_payload_days + 2)
    store = await Store.open(settings.database_url, clock=lambda: long_ago)
    message = make_message()
    try:
        assert store.made_now
        assert await store.accept_event(make_event(received_at=long_ago), [message])
        await store.set_status(message.id, "delivered")
    finally:
        await store.close()

    engine = Engine(settings, clock=ManualClock(NOW))
    await engine.start()
    try:
        assert not engine.store.made_now
        await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
        assert (await engine.store.lease(LEASE))[0] == NOW
        pruned = await engine.store.get_message(message.id)
        assert pruned is not None and pruned.pruned_at == NOW
    finally:
        await engine.stop()


async def test_the_next_look_takes_the_days_turn(tmp_path: Path) -> None:
    store = await Store.open(settings_for(tmp_path).database_url)
    clock = ManualClock(NOW)
    daily = DailyPrune(store, Retention(), clock, check_every=0.05, store_made_now=True)
    daily.start()
    try:
        await asyncio.wait_for(daily.first_tick.wait(), timeout=30)
        for _ in range(200):
            if (await store.lease(LEASE))[0] is not None:
                break
            await asyncio.sleep(0.02)
        assert (await store.lease(LEASE))[0] == NOW
    finally:
        await daily.stop()
        await store.close()
