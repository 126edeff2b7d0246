"""An unrouted event pruned past ``INTEGRATOR_RETAIN_UNROUTED_DAYS`` waits for nothing: its
page, ``events show`` and the API's detail no longer call it unrouted nor offer to route it
(there is nothing left to map); they say it was never routed and how it comes back."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integrator.access import Grant, Role
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.events_routing import describe_event
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.store.records import EventFilter
from tests.conftest import load_sample
from tests.console.test_saved_searches import signed_in
from tests.integrator.support import settings_for

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()  # no destination: every event is unrouted
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    yield started
    await started.stop()


async def test_a_pruned_unrouted_event_is_said_never_routed_and_not_offered_to_route(
    engine: Engine,
) -> None:
    data: dict[str, Any] = load_sample("referral")
    data["event_id"] = str(uuid.uuid4())
    await engine.intake.submit(json.dumps(data), source="cli")
    stored = await engine.store.get_event(data["event_id"])
    assert stored is not None
    waiting = await describe_event(engine.store, stored)
    assert waiting is not None and waiting["unrouted"] is True
    [listed] = await engine.store.list_events(EventFilter(event_ids=(stored.id,)))
    assert listed.unrouted

    later = START + timedelta(days=91)
    report = await prune(engine.store, Retention(), now=later, actor="local:tester")
    assert report.counts["unrouted"] == 1
    pruned = await engine.store.get_event(data["event_id"])
    assert pruned is not None
    detail = await describe_event(engine.store, pruned)
    assert detail is not None and detail["unrouted"] is False and detail["pruned_at"]
    # The listings alike (they counted its messages, none, and called it unrouted still).
    [listed] = await engine.store.list_events(EventFilter(event_ids=(stored.id,)))
    assert not listed.unrouted and listed.message_count == 0

    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        page = await sam.get(f"/events/{data['event_id']}")
    assert page.status_code == 200, page.text
    assert 'id="never-routed"' in page.text and "Never routed" in page.text
    assert 'id="unrouted"' not in page.text
