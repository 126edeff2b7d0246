"""A message's detail says when it was released from held (``released_at``): its ``max_age``
counts from the latest of its creation, that release and its destination's last resume. One
never held says none. Held and released as in operation: a sunset passes, then the destination
moves to the successor version."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.presenters import iso_time
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for

BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 deprecated, sunset 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)


def another(referral: dict[str, Any]) -> str:
    event = copy.deepcopy(referral)
    event["event_id"] = str(uuid.uuid4())
    return json.dumps(event)


async def test_the_detail_says_when_a_held_message_was_released_and_never_for_another(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(BEFORE_SUNSET)
    async with MllpReceiver() as receiver:
        old = destination(
            "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
        )
        catalog = build_catalog([("noord.yaml", old)], today=clock.now().date())
        engine = Engine(settings_for(tmp_path), clock=clock, catalog=catalog)
        await engine.start()
        try:
            never = await engine.intake.submit(another(referral_data), source="cli")
            assert await engine.wait_settled(timeout=10)
            clock.set(AFTER_SUNSET)
            [held] = (await engine.intake.submit(another(referral_data), source="cli")).messages
            assert held.status == "held"
            clock.advance(timedelta(hours=3))
            released_at = clock.now()
            moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
            await engine.apply_catalog(
                build_catalog([("noord.yaml", moved)], today=AFTER_SUNSET.date())
            )
            assert await engine.wait_settled(timeout=10)

            async with api_client(engine) as api:
                released = (await api.get(f"/api/v1/messages/{held.message_id}")).json()
                other = (await api.get(f"/api/v1/messages/{never.messages[0].message_id}")).json()
                listed = (await api.get("/api/v1/messages")).json()
        finally:
            await engine.stop()
    assert released["status"] == "delivered"
    assert released["released_at"] == iso_time(released_at)
    assert released["created_at"] == iso_time(AFTER_SUNSET)  # it keeps its creation
    assert other["status"] == "delivered" and other["released_at"] is None
    # Listings keep their shape: the release is a fact of one message's page.
    assert all("released_at" not in row for row in listed) and len(listed) == 2
