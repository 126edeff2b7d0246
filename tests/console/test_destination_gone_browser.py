"""After removing a destination in a real browser: Back lands on pages that say it was
removed, when and by whom, with the way to the list (it landed on a 404), and a second tab's
removal form, submitted after, says it was removed already and offers no form again (it came
back as the form, or a 404). Every page checked as ever (``screenshot``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

REMOVE_FORM = "form[action='/destinations/zuid/remove']"


def _says_removed(page: Page) -> None:
    said = page.locator("#gone").inner_text()
    assert said.startswith("Destination zuid was removed at "), said
    assert " by person:lotte@example.org (revision " in said, said
    assert page.locator("#gone-reason").inner_text() == "Reason: lab zuid closed"
    assert page.locator(REMOVE_FORM).count() == 0


def test_back_and_a_second_tab_after_a_removal_say_it_was_removed(
    context: BrowserContext, live: LiveEngine
) -> None:
    operator = live.person("lotte@example.org", Grant(Role.DESTINATIONS, "LAB"))
    page = context.new_page()
    open_session(page, live, operator)
    page.goto("/destinations/zuid")
    page.get_by_role("button", name="Remove this destination…").click()
    page.wait_for_url(re.compile(r"/destinations/zuid/remove\??$"))
    second_tab = context.new_page()
    second_tab.goto("/destinations/zuid/remove")

    page.get_by_label("Reason for removing zuid").fill("lab zuid closed")
    page.get_by_role("button", name="Remove zuid").click()
    page.wait_for_url(re.compile(r"/destinations/zuid/removed/[0-9a-f]+$"))
    assert "zuid" not in live.engine.catalog.destinations

    back = page.go_back()  # the removal's page
    assert back is not None and back.status == 410
    assert re.search(r"/destinations/zuid/remove\??$", page.url), page.url
    _says_removed(page)
    screenshot(page, "destination-gone")
    back = page.go_back()  # the destination's page
    assert back is not None and back.status == 410
    assert page.url.endswith("/destinations/zuid")
    _says_removed(page)
    page.get_by_role("link", name="Back to the destinations").click()
    page.wait_for_url(re.compile(r"/destinations$"))

    # The second tab's form, drawn before the removal, submitted after it.
    second_tab.get_by_label("Reason for removing zuid").fill("closing it too")
    second_tab.get_by_role("button", name="Remove zuid").click()
    said = second_tab.locator("#gone-nothing-done")
    said.wait_for()
    assert said.inner_text() == (
        "Nothing was done: destination zuid had been removed already when you pressed the button."
    )
    _says_removed(second_tab)
    screenshot(second_tab, "destination-gone-second-tab")
    removals = [a for a in live.audit_actions("person:lotte@example.org") if a[1] == "zuid"]
    assert removals == [("destination.remove", "zuid")]
