"""Searches by BSN in a real browser: posted once, kept on the server, shown by GET under a
handle (``integrator.console.kept``). Back and a reload ask nothing and search nothing again,
the BSN is in no address and no form field of the result pages, each search is audited once
however many of its pages are looked at, and another person's handle shows nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from integrator.access import Grant, Role
from integrator.console.pages.messages import PAGE_SIZE
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BSN = str(load_sample("referral")["patient"]["bsn"])
SEARCHER = "kees@example.org"
SEARCHED = ("patient_data.view", "messages.search")
HIDDEN_VALUES = "() => Array.from(document.querySelectorAll('input')).map(e => e.value)"


@pytest.fixture(scope="module")
def messages(live: LiveEngine) -> list[str]:
    """One more of the sample patient's referrals than a page holds, delivered to ``noord``."""
    made = []
    for number in range(PAGE_SIZE + 1):
        event = load_sample("referral")
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD3000{number:05d}"
        made.append(live.submit(event, settle=False))
    assert live.call(live.engine.wait_settled(timeout=60))
    return made


def signed_in(browser: Browser, live: LiveEngine, email: str, *, dutch: bool = False) -> Page:
    """A new person with the resend and reports roles for all clusters (patient data, and the
    CSV export), signed in in a browser of their own (through the English form), then reading
    Dutch pages if ``dutch``."""
    person = live.person(email, Grant(Role.RESEND), Grant(Role.REPORTS))
    page = new_context(browser, live).new_page()
    open_session(page, live, person)
    if dutch:
        page.context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    return page


@pytest.fixture(scope="module")
def searcher(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    page = signed_in(browser, live, SEARCHER)
    try:
        yield page
    finally:
        page.context.close()


def handle_of(url: str) -> str:
    [handle] = parse_qs(urlsplit(url).query)["search"]
    return handle


def assert_no_bsn(page: Page, urls: list[str]) -> None:
    assert BSN not in page.url
    assert not any(BSN in url for url in urls)
    assert not any(BSN in value for value in page.evaluate(HIDDEN_VALUES))
    assert BSN not in page.content()


def test_a_bsn_search_is_kept_and_paged_by_get_and_audited_once(
    searcher: Page, live: LiveEngine, messages: list[str]
) -> None:
    urls: list[str] = []
    searcher.on("request", lambda request: urls.append(request.url))
    searcher.goto("/messages")
    searcher.get_by_label("BSN").fill(BSN)
    searcher.get_by_role("button", name="Search").click()
    searcher.wait_for_url("**/messages?search=*")
    handle = handle_of(searcher.url)
    rows = searcher.locator("#message-list tbody tr")
    assert rows.count() == PAGE_SIZE
    assert searcher.locator("#by-bsn").is_visible()
    assert_no_bsn(searcher, urls)
    screenshot(searcher, "messages-kept-search")

    searcher.get_by_role("link", name="Next page").click()
    searcher.wait_for_url(re.compile(r"offset=50"))
    assert handle_of(searcher.url) == handle
    assert rows.count() == 1
    assert_no_bsn(searcher, urls)

    searcher.go_back()  # a GET: no "Confirm Form Resubmission", the first page again
    searcher.wait_for_url(re.compile(r"search=[^&]+$"))
    assert rows.count() == PAGE_SIZE
    searcher.reload()
    assert rows.count() == PAGE_SIZE
    searcher.go_forward()
    assert rows.count() == 1

    # One search made: one audit entry, however many of its pages were shown.
    assert live.audit_actions(f"person:{SEARCHER}").count(SEARCHED) == 1

    export = searcher.locator("#export-csv")
    assert export.get_attribute("href") == f"/messages.csv?search={handle}"
    with searcher.expect_download() as download:
        export.click()
    text = download.value.path().read_text(encoding="utf-8")
    assert len(text.splitlines()) == PAGE_SIZE + 2 and BSN not in text
    assert ("messages.export", "messages.csv") in live.audit_actions(f"person:{SEARCHER}")
    assert_no_bsn(searcher, urls)

    # Searching again is another search, audited again.
    searcher.goto("/messages")
    searcher.get_by_label("BSN").fill(BSN)
    searcher.get_by_role("button", name="Search").click()
    searcher.wait_for_url("**/messages?search=*")
    assert handle_of(searcher.url) != handle
    assert live.audit_actions(f"person:{SEARCHER}").count(SEARCHED) == 2


def test_an_identifier_search_is_kept_by_its_handle(searcher: Page, messages: list[str]) -> None:
    searcher.goto("/messages")
    searcher.get_by_label("ZD number").fill("ZD300000003")
    searcher.get_by_role("button", name="Search").click()
    searcher.wait_for_url("**/messages?search=*")
    assert "ZD300000003" not in searcher.url
    assert searcher.locator("#by-bsn").count() == 0
    assert searcher.locator("#message-list tbody tr").count() == 1
    searcher.reload()
    assert searcher.locator("#message-list tbody tr").count() == 1


def test_another_persons_handle_shows_nothing_of_it(
    searcher: Page, browser: Browser, live: LiveEngine, messages: list[str]
) -> None:
    searcher.goto("/messages")
    searcher.get_by_label("BSN").fill(BSN)
    searcher.get_by_role("button", name="Search").click()
    searcher.wait_for_url("**/messages?search=*")
    address = urlsplit(searcher.url)
    other = signed_in(browser, live, "lotte@example.org", dutch=True)
    try:
        answer = other.goto(f"{address.path}?{address.query}")
        assert answer is not None and answer.status == 404
        assert other.locator("h1").inner_text() == "Zoekopdracht niet meer beschikbaar"
        assert other.locator("#message-list").count() == 0
        assert other.locator("#search-again").get_attribute("href") == "/messages"
        # Nor its export, nor its pages.
        csv = other.request.get(f"/messages.csv?{address.query}")
        assert csv.status == 404 and BSN not in csv.text()
        screenshot(other, "messages-kept-search-other")
    finally:
        other.context.close()
    assert ("patient_data.view", "messages.search") not in live.audit_actions(
        "person:lotte@example.org"
    )


def test_an_event_search_by_bsn_is_kept_too(
    searcher: Page, live: LiveEngine, messages: list[str]
) -> None:
    before = live.audit_actions(f"person:{SEARCHER}").count(("patient_data.view", "events.search"))
    urls: list[str] = []
    searcher.on("request", lambda request: urls.append(request.url))
    searcher.goto("/events")
    searcher.get_by_label("BSN").fill(BSN)
    searcher.get_by_role("button", name="Search").click()
    searcher.wait_for_url("**/events?search=*")
    assert searcher.locator("#event-list tbody tr").count() == PAGE_SIZE
    searcher.get_by_role("link", name="Next page").click()
    searcher.wait_for_url(re.compile(r"offset=50"))
    assert searcher.locator("#event-list tbody tr").count() >= 1
    searcher.go_back()
    searcher.wait_for_url(re.compile(r"search=[^&]+$"))
    assert searcher.locator("#event-list tbody tr").count() == PAGE_SIZE
    assert_no_bsn(searcher, urls)
    after = live.audit_actions(f"person:{SEARCHER}").count(("patient_data.view", "events.search"))
    assert after == before + 1


def test_a_rejected_input_search_by_bsn_is_kept_too(searcher: Page, live: LiveEngine) -> None:
    urls: list[str] = []
    searcher.on("request", lambda request: urls.append(request.url))
    searcher.goto("/rejected")
    searcher.get_by_label("BSN").fill(BSN)
    searcher.get_by_role("button", name="Filter").click()
    searcher.wait_for_url("**/rejected?search=*")
    assert searcher.locator("#rejected-count").is_visible()
    searcher.reload()
    assert_no_bsn(searcher, urls)
    done = live.audit_actions(f"person:{SEARCHER}")
    assert done.count(("patient_data.view", "rejected.search")) == 1
