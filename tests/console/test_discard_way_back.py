"""*Discard…* on a message's page leads back to that message, in a real browser.

The message page's *Discard…* posts to the dead letters' confirmation; its *Cancel*, and its
result's *Back*, went to the dead letters' list, a page the person never came through, so they
had to find the message again by its ZD number. The form now carries the message's id, and
both lead back to it. The id is checked: only a message id among the ticked ones, and always
put after ``/messages/``; a URL pasted into the field (an open redirect) or another message's
id leads to the list as before.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DISCARD = "section[aria-labelledby=discard-h]"


def dead_letter(live: LiveEngine) -> str:
    """A referral to ``noord`` that the receiver rejects (AR: dead at once); its message id."""
    event: dict[str, Any] = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        message_id = live.submit(event)
    finally:
        receiver.ack_code = "AA"
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None and found.status == "dead"
    return message_id


def status_of(live: LiveEngine, message_id: str) -> str:
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None
    return found.status


def ask_to_discard(page: Page, message_id: str, from_message: str | None = None) -> None:
    """*Discard…* on the message's page; ``from_message``: what its hidden field is made to
    say first (a tampered form), else what the page wrote."""
    page.goto(f"/messages/{message_id}")
    if from_message is not None:
        field = page.locator(f"{DISCARD} input[name=from_message]")
        field.evaluate("(e, v) => { e.value = v; }", from_message)
    page.locator(f"{DISCARD} button").click()
    page.locator("#confirm-count").wait_for()  # shown where the post was made (?answer=…)


def test_cancel_and_back_lead_to_the_message_the_discard_was_asked_from(
    browser: Browser, live: LiveEngine
) -> None:
    message_id = dead_letter(live)
    support = live.person("sanne.wayback@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, support, "nl") as page:
        ask_to_discard(page, message_id)
        cancel = page.locator("#confirm-cancel")
        assert cancel.inner_text() == "Annuleren, terug naar het bericht"
        assert cancel.get_attribute("href") == f"/messages/{message_id}"
        screenshot(page, "discard-way-back-confirm-nl")
        cancel.click()
        page.wait_for_url(f"**/messages/{message_id}")
        assert page.url.endswith(f"/messages/{message_id}"), page.url
        assert page.locator(DISCARD).count() == 1
        assert status_of(live, message_id) == "dead"  # Cancel did nothing

        # A reason of blanks: the confirmation again, the way back kept.
        ask_to_discard(page, message_id)
        page.locator("#confirm-reason").fill("   ")
        page.locator("#confirm-form button[type=submit]").click()
        page.locator("#confirm-reason-error").wait_for()
        assert page.locator("#confirm-cancel").get_attribute("href") == f"/messages/{message_id}"

        page.locator("#confirm-reason").fill("Huisarts: verwijzing ingetrokken")
        page.locator("#confirm-form button[type=submit]").click()
        page.wait_for_url("**/deadletters/done/**")
        back = page.locator("#done-back")
        assert back.inner_text() == "Terug naar het bericht"
        assert back.get_attribute("href") == f"/messages/{message_id}"
        screenshot(page, "discard-way-back-done-nl")
        done_at = page.url
        back.click()
        page.wait_for_url(f"**/messages/{message_id}")
        assert page.url.endswith(f"/messages/{message_id}"), page.url
        assert page.locator("#discarded").count() == 1
        # The result page read again (a reload, a bookmark) still leads there.
        page.goto(done_at)
        assert page.locator("#done-back").get_attribute("href") == f"/messages/{message_id}"
    assert status_of(live, message_id) == "cancelled"


def test_only_a_ticked_message_id_is_a_way_back_never_an_address(
    browser: Browser, live: LiveEngine
) -> None:
    message_id = dead_letter(live)
    other = dead_letter(live)
    support = live.person("bert.wayback@example.org", Grant(Role.RESEND, "CARD"))
    tampered = [
        "https://elsewhere.example/login",
        "//elsewhere.example",
        f"/messages/{message_id}/../../deadletters",
        other,  # a message, but not the one being discarded
    ]
    with signed_in_page(browser, live, support) as page:
        for given in tampered:
            ask_to_discard(page, message_id, from_message=given)
            cancel = page.locator("#confirm-cancel")
            assert cancel.get_attribute("href") == "/deadletters", given
            assert cancel.inner_text() == "Cancel, back to the dead letters"
            assert page.locator("#confirm-form input[name=from_message]").count() == 0

        # The same id in another spelling (upper case, no dashes) is the message, as written
        # by the store: never the text as it came.
        ask_to_discard(page, message_id, from_message=message_id.upper().replace("-", ""))
        assert page.locator("#confirm-cancel").get_attribute("href") == f"/messages/{message_id}"

        # The confirmation's own form tampered with: the result leads to the list.
        kept = page.locator("#confirm-form input[name=from_message]")
        kept.evaluate("(e) => { e.value = 'https://elsewhere.example/'; }")
        page.locator("#confirm-reason").fill("duplicate")
        page.locator("#confirm-form button[type=submit]").click()
        page.wait_for_url("**/deadletters/done/**")
        back = page.locator("#done-back")
        assert back.get_attribute("href") == "/deadletters"
        assert back.inner_text() == "Back to the dead letters"
    assert status_of(live, message_id) == "cancelled"
    assert status_of(live, other) == "dead"
