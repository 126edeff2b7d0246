"""Free text typed into a search form, in a real browser against a running engine: the audit
trail's target, a provider on events and on rejected input take any text, and a patient's name
and birth date typed there once went into the address the form redirected to (so into the
browser's history and a proxy's log). Now the search is kept and the browser shown it under a
handle: no address the browser asks for, through a reload, the next page and the CSV export,
holds what was typed. Request by request, for every form: ``test_typed_terms_in_no_address``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TYPED = "Jan van der Berg geb. 12-04-1961"
SPELLINGS = (TYPED, TYPED.replace(" ", "+"), TYPED.replace(" ", "%20"), "12-04-1961", "Berg")
ENTRIES = 101
"""Entries naming the patient: two pages of the audit trail (100 a page)."""


@pytest.fixture(scope="module")
def auditor(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person = live.person(
        "ada.typed@example.org", Grant(Role.RESEND), Grant(Role.ADMIN), Grant(Role.REPORTS)
    )
    with signed_in_page(browser, live, person) as page:
        yield page


def test_free_text_typed_into_a_search_stays_out_of_every_address(
    auditor: Page, live: LiveEngine
) -> None:
    for n in range(ENTRIES):
        live.call(live.engine.store.add_audit("local:piet", "note.added", TYPED, reason=f"{n}"))
    asked: list[str] = []
    auditor.on("request", lambda request: asked.append(request.url))

    # The audit trail by target: its first page, a reload, the next page by its handle.
    auditor.goto("/audit")
    auditor.locator("#a-target").fill(TYPED)
    auditor.locator("form:has(#a-target) button[type=submit]").click()
    auditor.wait_for_url(re.compile(r"/audit\?search=[^&]+$"))
    rows = auditor.locator("table tbody tr")
    assert rows.count() == 100
    assert auditor.locator("#a-target").input_value() == TYPED  # shown back in its field
    export = auditor.get_by_role("link", name="Export these entries as CSV")
    assert re.fullmatch(r"/audit\.csv\?search=[^&]+", export.get_attribute("href") or "")
    with auditor.expect_download() as download:
        export.click()
    assert download.value.failure() is None
    auditor.reload()
    assert rows.count() == 100
    auditor.get_by_role("link", name="Older entries").click()
    auditor.wait_for_url(re.compile(r"/audit\?search=[^&]+&offset=100$"))
    assert rows.count() == 1
    screenshot(auditor, "typed-terms-audit")

    # A provider on events and on rejected input: free text, kept the same way.
    for path, field in (("/events", "e-provider"), ("/rejected", "r-provider")):
        auditor.goto(path)
        auditor.locator(f"#{field}").fill(TYPED)
        auditor.locator(f"form:has(#{field}) button[type=submit]").click()
        auditor.wait_for_url(re.compile(rf"{path}\?search=[^&]+$"))
        assert auditor.locator(f"#{field}").input_value() == TYPED

    assert not [url for url in [auditor.url, *asked] for s in SPELLINGS if s in url]
