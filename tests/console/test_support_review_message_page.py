"""A support person's day on one message's page, in a real browser: a GP calls about a
referral, and the page must tell what became of it and let them act where they found it.

- A discarded dead letter (``cancelled``) says who closed it, when and why, in its summary and
  timeline, and its resend preview says so above *Resend now*: the page said only
  "cancelled", and the audit trail, where the discard is, is the admin's.
- An open dead letter is discarded from its own page, through the dead letters'
  confirmation: found by its ZD number, it was otherwise to be looked for again among the
  dead letters, which no ZD number filters.
- A delivered message's preview says that its destination acknowledged it, as the batch's
  confirmation counts the delivered ones.
- An event's "a new referral with this ZD number was accepted before, in event …" links that
  event ("I sent it twice").
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from deadletter import discard_each
from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def referral(zd_number: str | None = None) -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = zd_number or f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def dead_letter(live: LiveEngine) -> str:
    """A message to ``noord`` that the receiver rejects (AR: dead at once); its id."""
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        message_id = live.submit(referral())
    finally:
        receiver.ack_code = "AA"
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None and found.status == "dead"
    return message_id


def discard_on_its_page(page: Page, message_id: str, reason: str) -> None:
    """*Discard…* on the message's page, then the confirmation with ``reason``."""
    page.goto(f"/messages/{message_id}")
    page.locator("section[aria-labelledby=discard-h] button").click()
    page.locator("#confirm-reason").fill(reason)
    page.locator("#confirm-form button[type=submit]").click()
    page.wait_for_url("**/deadletters/done/**")


def preview(page: Page, message_id: str, reason: str, to: str = "") -> None:
    page.goto(f"/messages/{message_id}")
    page.locator("#resend-reason").fill(reason)
    page.locator("#resend-to").select_option(to)
    page.locator("form[action$='/resend/preview'] button").click()
    page.locator("#resend-preview form[action$='/resend'] button").wait_for()


def test_a_dead_letter_is_discarded_from_its_page_and_then_says_by_whom_and_why(
    browser: Browser, live: LiveEngine
) -> None:
    message_id = dead_letter(live)
    support = live.person("sanne.review@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, support, "nl") as page:
        page.goto(f"/messages/{message_id}")
        section = page.locator("section[aria-labelledby=discard-h]")
        assert section.get_by_role("button", name="Afsluiten…").count() == 1
        screenshot(page, "support-review-discard-offered-nl")
        discard_on_its_page(page, message_id, "Huisarts: verwijzing ingetrokken")

        page.goto(f"/messages/{message_id}")
        said = page.locator("#discarded").inner_text()
        assert "door person:sanne.review@example.org op " in said, said
        assert said.endswith(": Huisarts: verwijzing ingetrokken"), said
        last = page.locator("#timeline li").last.inner_text()
        assert "Als onbestelbaar bericht afgesloten door person:sanne.review@example.org" in last
        assert "Huisarts: verwijzing ingetrokken" in last
        # Nothing left to discard: the offer is gone.
        assert page.locator("section[aria-labelledby=discard-h]").count() == 0
        screenshot(page, "support-review-discarded-said-nl")

        preview(page, message_id, "toch versturen")
        notice = page.locator("#resend-discarded").inner_text()
        assert "person:sanne.review@example.org heeft dit bericht afgesloten op" in notice
        assert "herzenden verstuurt het alsnog" in notice
        assert "De reden: Huisarts: verwijzing ingetrokken" in notice

    closed = live.call(live.engine.store.get_message(message_id))
    assert closed is not None and closed.status == "cancelled"


def test_a_discarded_message_says_so_in_english_and_a_viewer_reads_no_reason(
    browser: Browser, live: LiveEngine
) -> None:
    message_id = dead_letter(live)

    live.call(
        discard_each(live.engine.store, [message_id], actor="person:bert@example.org", reason="dup")
    )
    viewer = live.person("vera.review@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, viewer) as page:
        page.goto(f"/messages/{message_id}")
        said = page.locator("#discarded").inner_text()
        assert said.startswith("by person:bert@example.org at "), said
        assert "dup" not in said  # reasons are the full view's, as a resend's are
        assert page.locator("#timeline-discarded").count() == 1
        assert page.locator("section[aria-labelledby=discard-h]").count() == 0


def test_a_delivered_message_s_preview_says_its_destination_acknowledged_it(
    browser: Browser, live: LiveEngine
) -> None:
    message_id = live.submit(referral())
    support = live.person("stijn.review@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, support) as page:
        page.goto(f"/messages/{message_id}")
        # Delivered: nothing to discard.
        assert page.locator("section[aria-labelledby=discard-h]").count() == 0
        preview(page, message_id, "GP called: not received")
        notice = page.locator("#resend-delivered").inner_text()
        assert notice.startswith("noord acknowledged this message with ACK AA at "), notice
        assert "Resending sends it again" in notice
        message = live.call(live.engine.store.get_message(message_id))
        assert message is not None and message.control_id in notice
        screenshot(page, "support-review-delivered-preview")
        # To another destination, which never had it: nothing to say.
        preview(page, message_id, "GP called: send it to zuid", to="zuid")
        assert page.locator("#resend-delivered").count() == 0


def test_an_event_sent_twice_links_the_earlier_one(browser: Browser, live: LiveEngine) -> None:
    zd = f"ZD{uuid.uuid4().int % 10**9:09d}"
    first, second = referral(zd), referral(zd)
    live.submit(first)
    live.submit(second)
    support = live.person("saar.review@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, support, "nl") as page:
        page.goto(f"/events/{second['event_id']}")
        link = page.locator("#zd-warnings a")
        assert link.count() == 1
        assert link.inner_text() == first["event_id"]
        assert "al eerder aangenomen" in page.locator("#zd-warnings").inner_text()
        link.click()
        page.wait_for_url(f"**/events/{first['event_id']}")
        assert page.locator("#zd-number").inner_text() == zd


def test_a_search_by_bsn_says_why_it_offers_no_batch_resend(
    browser: Browser, live: LiveEngine
) -> None:
    """The search by BSN has no *Resend these messages…* (identifier terms only): the page
    says so, and what to do instead, where the button would be."""
    zd = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event = referral(zd)
    live.submit(event)
    support = live.person("sofie.review@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, support) as page:
        page.goto("/messages")
        page.locator("#bsn").fill(event["patient"]["bsn"])
        page.locator("form[action='/messages/search'] button[type=submit]").click()
        page.locator("#message-list").wait_for()
        assert page.locator("#resend-batch").count() == 0
        said = page.locator("#resend-not-by-bsn").inner_text()
        assert "search by BSN" in said and "ZD number" in said
        assert event["patient"]["bsn"] not in page.url
        # By its ZD number the button is there, and nothing is said about a BSN.
        page.goto("/messages")
        page.locator("#zd_number").fill(zd)
        page.locator("form[action='/messages/search'] button[type=submit]").click()
        page.locator("#resend-batch").wait_for()
        assert page.locator("#resend-not-by-bsn").count() == 0
