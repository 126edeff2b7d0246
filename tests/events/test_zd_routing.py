"""Routing an event that no destination served at intake: its messages carry the ZD number's
warning intake gave the event, judged against the events accepted before it (not after), with
one history read per chunk. On both backends, through the real intake and routing code.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator.catalog import Catalog, build_catalog
from integrator.clock import ManualClock
from integrator.events_routing import RouteRequest, route_selected
from integrator.intake import Intake
from integrator.store import Store
from integrator.zd_sequence import CANCEL_WITHOUT_NEW, NEW_REPEATED, zd_warnings
from tests.integrator.support import destination, settings_for

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
#: What the sample referral says about its patient: none of it may reach a log line.
PATIENT = ("999990019", "Berg", "Jan", "1961-04-12", "Dorpsstraat", "1234 AB", "0612345678")
SEARCH_KEY = "a-test-search-key-of-enough-length"


def serving_noord() -> Catalog:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    return build_catalog([("noord.yaml", config)], today=START.date())


def intake_on(store: Store, tmp_path: Path, clock: ManualClock) -> Intake:
    """Intake on the test's store, with no destination yet: what it accepts is unrouted."""
    return Intake(
        store=store,
        transport=None,
        catalog=Catalog(),
        settings=settings_for(tmp_path, search_key=SEARCH_KEY),
        clock=clock,
    )


async def accept(intake: Intake, clock: ManualClock, data: dict[str, Any], **changes: Any) -> str:
    """One event, a second after the one before: the store's order is the order of these."""
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    copied.update(changes)
    clock.advance(timedelta(seconds=1))
    result = await intake.submit(json.dumps(copied), source="http")
    assert result.messages == ()  # unrouted
    return result.event_id


def request(*, dry_run: bool = False) -> RouteRequest:
    return RouteRequest(
        reason="noord connected", actor="local:anna", provider="ziekenhuis-noord", dry_run=dry_run
    ).checked(settings_for(Path("/nonexistent")))


async def warnings_of(store: Store, message_id: str) -> tuple[str, ...]:
    message = await store.get_message(message_id)
    assert message is not None
    return message.warnings


async def test_a_cancel_of_nothing_routed_later_carries_its_warning(
    store: Store, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(START)
    intake = intake_on(store, tmp_path, clock)
    cancel = await accept(intake, clock, referral_data, action="cancel")
    intake.catalog = serving_noord()

    [dry], _ = await route_selected(store, intake, clock, [cancel], request(dry_run=True))
    with capture_logs() as logs:
        [routed], outbound = await route_selected(store, intake, clock, [cancel], request())

    [message] = routed.messages
    [warning] = zd_warnings(message.warnings)
    assert warning.startswith(f"{CANCEL_WITHOUT_NEW}: no new referral with this ZD number")
    assert await warnings_of(store, message.id) == message.warnings  # stored: messages show
    assert [m.payload for m in outbound] == [message.payload]  # noted, not sent
    assert b"cancel_without_new" not in message.payload
    # The dry run promises the same warning.
    [would] = dry.to_json()["messages"]
    assert zd_warnings(would["warnings"]) == (warning,)
    [line] = [e for e in logs if e["event"] == "events routed"]
    assert line["zd_warnings"] == 1
    assert not any(value in str(logs) for value in PATIENT)


async def test_events_are_judged_against_those_before_them_with_one_read_per_chunk(
    store: Store,
    tmp_path: Path,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `new` cancelled after it was accepted broke nothing; the second `new`, accepted before
    the cancel, is a repeat and nothing more; the cancel after a `new` is fine."""
    clock = ManualClock(START)
    intake = intake_on(store, tmp_path, clock)
    first = await accept(intake, clock, referral_data)
    second = await accept(intake, clock, referral_data)
    cancel = await accept(intake, clock, referral_data, action="cancel")
    other = await accept(intake, clock, referral_data, zd_number="ZD100000002")
    intake.catalog = serving_noord()
    reads: list[list[str]] = []
    history = store.zd_history

    async def counted(numbers: Any) -> Any:
        reads.append(list(numbers))
        return await history(numbers)

    monkeypatch.setattr(store, "zd_history", counted)
    # Named out of order: routing takes them in the order they arrived.
    results, _ = await route_selected(
        store, intake, clock, [cancel, other, second, first], request()
    )

    assert len(reads) == 1  # one read for the chunk, not one per event
    found = {r.event_id: zd_warnings(r.messages[0].warnings) for r in results}
    assert found[first] == ()
    [repeated] = found[second]
    assert repeated.startswith(f"{NEW_REPEATED}: ") and f"in event {first}" in repeated
    assert found[cancel] == ()
    assert found[other] == ()
    for result in results:
        [message] = result.messages
        assert await warnings_of(store, message.id) == message.warnings
