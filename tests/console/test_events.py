"""Support finds an event, by ZD number or BSN, and reads it: who it is for, which messages
were made of it, and, for an unrouted one, where it would go now. In a real browser against a
running engine; who may not read patient data, or not in the event's cluster, is refused as
``GET /api/v1/events/{id}`` refuses them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.store.records import EventFilter
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot, signed_in_page
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ZD = "ZD100000001"  # the sample referral's
UNROUTED_ZD = "ZD100000777"
SUPPORT = "person:sam@example.org"


@pytest.fixture(scope="module")
def referral(live: LiveEngine) -> tuple[str, str]:
    """The sample referral, delivered to ``noord`` (cluster CARD): its event and message ids."""
    message_id = live.submit(load_sample("referral"))
    message = live.call(live.engine.store.get_message(message_id))
    assert message is not None
    return message.event_id, message_id


@pytest.fixture(scope="module")
def unrouted(live: LiveEngine) -> str:
    """A referral for a provider no destination serves: stored without messages; its id."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = UNROUTED_ZD
    event["provider"] = {**event["provider"], "id": "kliniek-oost", "name": "Kliniek Oost"}
    result = live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    assert result.messages == ()
    return result.event_id


def _signed_in(browser: Browser, live: LiveEngine, person: Person) -> Iterator[Page]:
    with signed_in_page(browser, live, person) as page:
        yield page


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Support staff for all clusters: they read patient data and route events."""
    yield from _signed_in(browser, live, live.person("sam@example.org", Grant(Role.RESEND)))


def views(live: LiveEngine, actor: str) -> list[tuple[str, dict[str, Any]]]:
    """``(target, details)`` of the ``patient_data.view`` entries ``actor`` made."""
    entries = live.call(live.engine.store.list_audit(limit=1000))
    return [
        (e.target, dict(e.details or {}))
        for e in entries
        if e.actor == actor and e.action == "patient_data.view"
    ]


def test_the_event_page_shows_the_event_and_links_its_messages(
    support: Page, live: LiveEngine, referral: tuple[str, str]
) -> None:
    event_id, message_id = referral
    # From the message's page to its event.
    support.goto(f"/messages/{message_id}")
    support.locator("#event-link").click()
    support.wait_for_url(f"**/events/{event_id}")
    assert support.locator("#zd-number").inner_text() == ZD
    assert support.locator("#event-type").inner_text() == "referral"
    assert support.locator("#event-action").inner_text() == "new"
    assert support.locator("#provider").inner_text() == "Ziekenhuis Noord (ziekenhuis-noord)"
    assert support.locator("#patient-name").inner_text() == "Jan van der Berg"
    assert support.locator("#patient-bsn").inner_text() == load_sample("referral")["patient"]["bsn"]
    assert support.locator("#received").inner_text().endswith(("+00:00", "+01:00", "+02:00"))
    assert support.locator("#serving").inner_text() == "Serving its provider now: noord."
    assert support.locator("#unrouted").count() == 0
    rows = support.locator("#event-messages tbody tr")
    assert rows.count() == 1
    assert "noord" in rows.first.inner_text() and "delivered" in rows.first.inner_text()
    screenshot(support, "event")
    # Audited as the API audits it, before it was shown; no patient data in the address.
    assert (event_id, "event") in [(t, d.get("view")) for t, d in views(live, SUPPORT)]
    rows.first.get_by_role("link").click()
    support.wait_for_url(f"**/messages/{message_id}")


def test_the_search_by_zd_number_finds_the_event(
    support: Page, live: LiveEngine, referral: tuple[str, str]
) -> None:
    event_id, _ = referral
    support.goto("/")
    support.get_by_role("link", name="Events", exact=True).click()
    support.wait_for_url("**/events")
    support.get_by_label("ZD number").fill(ZD)
    support.get_by_role("button", name="Search").click()
    # The form posts (it has the BSN field); without a BSN it is kept too, by its handle.
    support.wait_for_url("**/events?search=*")
    assert ZD not in support.url
    rows = support.locator("#event-list tbody tr")
    assert rows.count() == 1
    assert ZD in rows.first.inner_text() and "ziekenhuis-noord" in rows.first.inner_text()
    screenshot(support, "events")
    rows.first.get_by_role("link", name=event_id[:8]).click()
    support.wait_for_url(f"**/events/{event_id}")


def test_a_refused_term_is_said_beside_its_field_and_what_was_typed_stays(support: Page) -> None:
    """The refusal names the rule, never the value; the form keeps what was typed, to mend
    it (a Dutch date such as 01-12-2026 is the usual mistake): it once emptied every field."""
    support.goto("/events")
    support.get_by_label("ZD number").fill("ZD12")
    support.get_by_label("Provider").fill("ziekenhuis-noord")
    support.get_by_role("button", name="Search").click()
    error = support.locator("#e-zd_number-error")
    assert "a ZD number is ZD and 9 digits" in error.inner_text()
    assert "ZD12" not in error.inner_text()
    assert support.get_by_label("ZD number").input_value() == "ZD12"
    assert support.get_by_label("Provider").input_value() == "ziekenhuis-noord"
    assert support.locator("#event-list").count() == 0


def test_a_bsn_search_is_kept_leaves_no_bsn_in_an_address_and_is_audited(
    support: Page, live: LiveEngine, referral: tuple[str, str], unrouted: str
) -> None:
    bsn = load_sample("referral")["patient"]["bsn"]
    urls: list[str] = []
    support.on("request", lambda request: urls.append(request.url))
    support.goto("/events")
    support.get_by_label("BSN").fill(bsn)
    support.get_by_role("button", name="Search").click()
    support.wait_for_url("**/events?search=*")
    listed = support.locator("#event-list tbody").inner_text()
    assert ZD in listed and UNROUTED_ZD in listed  # the same patient, routed and unrouted
    assert not any(bsn in url for url in urls)
    searches = [d for target, d in views(live, SUPPORT) if target == "events.search"]
    assert searches and searches[0]["view"] == "events.search" and searches[0]["found"] == 2
    assert bsn not in json.dumps(searches)


def test_the_unrouted_page_links_to_the_event(
    support: Page, live: LiveEngine, unrouted: str
) -> None:
    support.goto("/events/unrouted")
    support.get_by_role("link", name=unrouted[:8]).click()
    support.wait_for_url(f"**/events/{unrouted}")
    assert support.locator("#zd-number").inner_text() == UNROUTED_ZD
    assert support.locator("#patient-name").inner_text() == "Jan van der Berg"
    assert "Unrouted" in support.locator("#unrouted").inner_text()
    assert support.locator("#serving").inner_text() == (
        "No destination serves provider kliniek-oost now."
    )
    assert support.locator("#event-messages").count() == 0
    screenshot(support, "event-unrouted")
    assert unrouted in [target for target, _ in views(live, SUPPORT)]


def test_without_patient_data_it_is_403_and_outside_the_clusters_404(
    browser: Browser, live: LiveEngine, referral: tuple[str, str], unrouted: str
) -> None:
    event_id, _ = referral
    viewer = live.person("vera@example.org", Grant(Role.VIEWER))  # messages.read everywhere
    for page in _signed_in(browser, live, viewer):
        assert page.goto(f"/events/{event_id}").status == 403  # type: ignore[union-attr]
        # The unrouted page is hers, without links to a page she may not open.
        page.goto("/events/unrouted")
        assert page.get_by_role("link", name=unrouted[:8]).count() == 0
        # The search is hers too (identifiers only), without the BSN field: kept by its handle.
        page.goto("/events")
        assert page.get_by_label("BSN").count() == 0
        page.get_by_label("ZD number").fill(ZD)
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/events?search=*")
        assert page.locator("#event-list tbody tr").count() == 1
        # Its id as text, not a link to the page that would refuse her.
        assert page.locator("#event-list tbody a").count() == 0
        assert page.locator("#event-list tbody").inner_text().count(event_id[:8]) == 1
    lab = live.person("lars@example.org", Grant(Role.RESEND, "LAB"))
    for page in _signed_in(browser, live, lab):
        # Its messages lie in CARD, the unrouted one in no cluster: as an unknown id.
        assert page.goto(f"/events/{event_id}").status == 404  # type: ignore[union-attr]
        assert page.goto(f"/events/{unrouted}").status == 404  # type: ignore[union-attr]
        assert page.goto(f"/events/{uuid.uuid4()}").status == 404  # type: ignore[union-attr]
        page.goto("/events")
        page.get_by_label("ZD number").fill(ZD)
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/events?search=*")
        assert page.locator("#no-events").is_visible()
    assert views(live, "person:lars@example.org") == []


def test_the_event_pages_speak_dutch(
    browser: Browser, live: LiveEngine, referral: tuple[str, str], unrouted: str
) -> None:
    event_id, _ = referral
    person = live.person("daan@example.org", Grant(Role.RESEND))
    context = new_context(browser, live, lang="nl")
    page = context.new_page()
    try:
        open_session(page, live, person)
        page.goto("/")  # the dashboard, as after the form
        page.get_by_role("link", name="Gebeurtenissen", exact=True).click()
        page.get_by_role("heading", name="Gebeurtenissen").wait_for()
        page.get_by_label("ZD-nummer").fill("ZD12")
        page.get_by_role("button", name="Zoeken").click()
        refused = page.locator("#e-zd_number-error").inner_text()
        assert refused.startswith("een ZD-nummer is ZD en 9 cijfers"), refused
        page.get_by_label("ZD-nummer").fill("")  # kept to be mended: left out instead
        page.get_by_label("Alleen zonder bestemming").check()
        page.get_by_role("button", name="Zoeken").click()
        page.get_by_role("link", name=unrouted[:8]).click()
        page.wait_for_url(f"**/events/{unrouted}")
        assert page.get_by_role("heading", name=f"Gebeurtenis {unrouted}").is_visible()
        assert page.locator("#event-type").inner_text() == "verwijzing"
        assert page.locator("#event-action").inner_text() == "nieuw"
        assert page.locator("#unrouted").inner_text().startswith("Niet gerouteerd")
        assert "Geen bestemming bedient" in page.locator("#serving").inner_text()
        screenshot(page, "event-nl")
        page.goto(f"/events/{event_id}")
        assert page.locator("#serving").inner_text() == "Nu bediend door: noord."
        assert "afgeleverd" in page.locator("#event-messages").inner_text()
    finally:
        context.close()


def test_route_now_routes_once_however_often_its_result_is_reloaded(
    support: Page, live: LiveEngine
) -> None:
    """*Route now* on an event's page: the result is a page of its own (Post/Redirect/Get),
    so reloading it routes nothing a second time (the same form posted again:
    ``test_unrouted_page``)."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = "ZD100000778"
    event["provider"] = {**event["provider"], "id": "kliniek-zuid", "name": "Kliniek Zuid"}
    event_id = live.call(live.engine.intake.submit(json.dumps(event), source="http")).event_id
    served = ["ziekenhuis-noord", "kliniek-zuid"]
    live.call(live.engine.admin.patch("noord", {"providers": served}, actor="test"))
    try:
        support.goto(f"/events/{event_id}")
        support.get_by_label("Reason").fill("noord serves kliniek zuid now")
        support.get_by_role("button", name="Route now").click()
        support.wait_for_url(re.compile(r"/events/routed/[0-9a-f]+$"))
        assert support.locator("#done-count").inner_text() == "1 of 1 event routed."
        support.reload()
        assert support.locator("#done-count").inner_text() == "1 of 1 event routed."
        assert support.locator("#once-again").count() == 0
    finally:
        live.call(live.engine.admin.patch("noord", {"providers": served[:1]}, actor="test"))
    entries = live.call(live.engine.store.list_audit(target=event_id, limit=100))
    assert [e.action for e in entries].count("event.route") == 1
    made = live.call(live.engine.store.list_events(EventFilter(event_ids=(event_id,)), limit=1))
    assert [e.message_count for e in made] == [1]
