"""The console's events and audit pages say which of how many they show ("N of M"), as the
message search does: counted only when the results fill more than a page, and no further
than ``listing_totals.COUNTED_AT_MOST`` ("more than"). Request by request against a real
engine, in both languages."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator import listing_totals
from integrator.access import Grant, Role
from integrator.console.pages import audit as audit_page
from integrator.console.pages import events as events_page
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message

NOORD = {"provider": "ziekenhuis-noord"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Three events of ziekenhuis-noord with a message to ``noord`` each, one of another
    provider, and three audit entries by ``local:tester``."""
    async with noord_engine(tmp_path) as started:
        for n in range(3):
            message = make_message(destination_id="noord")
            await started.store.accept_event(make_event(zd_number=f"ZD{n + 1:09d}"), [message])
        other = make_event(provider_id="elders", zd_number="ZD000000009")
        await started.store.accept_event(other, [make_message(destination_id="noord")])
        for n in range(3):
            await started.store.add_audit("local:tester", "test.entry", f"target-{n}")
        yield started


def _said(page: str, element: str) -> str:
    found = re.search(rf'<p id="{element}" role="status">(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(found[1])


async def test_the_events_search_says_which_of_how_many_it_shows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_page, "PAGE_SIZE", 2)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        first = await sam.get("/events", params=NOORD)
        second = await sam.get("/events", params={**NOORD, "offset": "2"})
        one = await sam.get("/events", params={"zd_number": "ZD000000009"})
    assert _said(first.text, "event-total") == "1–2 of 3 events found"
    assert _said(second.text, "event-total") == "3–3 of 3 events found"
    assert _said(one.text, "event-total") == "1–1 of 1 event found"
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        dutch = await anna.get("/events", params=NOORD)
        single = await anna.get("/events", params={"zd_number": "ZD000000009"})
    assert _said(dutch.text, "event-total") == "1–2 van 3 gevonden gebeurtenissen"
    assert _said(single.text, "event-total") == "1–1 van 1 gevonden gebeurtenis"


async def test_the_audit_page_says_which_of_how_many_it_shows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_page, "PAGE", 2)
    tester = {"actor": "local:tester"}
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        first = await ada.get("/audit", params=tester)
        second = await ada.get("/audit", params={**tester, "offset": "2"})
        one = await ada.get("/audit", params={**tester, "target": "target-1"})
    assert _said(first.text, "audit-total") == "1–2 of 3 entries found"
    assert _said(second.text, "audit-total") == "3–3 of 3 entries found"
    assert _said(one.text, "audit-total") == "1–1 of 1 entry found"
    async with signed_in(engine, "bo@example.org", Grant(Role.ADMIN), lang="nl") as bo:
        dutch = await bo.get("/audit", params=tester)
        single = await bo.get("/audit", params={**tester, "target": "target-1"})
    assert _said(dutch.text, "audit-total") == "1–2 van 3 gevonden regels"
    assert _said(single.text, "audit-total") == "1–1 van 1 gevonden regel"


async def test_a_total_is_counted_no_further_than_its_bound(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the bound the page says "more than": a count of a trail of millions on each look
    at its first page would make the page slow."""
    monkeypatch.setattr(listing_totals, "COUNTED_AT_MOST", 2)
    monkeypatch.setattr(events_page, "PAGE_SIZE", 1)
    monkeypatch.setattr(audit_page, "PAGE", 1)
    tester = {"actor": "local:tester"}
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), Grant(Role.RESEND)) as ada:
        events = await ada.get("/events", params=NOORD)
        audit = await ada.get("/audit", params=tester)
    assert _said(events.text, "event-total") == "1–1 of more than 2 events found"
    assert _said(audit.text, "audit-total") == "1–1 of more than 2 entries found"
    async with signed_in(
        engine, "bo@example.org", Grant(Role.ADMIN), Grant(Role.RESEND), lang="nl"
    ) as bo:
        events = await bo.get("/events", params=NOORD)
        audit = await bo.get("/audit", params=tester)
    assert _said(events.text, "event-total") == "1–1 van meer dan 2 gevonden gebeurtenissen"
    assert _said(audit.text, "audit-total") == "1–1 van meer dan 2 gevonden regels"
