"""The unrouted events' CSV on the console, request by request against a real engine: for
``reports.export`` only, the same rows as the event search makes, unrouted events only,
audited as ``events.export`` with the person's identity and address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.events_routing import build_event_filter
from integrator.exports import EVENT_CSV_COLUMNS, events_csv
from tests.console.started import started_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        # Two events no destination serves, and one that went to a destination.
        for zd in ("ZD100000001", "ZD100000002"):
            assert await started.store.accept_event(
                make_event(zd_number=zd, provider_id="nieuw-ziekenhuis", received_at=START), []
            )
        routed = make_event(zd_number="ZD100000003", received_at=START)
        assert await started.store.accept_event(routed, [make_message()])
        yield started


async def exports(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    entries = await engine.store.list_audit(limit=100)
    return [(e.actor, e.target, e.details or {}) for e in entries if e.action == "events.export"]


async def test_reports_downloads_the_unrouted_events_and_it_is_audited(engine: Engine) -> None:
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS)) as rita:
        shown = await rita.get("/events/unrouted")
        assert 'href="/events/unrouted.csv"' in shown.text
        answer = await rita.get("/events/unrouted.csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == ('attachment; filename="unrouted-events.csv"')
    lines = answer.text.splitlines()
    assert lines[0] == ",".join(EVENT_CSV_COLUMNS) and len(lines) == 3
    assert "ZD100000003" not in answer.text  # routed: not listed
    assert "Jansen" not in answer.text  # identifiers only, never the payload
    flt = build_event_filter(engine.settings, unrouted=True)
    found = await engine.store.list_events(flt, limit=10_000)
    assert answer.text == events_csv(found, engine.settings.zone)  # times local, as listed

    [(actor, target, details)] = await exports(engine)
    assert (actor, target) == ("person:rita@example.org", "events.csv")
    assert details["terms"] == {"unrouted": True} and details["rows"] == 2
    assert details["source"] == "127.0.0.1"


async def test_support_without_reports_sees_no_export_and_is_refused_it(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/events/unrouted")
        assert shown.status_code == 200 and "ZD100000001" in shown.text
        assert "/events/unrouted.csv" not in shown.text
        assert (await sam.get("/events/unrouted.csv")).status_code == 403
    assert await exports(engine) == []
