"""A role that reads patient data taken from a person is taken from the tokens they made, and
the console shows it: the person's page names those tokens with the suspended role and why,
the tokens page too, and the deactivation page says what the kept tokens lose (docs/access.md,
"Who may make one")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine
from tests.console.test_dashboard import _OVERFLOW

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_taking_resend_away_shows_the_tokens_it_is_suspended_on(
    browser: Browser, live: LiveEngine
) -> None:
    ada = live.person("ada.suspend@example.org", Grant(Role.ADMIN), Grant(Role.RESEND))
    bo = live.person("bo.suspend@example.org", Grant(Role.ADMIN))
    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, ada)
        page.goto("/tokens")
        page.locator("#token-name").fill("support-bot")
        page.locator("#token-role-0").select_option("resend")
        page.get_by_role("button", name="Create a token").click()
        page.get_by_role("heading", name="Token created").wait_for()
        # The token's field fits a narrow window (a 1280 px screen at 200 %): no sideways scroll.
        page.set_viewport_size({"width": 640, "height": 800})
        assert page.evaluate(_OVERFLOW) == {"wider": 0, "outside": []}
    finally:
        context.close()
    ada_record = live.call(live.engine.store.get_person(email=ada.email))
    assert ada_record is not None

    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, bo)
        page.goto(f"/people/{ada_record.id}/deactivate")
        loses = page.locator("[data-loses='support-bot']").inner_text()
        assert "resend@*" in loses and "reads patient data" in loses
        # Its expiry in local time with its offset, as every other page (a UTC date alone was
        # a day off for an expiry just after local midnight).
        row = page.locator("tr", has=page.locator("[data-loses='support-bot']"))
        expires = row.locator("td").last.inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d", expires), expires
        page.goto(f"/people/{ada_record.id}")
        made = page.get_by_role("table", name="API tokens made by this person")
        assert "support-bot" in made.inner_text() and "resend@*" in made.inner_text()
        assert page.locator("#person-tokens [data-suspended]").count() == 0

        taking = page.locator("form", has=page.locator("input[name=role][value=resend]"))
        taking.get_by_label("Reason").fill("moved to sales")
        taking.get_by_role("button", name="Take this role away").click()
        page.wait_for_url(f"**/people/{ada_record.id}?done=role_taken")
        assert page.locator("#person-done").inner_text() == "Role taken away."

        suspended = page.locator("#person-tokens [data-suspended='resend@*']").inner_text()
        assert "resend@* suspended" in suspended
        assert "its maker no longer holds resend" in suspended
        screenshot(page, "person-tokens-suspended")
        page.goto("/tokens")
        listed = page.locator("[data-suspended='resend@*']").inner_text()
        assert "only where its maker holds it now" in listed
    finally:
        context.close()
