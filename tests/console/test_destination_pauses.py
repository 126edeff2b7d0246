"""A destination's page says since when it is paused and when it was last resumed, as the
engine saw it: a message's ``max_age`` counts from that resume at the earliest. Paused and
resumed with the page's own form, the engine applying each change (as it does when it notices
the file); in English and Dutch, no line for a moment there is none of."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from integrator.console.render import local_time
from integrator.store import DestinationPause
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def operator(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person = live.person("otto@example.org", Grant(Role.DESTINATIONS))
    with signed_in_page(browser, live, person) as page:
        yield page


def change_state(page: Page, live: LiveEngine, button: str, reason: str) -> DestinationPause:
    """Pause or resume ``noord`` with its page's form; the engine applies it; its row after."""
    page.goto("/destinations/noord")
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    live.call(live.engine.reload_destinations())
    pause = live.call(live.engine.store.destination_pause("noord"))
    assert pause is not None
    return pause


def label_of(page: Page, selector: str) -> str:
    return page.locator(selector).locator("xpath=preceding-sibling::dt[1]").inner_text()


def test_the_page_says_since_when_paused_and_when_last_resumed(
    operator: Page, browser: Browser, live: LiveEngine
) -> None:
    zone = live.engine.settings.zone
    operator.goto("/destinations/noord")  # never paused: neither line
    assert operator.locator("#dest-state").inner_text() == "active"
    assert operator.locator("#dest-paused-at, #dest-resumed-at").count() == 0

    paused = change_state(operator, live, "Pause", "maintenance window")
    assert paused.paused_at is not None and paused.resumed_at is None
    operator.goto("/destinations/noord")
    assert operator.locator("#dest-paused-at").inner_text() == local_time(paused.paused_at, zone)
    assert label_of(operator, "#dest-paused-at") == "Paused since"
    assert operator.locator("#dest-resumed-at").count() == 0
    # Who paused it and why, and the change in its history, where support asked the history.
    by = operator.locator("#dest-paused-by")
    assert label_of(operator, "#dest-paused-by") == "Paused by"
    assert "otto@example.org" in by.inner_text() and "Reason: maintenance window" in by.inner_text()
    by.get_by_role("link").click()
    operator.wait_for_url("**/destinations/noord/history#revision-*")
    anchor = operator.url.rsplit("#", 1)[1]
    assert "maintenance window" in operator.locator(f"#{anchor}").inner_text()

    resumed = change_state(operator, live, "Resume", "receiver back up")
    assert resumed.paused_at is None and resumed.resumed_at is not None
    operator.goto("/destinations/noord")
    assert operator.locator("#dest-state").inner_text() == "active"
    shown = local_time(resumed.resumed_at, zone)
    assert operator.locator("#dest-resumed-at").inner_text() == shown
    assert label_of(operator, "#dest-resumed-at") == "Last resumed"
    assert operator.locator("#dest-paused-at").count() == 0  # the store forgets it at a resume
    assert operator.locator("#dest-paused-by").count() == 0
    screenshot(operator, "destination-resumed")

    # Signed in without the form (its Dutch is tested in test_sign_in and test_messages).
    person = live.person("daan@example.org", Grant(Role.DESTINATIONS))
    with signed_in_page(browser, live, person, lang="nl") as dutch:
        dutch.goto("/destinations/noord")
        assert dutch.locator("#dest-resumed-at").inner_text() == shown
        assert label_of(dutch, "#dest-resumed-at") == "Laatst hervat"
        live.call(live.engine.admin.set_enabled("noord", False, actor="test", reason="again"))
        live.call(live.engine.reload_destinations())
        dutch.goto("/destinations/noord")
        assert label_of(dutch, "#dest-paused-at") == "Gepauzeerd sinds"
        assert label_of(dutch, "#dest-paused-by") == "Gepauzeerd door"
        assert "Reden: again" in dutch.locator("#dest-paused-by").inner_text()
        assert dutch.locator("#dest-resumed-at").inner_text() == shown  # still the last resume
        screenshot(dutch, "destination-paused-nl")
