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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from integrator.access import Grant, Role
from integrator.errors import InvalidEvent
from integrator.store import AuditRecord
from tests.conftest import load_sample
from tests.console.conftest import open_session, screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BSN = "999990019"  # the sample referral's patient


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
    open_session(page, live, support)
    page.goto("/")  # the dashboard, as after the form

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
    # The BSN as typed, in any encoding a form would give it (the port of the test's server
    # may hold "999", so the digits alone are not looked for in the whole address).
    typed = ("999 990 019", "999+990+019", "999%20990%20019")
    assert BSN not in page.url and not any(form in page.url for form in typed)
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
    open_session(page, live, viewer)
    page.goto("/rejected")
    assert page.get_by_label("BSN").count() == 0
    page.get_by_label("ZD number").fill(zd_number)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/rejected?search=*")  # kept, as every search from a form
    assert zd_number not in page.url
    assert page.locator("#rejected-list tbody tr").count() == 1


def test_one_piece_shows_its_zd_number_and_provider_and_leads_back_to_its_listing(
    page: Page, browser: Browser, live: LiveEngine
) -> None:
    """What ``GET /api/v1/rejected/{id}`` gives of a piece, its page shows too, to who may
    list it (no patient data: a viewer sees them); its way back is the listing it was opened
    from, filtered as it was, and a kept search by BSN is named there by its handle only."""
    provider = f"provider-{uuid.uuid4().hex[:8]}"
    rejected_id, zd_number = _refuse(live, provider)
    support = live.person("sam.back@example.org", Grant(Role.RESEND))
    open_session(page, live, support)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    page.goto(f"/rejected?zd_number={zd_number}")
    page.get_by_role("link", name=f"Open rejected input {rejected_id[:8]}").click()
    page.wait_for_url(f"**/rejected/{rejected_id}?back=*")
    assert page.locator("#rejected-zd_number").inner_text() == zd_number
    assert page.locator("#rejected-provider").inner_text() == provider
    screenshot(page, "rejected-one-back")
    # Showing the input keeps the way back.
    page.get_by_role("button", name="Show the input").click()
    page.locator("#rejected-body").wait_for(state="visible")
    page.get_by_role("link", name="Back to the rejected input").click()
    page.wait_for_url(f"**/rejected?zd_number={zd_number}")
    assert page.locator("#rejected-list tbody tr").count() == 1

    # From a search by BSN: back to the kept search, by its handle.
    page.goto("/rejected")
    page.get_by_label("Provider").fill(provider)
    page.get_by_label("BSN").fill(BSN)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/rejected?search=*")
    listing = page.url
    page.get_by_role("link", name=f"Open rejected input {rejected_id[:8]}").click()
    page.wait_for_url(f"**/rejected/{rejected_id}?back=*")
    page.get_by_role("link", name="Back to the rejected input").click()
    page.wait_for_url(listing)
    assert page.locator("#rejected-list tbody tr").count() == 1
    assert not [url for url in asked if BSN in url]

    # From the whole listing: back to it, and the piece's address carries nothing.
    page.goto("/rejected")
    page.get_by_role("link", name=f"Open rejected input {rejected_id[:8]}").click()
    page.wait_for_url(f"**/rejected/{rejected_id}")
    assert page.locator("#rejected-back").get_attribute("href") == "/rejected"

    # A viewer (no patient data) sees them as the listing shows its ZD number to them.
    viewer = live.person("vera.back@example.org", Grant(Role.VIEWER))
    with signed_in_page(browser, live, viewer) as theirs:
        theirs.goto(f"/rejected/{rejected_id}")
        assert theirs.locator("#rejected-zd_number").inner_text() == zd_number
        assert theirs.locator("#rejected-provider").inner_text() == provider
        assert theirs.locator("#rejected-reveal").count() == 0


@pytest.mark.parametrize(
    "back",
    [
        "https://elsewhere.example/",
        "//elsewhere.example/rejected",
        "/rejected/../people",
        f"bsn={BSN}",
        "zd_number=999+990+019",
        "provider=ziekenhuis&provider=lab",
        "since=24h&next=/people",
    ],
)
def test_a_way_back_that_is_no_listing_leads_to_the_whole_listing(
    page: Page, live: LiveEngine, back: str
) -> None:
    """Only a listing's own query is carried back: anything else (another site, another
    page, a BSN, a term twice) is taken out of the address, the way back leads to
    ``/rejected``, and no BSN is shown back."""
    rejected_id, _ = _refuse(live, "lab-west")
    open_session(
        page, live, live.person(f"rob.{uuid.uuid4().hex[:8]}@example.org", Grant(Role.VIEWER))
    )
    answer = page.goto(f"/rejected/{rejected_id}?{urlencode({'back': back})}")
    assert answer is not None and answer.status == 200
    assert page.url.endswith(f"/rejected/{rejected_id}")
    assert page.locator("#rejected-back").get_attribute("href") == "/rejected"
    content = page.content()
    assert BSN not in content and "999 990 019" not in content
