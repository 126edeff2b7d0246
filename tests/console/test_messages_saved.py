"""Reports staff save a search, run it, export it as CSV and delete it, in a real browser
against a running engine; a viewer is offered no export. The BSN stays out of every address
and out of the saved search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from integrator.search import CSV_COLUMNS
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ZD = "ZD100000001"  # the sample referral's
BSN = str(load_sample("referral")["patient"]["bsn"])


@pytest.fixture(scope="module")
def referral(live: LiveEngine) -> str:
    return live.submit(load_sample("referral"))


def _signed_in(browser: Browser, live: LiveEngine, email: str, *grants: Grant) -> Iterator[Page]:
    context = new_context(browser, live)
    page = context.new_page()
    open_session(page, live, live.person(email, *grants))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def analyst(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Support staff who also make reports: may search by BSN and export."""
    yield from _signed_in(browser, live, "rob@example.org", Grant(Role.RESEND), Grant(Role.REPORTS))


@pytest.fixture(scope="module")
def viewer(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    yield from _signed_in(browser, live, "vic@example.org", Grant(Role.VIEWER))


def test_a_search_is_saved_run_exported_and_deleted(
    analyst: Page, live: LiveEngine, referral: str
) -> None:
    page = analyst
    page.goto("/messages")
    assert page.locator("#no-saved").is_visible()
    page.get_by_label("BSN").fill(BSN)
    page.get_by_label("ZD number").fill(ZD)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/messages?search=*")
    assert page.locator("#message-list tbody tr").count() == 1
    assert page.locator("#bsn-not-saved").is_visible()  # the BSN will not be kept

    page.get_by_label("Name", exact=True).fill("Noord referral")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**/messages?zd_number={ZD}")
    saved = page.locator("#saved-searches li")
    assert saved.count() == 1 and saved.first.inner_text().startswith("Noord referral")
    screenshot(page, "messages-saved")

    page.goto("/messages")
    page.get_by_role("link", name="Noord referral").click()  # running it
    page.wait_for_url(f"**/messages?zd_number={ZD}")
    assert page.locator("#message-list tbody tr").count() == 1
    assert page.get_by_label("ZD number").input_value() == ZD

    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert download.value.suggested_filename == "messages.csv"
    lines = text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == 2 and referral in lines[1]
    assert BSN not in text
    exported = [
        a for a in live.audit_actions("person:rob@example.org") if a[0] == "messages.export"
    ]
    assert exported == [("messages.export", "messages.csv")]

    page.get_by_role("button", name="Delete saved search Noord referral").click()
    page.wait_for_url("**/messages")
    assert page.locator("#no-saved").is_visible()
    assert BSN not in page.url


def test_a_viewer_is_offered_no_export(viewer: Page, referral: str) -> None:
    viewer.goto(f"/messages?zd_number={ZD}")
    assert viewer.locator("#message-list tbody tr").count() == 1
    assert viewer.locator("#export-csv").count() == 0
    assert viewer.get_by_role("button", name="Save", exact=True).is_visible()
    screenshot(viewer, "messages-viewer")
