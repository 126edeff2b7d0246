"""The audit trail's search by BSN in a real browser: posted once, kept on the server and
paged by GET under its handle (``integrator.console.kept``), as the message search is. The BSN
is in no address and no form field, Back asks nothing, and the search is audited once however
many of its pages are looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from integrator.console.pages.audit import PAGE
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine
from tests.console.test_kept_searches import BSN, assert_no_bsn, handle_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AUDITOR = "aart@example.org"


@pytest.fixture(scope="module")
def entries(live: LiveEngine) -> None:
    """One more entry naming the patient (by the BSN's keyed hash) than a page holds."""
    bsn_hash = live.engine.settings.bsn_hash(BSN)
    for number in range(PAGE + 1):
        live.call(
            live.engine.store.add_audit(
                "token:lab-desk",
                "patient_data.view",
                "messages",
                details={"view": "messages.search", "bsn_hash": bsn_hash, "n": number},
            )
        )


@pytest.fixture(scope="module")
def auditor(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person = live.person(AUDITOR, Grant(Role.ADMIN))
    page = new_context(browser, live).new_page()
    open_session(page, live, person)
    try:
        yield page
    finally:
        page.context.close()


def searches(live: LiveEngine) -> int:
    """How many searches of the audit trail by BSN the auditor made, as recorded."""
    return sum(
        1
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.actor == f"person:{AUDITOR}"
        and e.action == "patient_data.view"
        and (e.details or {}).get("view") == "audit.search"
    )


def test_an_audit_search_by_bsn_is_kept_and_paged_by_get_and_audited_once(
    auditor: Page, live: LiveEngine, entries: None
) -> None:
    urls: list[str] = []
    auditor.on("request", lambda request: urls.append(request.url))
    auditor.goto("/audit?action=patient_data.view")
    auditor.get_by_label("BSN of the patient").fill(BSN)
    auditor.get_by_role("button", name="Search by BSN").click()
    auditor.wait_for_url("**/audit?search=*")
    handle = handle_of(auditor.url)
    rows = auditor.locator("table tbody tr")
    assert rows.count() == PAGE
    assert auditor.locator("#by-bsn").is_visible()
    # The identifier term typed beside the BSN is kept with the search and shown in its form.
    assert auditor.get_by_label("Action").first.input_value() == "patient_data.view"
    assert auditor.get_by_role("link", name="Export these entries as CSV").count() == 0
    assert_no_bsn(auditor, urls)
    screenshot(auditor, "audit-kept-search")

    auditor.get_by_role("link", name="Older entries").click()
    auditor.wait_for_url(re.compile(rf"offset={PAGE}"))
    assert handle_of(auditor.url) == handle
    # The one over only: the trail as the search found it, not its own entry made after.
    assert rows.count() == 1
    assert_no_bsn(auditor, urls)

    auditor.go_back()  # a GET: no "Confirm Form Resubmission", the first page again
    auditor.wait_for_url(re.compile(r"search=[^&]+$"))
    assert rows.count() == PAGE
    auditor.reload()
    assert rows.count() == PAGE
    assert_no_bsn(auditor, urls)

    # One search made: one audit entry, however many of its pages were shown.
    assert searches(live) == 1

    # Searching again is another search, under another handle, audited again.
    auditor.goto("/audit")
    auditor.get_by_label("BSN of the patient").fill(BSN)
    auditor.get_by_role("button", name="Search by BSN").click()
    auditor.wait_for_url("**/audit?search=*")
    assert handle_of(auditor.url) != handle
    assert searches(live) == 2


def test_an_audit_search_without_a_bsn_is_kept_by_its_terms(
    auditor: Page, live: LiveEngine, entries: None
) -> None:
    """The by-patient form posted with its BSN field empty is a search of its terms, kept
    as any search without a BSN: by its handle, not by a BSN."""
    auditor.goto("/audit?action=patient_data.view")
    auditor.get_by_role("button", name="Search by BSN").click()
    auditor.wait_for_url("**/audit?search=*")
    assert "patient_data.view" not in auditor.url
    assert auditor.locator("#a-action").input_value() == "patient_data.view"
    assert auditor.locator("#by-bsn").count() == 0


def test_another_persons_audit_search_handle_shows_nothing(
    auditor: Page, browser: Browser, live: LiveEngine, entries: None
) -> None:
    auditor.goto("/audit")
    auditor.get_by_label("BSN of the patient").fill(BSN)
    auditor.get_by_role("button", name="Search by BSN").click()
    auditor.wait_for_url("**/audit?search=*")
    other = new_context(browser, live).new_page()
    try:
        open_session(other, live, live.person("bea@example.org", Grant(Role.ADMIN)))
        answer = other.goto(f"/audit?search={handle_of(auditor.url)}")
        assert answer is not None and answer.status == 404
        assert other.locator("table").count() == 0
        assert other.locator("#search-again").get_attribute("href") == "/audit"
    finally:
        other.context.close()
