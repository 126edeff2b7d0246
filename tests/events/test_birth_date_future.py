"""A birth date after the day an event arrives is refused at intake.

Schemas read no clock: they hold a birth date to the event's ``created_at`` only, so an event
whose ``created_at`` a sender's clock put in the future let a future birth date through to the
hospital's PID-7. Intake, which has the clock, refuses it and keeps it as rejected input.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from integrator.clock import ManualClock
from integrator.errors import InvalidEvent
from integrator.store import Store
from tests.events.test_zd_routing import intake_on

ARRIVES = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 27 November, 10:00 in Amsterdam


def born(data: dict[str, Any], birth: date, created: str) -> str:
    event = copy.deepcopy(data)
    event["event_id"] = str(uuid.uuid4())
    event["created_at"] = created
    event["patient"]["birth_date"] = birth.isoformat()
    return json.dumps(event)


async def test_a_birth_date_after_the_day_it_arrived_is_refused_and_kept(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    intake = intake_on(store, tmp_path, ManualClock(ARRIVES))
    with pytest.raises(InvalidEvent) as refused:
        await intake.submit(
            born(referral_data, date(2098, 6, 1), "2099-01-01T00:00:00+01:00"), source="http"
        )
    assert [(e.path, e.rule) for e in refused.value.errors] == [
        ("patient.birth_date", "birth_date_in_future")
    ]
    assert "2098" not in str(refused.value)
    [kept] = await store.list_rejected()
    assert kept.id == refused.value.rejected_id


async def test_a_day_of_slack_for_the_senders_today(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Born today, or "tomorrow" by a sender's clock ahead of the engine's zone: accepted."""
    intake = intake_on(store, tmp_path, ManualClock(ARRIVES))
    for birth in (date(2026, 11, 27), date(2026, 11, 28)):
        await intake.submit(born(referral_data, birth, "2026-11-28T09:00:00+01:00"), source="http")
    with pytest.raises(InvalidEvent):
        await intake.submit(
            born(referral_data, date(2026, 11, 29), "2026-11-29T09:00:00+01:00"), source="http"
        )


async def test_a_future_birth_date_is_in_future_also_when_created_at_is_in_the_past(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Born in 2030 in a referral made last week was refused as ``birth_date_after_created_at``
    (the schemas' rule, which ran first), as if ``created_at`` were what to fix: the one rule
    said of a birth date after the day it arrived is ``birth_date_in_future``."""
    intake = intake_on(store, tmp_path, ManualClock(ARRIVES))
    with pytest.raises(InvalidEvent) as refused:
        await intake.submit(
            born(referral_data, date(2030, 1, 1), "2026-11-20T09:15:00+01:00"), source="http"
        )
    assert [(e.path, e.rule) for e in refused.value.errors] == [
        ("patient.birth_date", "birth_date_in_future")
    ]
    # After created_at but not after the day it arrived: the schemas' rule, as before.
    with pytest.raises(InvalidEvent) as before:
        await intake.submit(
            born(referral_data, date(2026, 11, 25), "2026-11-20T09:15:00+01:00"), source="http"
        )
    assert [(e.path, e.rule) for e in before.value.errors] == [
        ("patient.birth_date", "birth_date_after_created_at")
    ]


async def test_a_future_birth_date_is_named_beside_the_other_broken_rules(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Every broken rule in one answer: a refusal for another field left the future birth date
    for the next round. A birth date that breaks its own rule is not judged again."""
    intake = intake_on(store, tmp_path, ManualClock(ARRIVES))
    event = json.loads(born(referral_data, date(2030, 1, 1), "2026-11-20T09:15:00+01:00"))
    event["priority"] = "asap"
    with pytest.raises(InvalidEvent) as refused:
        await intake.submit(json.dumps(event), source="http")
    assert [(e.path, e.rule) for e in refused.value.errors] == [
        ("priority", "allowed_values"),
        ("patient.birth_date", "birth_date_in_future"),
    ]
    event["patient"]["birth_date"] = "2030-02-30"
    with pytest.raises(InvalidEvent) as invalid:
        await intake.submit(event, source="http")
    assert "birth_date_in_future" not in {e.rule for e in invalid.value.errors}
