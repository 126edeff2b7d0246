"""Rejected input in the console, in a real browser against a running engine.

Rejected input lies in no cluster, so the page is for who reads messages for all clusters, and
its body for who reads patient data for all clusters (``integrator.rejected_reads``, as the API
and the CLI): the listing and one piece's page name the broken rules and never a byte of the
body; the body appears only after *Show the input*, which the audit trail records as a view of
patient data (view ``rejected``) under the person's name before the page shows it.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.console.pages import rejected as rejected_page
from integrator.errors import InvalidEvent
from integrator.store import AuditRecord
from tests.conftest import load_sample
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Page

BSN = "999990019"  # the sample referral's patient
FAMILY = "Berg"
NAV_LABEL = "Rejected input"  # exactly: the dashboard also links here ("…, last 24 h: N")


def _reject(live: LiveEngine) -> str:
    """Submit the sample referral with an ``event_id`` that is no UUID, as an upstream system
    over HTTP would; the id it is kept under."""
    event: dict[str, Any] = load_sample("referral")
    event["event_id"] = "not-a-uuid"
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    with pytest.raises(InvalidEvent) as refused:
        live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    rejected_id = refused.value.rejected_id
    assert rejected_id is not None
    return rejected_id


def _views(live: LiveEngine, rejected_id: str) -> list[AuditRecord]:
    entries = live.call(live.engine.store.list_audit(limit=1000))
    return [e for e in entries if e.action == "patient_data.view" and e.target == rejected_id]


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    token: str = json.loads(headers)["X-CSRF-Token"]
    return token


def _no_patient_data(html: str) -> None:
    assert BSN not in html and FAMILY not in html and "Dorpsstraat" not in html


def test_support_everywhere_lists_opens_and_reveals_the_input_and_it_is_audited(
    page: Page, live: LiveEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = _reject(live)
    rejected_id = _reject(live)
    support = live.person("sam.rejected@example.org", Grant(Role.RESEND))
    open_session(page, live, support)
    page.goto("/")  # the dashboard, as after the form

    # Listed at most SHOWN, newest first, saying there are more.
    monkeypatch.setattr(rejected_page, "SHOWN", 1)
    page.get_by_role("link", name=NAV_LABEL, exact=True).click()
    page.wait_for_url("**/rejected")
    rows = page.locator("#rejected-list tbody tr")
    assert rows.count() == 1
    assert page.locator("#rejected-more").is_visible()
    row = rows.first.inner_text()
    assert rejected_id[:8] in row and older[:8] not in row
    assert "event_id must be a UUID" in row and "http" in row  # the rule in words
    _no_patient_data(page.content())
    screenshot(page, "rejected-list")

    # One piece: the rules and where it came from; not the body, and nothing audited yet.
    page.get_by_role("link", name=f"Open rejected input {rejected_id[:8]}").click()
    page.wait_for_url(f"**/rejected/{rejected_id}")
    assert "event_id" in page.locator("#rejected-rules").inner_text()
    assert page.locator("#rejected-source").inner_text() == "http"
    assert page.locator("#rejected-body").count() == 0
    _no_patient_data(page.content())
    assert _views(live, rejected_id) == []
    screenshot(page, "rejected-one")

    # The deliberate step: posted, audited under the person's name, then shown.
    page.get_by_role("button", name="Show the input").click()
    page.locator("#rejected-body").wait_for(state="visible")
    body = page.locator("#rejected-body").inner_text()
    assert BSN in body and json.loads(body)["event_id"] == "not-a-uuid"
    assert BSN not in page.url
    [view] = _views(live, rejected_id)
    assert view.actor == f"person:{support.email}"
    assert view.details is not None
    assert view.details["view"] == "rejected" and view.details["source"] == "127.0.0.1"
    screenshot(page, "rejected-input")

    # The answer's address opened again leads back to the page without the body.
    page.goto(f"/rejected/{rejected_id}/input")
    assert page.url.endswith(f"/rejected/{rejected_id}")
    assert page.locator("#rejected-body").count() == 0

    # A start of the id finds it too, as in the CLI and the API; a long body is shortened.
    monkeypatch.setattr(rejected_page, "BODY_SHOWN", 20)
    shortened = page.goto(f"/rejected/{rejected_id[:8]}")
    assert shortened is not None and shortened.status == 200
    page.get_by_role("button", name="Show the input").click()
    page.locator("#rejected-cut").wait_for(state="visible")
    assert len(page.locator("#rejected-body").inner_text()) == 20
    assert len(_views(live, rejected_id)) == 2


def test_the_list_and_one_piece_say_who_sent_it(page: Page, live: LiveEngine) -> None:
    """The caller the engine kept (an API token as ``token:<name>``) is on the list and on the
    piece's page; a piece kept without one (before the store recorded callers) shows "-"."""
    event: dict[str, Any] = load_sample("referral")
    event["event_id"] = "not-a-uuid"
    with pytest.raises(InvalidEvent) as refused:
        live.call(
            live.engine.intake.submit(json.dumps(event), source="http", caller="token:gp-noord")
        )
    named = refused.value.rejected_id
    assert named is not None
    unnamed = live.call(live.engine.store.reject_event(b"{}", "amqp", []))
    open_session(page, live, live.person("cas.rejected@example.org", Grant(Role.VIEWER)))
    page.goto("/rejected")
    headers = page.locator("#rejected-list thead th").all_inner_texts()
    column = headers.index("Sent by")
    rows = page.locator("#rejected-list tbody tr")
    by_id = {
        rows.nth(n).locator("td").nth(0).inner_text(): rows.nth(n).locator("td").nth(column)
        for n in range(rows.count())
    }
    assert by_id[named[:8]].inner_text() == "token:gp-noord"
    assert by_id[unnamed[:8]].inner_text() == "-"
    page.goto(f"/rejected/{named}")
    assert page.locator("#rejected-caller").inner_text() == "token:gp-noord"
    assert page.locator("dt", has_text="Sent by").count() == 1
    page.goto(f"/rejected/{unnamed}")
    assert page.locator("#rejected-caller").inner_text() == "-"


def test_a_viewer_everywhere_sees_the_rules_but_never_the_body(
    page: Page, live: LiveEngine
) -> None:
    rejected_id = _reject(live)
    viewer = live.person("vera.rejected@example.org", Grant(Role.VIEWER))
    open_session(page, live, viewer)
    page.goto("/")  # the dashboard, as after the form
    page.get_by_role("link", name=NAV_LABEL, exact=True).click()
    page.get_by_role("link", name=f"Open rejected input {rejected_id[:8]}").click()
    page.wait_for_url(f"**/rejected/{rejected_id}")
    assert page.get_by_role("button", name="Show the input").count() == 0
    assert page.locator("#rejected-withheld").is_visible()
    _no_patient_data(page.content())
    screenshot(page, "rejected-one-viewer")

    # A forged request for the body, with the viewer's own token and origin: refused.
    forged = page.request.post(
        f"/rejected/{rejected_id}/input",
        form={"csrf": _csrf(page)},
        headers={"Origin": live.url},
    )
    assert forged.status == 403
    _no_patient_data(forged.text())
    assert _views(live, rejected_id) == []


def test_patient_data_in_one_cluster_only_does_not_reach_the_body(
    page: Page, live: LiveEngine
) -> None:
    """Messages everywhere, patient data in CARD only: the page, but not the body (the
    service's rule: the body lies in no cluster), and the refusal records nothing."""
    rejected_id = _reject(live)
    person = live.person(
        "carla.rejected@example.org", Grant(Role.VIEWER), Grant(Role.RESEND, "CARD")
    )
    open_session(page, live, person)
    page.goto(f"/rejected/{rejected_id}")
    assert page.get_by_role("button", name="Show the input").count() == 0
    forged = page.request.post(
        f"/rejected/{rejected_id}/input",
        form={"csrf": _csrf(page)},
        headers={"Origin": live.url, "Accept-Language": "en"},
    )
    assert forged.status == 403
    assert "for all clusters. Nothing was shown or recorded." in forged.text()
    _no_patient_data(forged.text())
    assert _views(live, rejected_id) == []


def test_messages_read_in_one_cluster_gets_no_nav_item_and_a_refusal(
    page: Page, live: LiveEngine
) -> None:
    rejected_id = _reject(live)
    viewer = live.person("vic.rejected@example.org", Grant(Role.VIEWER, "CARD"))
    open_session(page, live, viewer)
    page.goto("/messages")
    assert page.get_by_role("link", name="Messages").count() == 1  # the navigation is there
    assert page.get_by_role("link", name=NAV_LABEL, exact=True).count() == 0
    # The other pages about what lies in no cluster are not offered either: unrouted events
    # (a list that is always empty for them) and, to an admin of one cluster, the audit trail.
    assert page.get_by_role("link", name="Unrouted events").count() == 0
    for path in ("/rejected", f"/rejected/{rejected_id}"):
        refused = page.goto(path)
        assert refused is not None and refused.status == 403, path
        assert "lies in no cluster" in page.locator("main").inner_text()
        _no_patient_data(page.content())
    screenshot(page, "rejected-forbidden")


def test_who_is_not_signed_in_is_sent_to_sign_in(page: Page, live: LiveEngine) -> None:
    rejected_id = _reject(live)
    for path in ("/rejected", f"/rejected/{rejected_id}"):
        page.goto(path)
        assert "/login?next=" in page.url, path
        _no_patient_data(page.content())
    # A post without a session carries no genuine token: refused before the page runs.
    posted = page.request.post(f"/rejected/{rejected_id}/input", headers={"Origin": live.url})
    assert posted.status == 403
    _no_patient_data(posted.text())
    assert _views(live, rejected_id) == []


def test_an_unknown_id_is_a_404_and_a_malformed_one_a_400(page: Page, live: LiveEngine) -> None:
    support = live.person("sue.rejected@example.org", Grant(Role.RESEND))
    open_session(page, live, support)
    unknown = page.goto(f"/rejected/{uuid.uuid4()}")
    assert unknown is not None and unknown.status == 404
    assert "There is no rejected input with this id" in page.locator("main").inner_text()
    screenshot(page, "rejected-unknown")
    malformed = page.goto("/rejected/not-an-id")
    assert malformed is not None and malformed.status == 400
    assert "This is not the id of rejected input" in page.locator("main").inner_text()
    assert "not-an-id" not in page.locator("main").inner_text()  # never echoed
    # Posting for an unknown id is a 404 too, and records nothing.
    page.goto("/rejected")
    missing = str(uuid.uuid4())
    posted = page.request.post(
        f"/rejected/{missing}/input", form={"csrf": _csrf(page)}, headers={"Origin": live.url}
    )
    assert posted.status == 404
    assert _views(live, missing) == []


def test_an_admin_of_one_cluster_is_not_offered_the_audit_trail_it_would_refuse(
    page: Page, live: LiveEngine
) -> None:
    admin = live.person("adri.rejected@example.org", Grant(Role.ADMIN, "CARD"))
    open_session(page, live, admin)
    page.goto("/")
    assert page.get_by_role("link", name="People").count() == 1  # the navigation is there
    assert page.get_by_role("link", name="Audit trail").count() == 0
    refused = page.goto("/audit")
    assert refused is not None and refused.status == 403


def test_the_dashboard_figure_leads_to_the_last_24_hours(page: Page, live: LiveEngine) -> None:
    rejected_id = _reject(live)
    viewer = live.person("vin.rejected@example.org", Grant(Role.VIEWER))
    open_session(page, live, viewer)
    page.goto("/")
    page.get_by_role("link", name="Rejected input, last 24 h:").click()
    page.wait_for_url("**/rejected?since=24h")
    assert page.get_by_label("Received from").input_value() == "24h"
    assert rejected_id[:8] in page.locator("#rejected-list").inner_text()
    # The form narrows further by source; nothing arrived over demo.
    page.get_by_label("Source").select_option("demo")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/rejected?search=*")  # the form's search is kept, by its handle
    assert page.get_by_label("Received from").input_value() == "24h"
    assert page.locator("#rejected-empty").is_visible()
    assert page.locator("#rejected-count").inner_text() == "Matching: 0"
    _no_patient_data(page.content())
    screenshot(page, "rejected-filtered")
