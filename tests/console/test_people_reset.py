"""Resetting a person's second factor from the console's person page, in a real browser against a
running engine: the confirmation page, the setup link, the person's session ending, the new
factor set up through the link, and no button (and a 403) for one's own account."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyotp
import pytest

from integrator.access import Grant, LoginRefused, Role
from tests.console.conftest import new_context, open_session, person_id, screenshot, sign_in
from tests.console.live import PASSWORD, LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

NEW_PASSWORD = "a new password after the lost phone"


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    token: str = json.loads(headers)["X-CSRF-Token"]
    return token


def test_an_admin_resets_a_lost_phone_and_the_person_sets_up_a_new_factor(
    browser: Browser, context: BrowserContext, live: LiveEngine
) -> None:
    # Ada holds resend where Anna does: else Anna's setup link is not shown to her (below).
    admin = live.person("ada@example.org", Grant(Role.ADMIN), Grant(Role.RESEND, "CARD"))
    anna = live.person("anna@example.org", Grant(Role.RESEND, "CARD"))
    anna_context = new_context(browser, live)
    try:
        anna_page = anna_context.new_page()
        open_session(anna_page, live, anna)  # the session the form would make, without its pages

        page = context.new_page()
        open_session(page, live, admin)
        page.goto(f"/people/{person_id(live, anna.email)}")
        page.get_by_role("button", name="Reset the second factor…").click()
        # A page that says what will happen; nothing has happened yet.
        page.get_by_role("heading", name="Reset the second factor").wait_for()
        assert "password stop working" in page.locator("#reset-effects").inner_text()
        assert live.call(live.engine.store.get_person(email=anna.email)).status == "active"  # type: ignore[union-attr]
        screenshot(page, "person-reset-confirm")
        page.get_by_label("Reason").fill("phone lost on the train")
        page.get_by_role("button", name="Reset the second factor", exact=True).click()
        page.get_by_role("heading", name="Second factor reset").wait_for()
        assert "anna@example.org" in page.locator("#reset-done").inner_text()
        link = page.get_by_label("Setup link").input_value()
        assert "/invitation#" in link
        screenshot(page, "person-reset-link")
        # Until she sets up again the listing tells her reset from a new invitation.
        page.goto("/people")
        row = page.get_by_role("row").filter(has_text="anna@example.org")
        assert "invited again (second factor reset)" in row.inner_text()

        # Her open session ended at once; her recovery codes open nothing.
        anna_page.goto("/messages")
        anna_page.wait_for_url("**/login**")
        with pytest.raises(LoginRefused):
            live.call(live.engine.access.login(anna.email, PASSWORD, anna.recovery_codes[0]))

        # Through the link she chooses a new password and sets up a new authenticator.
        anna_page.goto(link[link.index("/invitation") :])
        secret = anna_page.locator("#totp-secret").inner_text()
        assert secret != anna.totp_secret
        # Not "accept your invitation": she has had an account for a while.
        assert anna_page.get_by_role("heading", name="Set up your account").is_visible()
        anna_page.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
        anna_page.get_by_label("New password again").fill(NEW_PASSWORD)
        anna_page.get_by_label("Code your authenticator app shows now").fill(
            pyotp.TOTP(secret).now()
        )
        anna_page.get_by_role("button", name="Activate account").click()
        anna_page.locator("#recovery-codes").wait_for()
        codes = anna_page.locator("#recovery-codes li").all_inner_texts()
        sign_in(anna_page, Person(anna.email, NEW_PASSWORD, secret, codes), code=codes[0])
        anna_page.goto("/messages")
        assert "/login" not in anna_page.url  # her grants stayed: she reads messages again
    finally:
        anna_context.close()

    [entry] = [
        e
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "person.reset_second_factor"
    ]
    assert (entry.actor, entry.target, entry.reason) == (
        f"person:{admin.email}",
        f"person:{anna.email}",
        "phone lost on the train",
    )
    assert entry.details["source"] == "127.0.0.1"
    assert link.split("#", 1)[1] not in repr(entry)


def test_no_reset_button_for_ones_own_account_and_a_forged_post_is_refused(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("otto@example.org", Grant(Role.ADMIN))
    page = context.new_page()
    open_session(page, live, admin)
    own = person_id(live, admin.email)
    page.goto(f"/people/{own}")
    page.locator("#own-roles").wait_for()  # one's own page: nothing on it changes one's access
    assert page.get_by_role("button", name="Reset the second factor…").count() == 0
    forged = page.request.post(
        f"/people/{own}/second-factor/reset",
        form={"reason": "forged", "csrf": _csrf(page)},
        headers={"Origin": live.url},
    )
    assert forged.status == 403, forged.text()
    # The request carries no language (no cookie, no Accept-Language): the console's Dutch.
    assert "je eigen tweede factor niet resetten" in forged.text()
    # Without the CSRF token: refused before the page runs.
    no_token = page.request.post(f"/people/{own}/second-factor/reset", form={"reason": "x"})
    assert no_token.status == 403
    page.goto(f"/people/{own}")  # still signed in: nothing was reset
    assert "/login" not in page.url
    assert not [a for a, _ in live.audit_actions(f"person:{admin.email}") if "reset" in a]


def test_an_admin_without_resend_gets_no_link_for_someone_who_reads_patient_data(
    context: BrowserContext, live: LiveEngine
) -> None:
    """Found by an audit: an admin reset a support colleague's second factor, took the setup
    link shown, chose her password and read patients as her. Without a mail server the link
    is shown only to someone who reads patient data there too; nothing is reset."""
    admin = live.person("bea@example.org", Grant(Role.ADMIN))
    carl = live.person("carl@example.org", Grant(Role.RESEND, "CARD"))
    page = context.new_page()
    open_session(page, live, admin)
    page.goto(f"/people/{person_id(live, carl.email)}")
    page.get_by_role("button", name="Reset the second factor…").click()
    page.get_by_role("heading", name="Reset the second factor").wait_for()
    page.get_by_label("Reason").fill("phone lost")
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name="Reset the second factor", exact=True).click()
    assert answer.value.status == 403
    said = page.locator("main").inner_text()
    assert "the link is not shown to you" in said
    assert "/invitation#" not in page.content()
    assert live.call(live.engine.store.get_person(email=carl.email)).status == "active"  # type: ignore[union-attr]
    assert not [a for a, _ in live.audit_actions(f"person:{carl.email}") if "reset" in a]
