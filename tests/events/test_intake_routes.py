"""Intake routes each event to the destinations in service at the moment it is prepared. It
looks them up once per provider (``Intake._serving``), not per event: a new catalog, and a
removal's ``stop_routing``, must still change what the very next event gets. On both backends,
through the real intake."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from integrator.catalog import Catalog, build_catalog
from integrator.clock import ManualClock
from integrator.intake import Intake
from integrator.store import Store
from tests.integrator.support import destination, settings_for

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PROVIDER = "ziekenhuis-noord"  # the sample referral's


def serving(*ids: str) -> Catalog:
    """A catalog whose destinations ``ids`` all serve the sample referral's provider."""
    configs = [(f"{i}.yaml", destination(i, 2575, providers=[PROVIDER])) for i in ids]
    return build_catalog(configs, today=START.date())


async def routed_to(intake: Intake, clock: ManualClock, data: dict[str, Any]) -> list[str]:
    """The destinations a new copy of ``data`` got a message for."""
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    clock.advance(timedelta(seconds=1))
    result = await intake.submit(json.dumps(copied), source="http")
    assert not result.duplicate
    return [m.destination_id for m in result.messages]


async def test_the_next_event_is_routed_on_a_new_catalog_and_not_where_routing_stopped(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(START)
    intake = Intake(
        store=store,
        transport=None,
        catalog=serving("noord"),
        settings=settings_for(tmp_path, search_key="a-test-search-key-of-enough-length"),
        clock=clock,
    )
    assert await routed_to(intake, clock, referral_data) == ["noord"]
    assert await routed_to(intake, clock, referral_data) == ["noord"]

    await intake.stop_routing("noord")  # a removal of noord begins
    assert await routed_to(intake, clock, referral_data) == []

    intake.catalog = serving("zuid")
    assert await routed_to(intake, clock, referral_data) == ["zuid"]

    intake.catalog = serving("noord", "zuid")
    assert await routed_to(intake, clock, referral_data) == ["noord", "zuid"]
    await intake.stop_routing("zuid")
    assert await routed_to(intake, clock, referral_data) == ["noord"]
