"""A GP's refused referral found in the console, in a real browser against a running engine.

Support searches the messages by the ZD number the GP gave, finds none, and is told that intake
refused it, with a link to that rejected input; the *Rejected input* page shows each piece's ZD
number and takes a ZD number, a provider and, for who may read patient data for all clusters, a
BSN, which the form posts (never in an address) and the audit trail records as a search of
patient data (view ``rejected.search``) under the person's name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.errors import InvalidEvent
from integrator.store import AuditRecord
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, sign_in
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BSN = "999990019"  # the sample referral's patient


@pytest.fixture
def page(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    context = new_context(browser, live)
    try:
        yield context.new_page()
    finally:
        context.close()


def _refuse(live: LiveEngine, provider: str) -> tuple[str, str]:
    """The sample referral with an ``event_id`` that is no UUID, refused by intake as an
    upstream system's over HTTP; its id and its (fresh) ZD number."""
    event: dict[str, Any] = load_sample("referral")
    zd_number = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event.update(event_id="not-a-uuid", zd_number=zd_number)
    event["provider"]["id"] = provider
    with pytest.raises(InvalidEvent) as refused:
        live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    rejected_id = refused.value.rejected_id
    assert rejected_id is not None
    return rejected_id, zd_number


def _searches(live: LiveEngine) -> list[AuditRecord]:
    entries = live.call(live.engine.store.list_audit(limit=1000))
    return [
        e
        for e in entries
        if e.action == "patient_data.view"
        and e.details is not None
        and e.details["view"] == "rejected.search"
    ]


def test_support_finds_a_refused_referral_by_its_zd_number_and_by_bsn(
    page: Page, live: LiveEngine
) -> None:
    rejected_id, zd_number = _refuse(live, f"provider-{uuid.uuid4().hex[:8]}")
    support = live.person("sam.refused@example.org", Grant(Role.RESEND))
    sign_in(page, support)

    # No message by that ZD number: the page says intake refused it, and links to it.
    page.get_by_role("link", name="Messages", exact=True).click()
    page.get_by_label("ZD number").fill(zd_number.lower())
    page.get_by_role("button", name="Search").click()
    notice = page.locator("#rejected-zd")
    notice.wait_for(state="visible")
    assert notice.inner_text().startswith(
        "No messages; 1 rejected input with this ZD number: intake refused it."
    )
    screenshot(page, "messages-rejected-zd")
    page.get_by_role("link", name=f"Show the rejected input with ZD number {zd_number}").click()
    page.wait_for_url(f"**/rejected?zd_number={zd_number}")
    rows = page.locator("#rejected-list tbody tr")
    assert rows.count() == 1
    assert zd_number in rows.first.inner_text() and rejected_id[:8] in rows.first.inner_text()
    assert page.get_by_label("ZD number").input_value() == zd_number
    screenshot(page, "rejected-by-zd")

    # By BSN (and the provider, to leave other tests' pieces out): posted, audited, shown.
    provider = live.call(live.engine.store.get_rejected(rejected_id))
    assert provider is not None and provider.provider_id is not None
    before = len(_searches(live))
    page.get_by_label("ZD number").fill("")
    page.get_by_label("Provider").fill(provider.provider_id)
    page.get_by_label("BSN").fill("999 990 019")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/rejected?search=*")
    assert BSN not in page.url and "999" not in page.url
    assert page.locator("#rejected-list tbody tr").count() == 1
    assert zd_number in page.locator("#rejected-list").inner_text()
    searches = _searches(live)
    assert len(searches) == before + 1
    view = searches[0]  # newest first
    assert view.actor == f"person:{support.email}" and view.details is not None
    assert view.details["bsn_hash"] == live.engine.settings.bsn_hash(BSN)
    assert view.details["found"] == 1 and view.details["source"] == "127.0.0.1"
    assert BSN not in json.dumps(view.details)
    screenshot(page, "rejected-by-bsn")


def test_a_viewer_searches_by_zd_number_but_not_by_bsn(page: Page, live: LiveEngine) -> None:
    _, zd_number = _refuse(live, "lab-west")
    viewer = live.person("vera.refused@example.org", Grant(Role.VIEWER))
    sign_in(page, viewer)
    page.goto("/rejected")
    assert page.get_by_label("BSN").count() == 0
    page.get_by_label("ZD number").fill(zd_number)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**/rejected?*zd_number={zd_number}*")
    assert page.locator("#rejected-list tbody tr").count() == 1
