"""The console's audit page and its CSV, request by request against a real engine: a
destination that names nothing is refused beside its field, never repeated, as the API refuses
it; one removed since stays searchable while the trail or a stored message names it."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.console.test_saved_searches import csrf, signed_in
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BSN = "999999990"
RULE = "no destination has that id, and no audit entry or stored message names one"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    await started.store.add_audit("person:anna@example.nl", "destination.remove", "kliniek-oud")
    await started.store.accept_event(make_event(), [make_message(destination_id="zuid")])
    yield started
    await started.stop()


async def test_the_audit_page_refuses_a_destination_that_names_nothing(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        removed = await ada.get("/audit", params={"destination": "kliniek-oud"})
        assert removed.status_code == 200 and "destination.remove" in removed.text
        named = await ada.get("/audit", params={"destination": "zuid"})  # by a message only
        assert named.status_code == 200 and 'id="audit-empty"' in named.text
        # Configured: the engine's start audited its file (actor ``file``).
        configured = await ada.get("/audit", params={"destination": "lab-west"})
        assert configured.status_code == 200 and "destination.file" in configured.text

        refused = await ada.get("/audit", params={"destination": "nosuch"})
        form = await ada.get("/audit")
        by_patient = await ada.post(
            "/audit",
            data={"csrf": csrf(form.text), "destination": "nosuch", "bsn": BSN},
            headers={"origin": "http://console.test"},
        )
    for answer in (refused, by_patient):
        assert answer.status_code == 422, answer.text
        shown = html.unescape(answer.text)
        assert f'id="a-destination-error">{RULE}; configured: lab-west</p>' in shown
        # The form keeps what was typed in its field; nowhere else, and never the BSN.
        assert shown.count("nosuch") == 1 + answer.text.count('type="hidden" name="destination"')
        assert BSN not in answer.text
    assert "patient_data.view" not in {e.action for e in await engine.store.list_audit()}


async def test_the_audit_export_refuses_a_destination_that_names_nothing(engine: Engine) -> None:
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS)) as rita:
        removed = await rita.get("/audit.csv", params={"destination": "kliniek-oud"})
        assert removed.status_code == 200 and "destination.remove" in removed.text
        refused = await rita.get("/audit.csv", params={"destination": "nosuch"})
    assert refused.status_code == 422
    assert f"destination: {RULE}; configured: lab-west" in html.unescape(refused.text)
    assert "nosuch" not in refused.text
    exports = [e for e in await engine.store.list_audit() if e.action == "audit.export"]
    assert len(exports) == 1  # the refused one recorded nothing
