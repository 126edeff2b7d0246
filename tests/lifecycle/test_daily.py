"""The daily prune: one engine per day between engines sharing a store, by the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.lifecycle.daily import LEASE, DailyPrune
from integrator.lifecycle.prune import PRUNE_ACTION
from integrator.lifecycle.retention import Retention
from integrator.store import AuditFilter, Store
from tests.integrator.support import settings_for
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message


async def test_of_two_engines_one_prunes_once_a_day(site: Site) -> None:
    clock = ManualClock(T0 + timedelta(days=100))
    first, second = await site.open(), await site.open()
    try:
        message = make_message()
        assert await first.accept_event(make_event(), [message])
        await first.set_status(message.id, "delivered")
        engines = [
            DailyPrune(first, Retention(), clock, holder="engine-a"),
            DailyPrune(second, Retention(), clock, holder="engine-b"),
        ]
        reports = await asyncio.gather(*(engine.tick() for engine in engines))
        ran = [r for r in reports if r is not None]
        assert len(ran) == 1 and ran[0].counts["messages"] == 1
        last_run, holder = await first.lease(LEASE)
        assert last_run == clock.now() and holder in {"engine-a", "engine-b"}

        clock.advance(timedelta(hours=23))
        assert [await engine.tick() for engine in engines] == [None, None]
        clock.advance(timedelta(hours=1))
        reports = await asyncio.gather(*(engine.tick() for engine in engines))
        assert len([r for r in reports if r is not None]) == 1

        # Only a run that pruned something is audited.
        entries = await first.list_audit(AuditFilter(action=PRUNE_ACTION))
        assert len(entries) == 1 and entries[0].actor == "engine:retention"
    finally:
        await first.close()
        await second.close()


async def test_the_running_engine_prunes_daily(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    settings = settings_for(tmp_path)
    store = await Store.open(settings.database_url, clock=clock.now)
    message = make_message()
    try:
        assert await store.accept_event(make_event(received_at=clock.now()), [message])
        await store.set_status(message.id, "delivered")
    finally:
        await store.close()

    engine = Engine(settings, clock=clock)
    await engine.start()
    try:
        # The engine's first look happens at start: it takes the day's turn (nothing is due).
        for _ in range(500):
            if (await engine.store.lease(LEASE))[0] is not None:
                break
            await asyncio.sleep(0.01)
        assert (await engine.store.lease(LEASE))[0] == clock.now()
        assert await engine.daily_prune.tick() is None  # not again the same day

        clock.advance(timedelta(days=settings.retain_payload_days + 1))
        report = await engine.daily_prune.tick()
        assert report is not None and report.counts["messages"] == 1
        pruned = await engine.store.get_message(message.id)
        assert pruned is not None and pruned.pruned_at == clock.now()
    finally:
        await engine.stop()
