"""Removing a destination in a real browser against a running engine: offered on its page,
a page that says what waits and what the box does, a refusal beside the form that takes the
keyboard's focus to the box it is about, then the removal and its result. Every page checked
(each field labelled, nothing loaded from elsewhere, no error in the browser), and the icon
the pages link is there for the browser to load."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


def test_an_operator_removes_a_destination_whose_messages_wait(
    context: BrowserContext, live: LiveEngine
) -> None:
    # ``zuid`` (LAB) paused, with a referral for its provider waiting for it.
    live.call(live.engine.admin.set_enabled("zuid", False, actor="local:test"))
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["provider"]["id"] = "lab-zuid"
    live.submit(event, settle=False)
    operator = live.person("lotte@example.org", Grant(Role.DESTINATIONS, "LAB"))
    page = context.new_page()
    open_session(page, live, operator)

    page.goto("/destinations/zuid")
    status = "async () => (await fetch(document.querySelector('link[rel=icon]').href)).status"
    assert page.evaluate(status) == 200
    screenshot(page, "destination-remove-offered")
    page.get_by_role("button", name="Remove this destination…").click()
    page.wait_for_url(re.compile(r"/destinations/zuid/remove\??$"))
    assert "1 message is waiting" in page.locator("#remove-waiting").inner_text()
    screenshot(page, "destination-remove-confirm")

    page.get_by_label("Reason for removing zuid").fill("lab zuid closed")
    page.get_by_role("button", name="Remove zuid").click()
    refusal = page.locator("#remove-refused")
    assert "1 message still waits for this destination" in refusal.inner_text()
    page.wait_for_function("document.activeElement?.id === 'remove-force'")
    assert page.get_by_label("Reason for removing zuid").input_value() == "lab zuid closed"
    screenshot(page, "destination-remove-refused")
    assert "zuid" in live.engine.catalog.destinations

    page.keyboard.press("Space")  # ticks the box that has the focus
    page.get_by_role("button", name="Remove zuid").click()
    page.wait_for_url(re.compile(r"/destinations/zuid/removed/[0-9a-f]+$"))
    assert "Destination zuid removed, as revision" in page.locator("#removed").inner_text()
    assert (
        "1 waiting message is a dead letter now"
        in page.locator("#removed-dead-lettered").inner_text()
    )
    screenshot(page, "destination-removed")
    assert "zuid" not in live.engine.catalog.destinations
