"""A pause or resume from a dashboard tile comes back to the dashboard saying what was done
(the revision it was saved as) and every warning the change gave, as the destination page's
own pause does, in that tile, with the keyboard's focus on it: it redirected to a bare "/"
before, the focus on <body> and the warnings dropped. By keyboard alone, in a real browser
against a running engine, in English and Dutch."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BACK = re.compile(r"/\?change=\w+#done-noord$")
WAITING_NL = "1 gebeurtenis zonder bestemming wacht nog op zorgaanbieder 'lab-nieuw'"
WAITING = "1 unrouted event(s) still wait for provider 'lab-nieuw', which this destination serves"


@pytest.fixture(scope="module")
def operator(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """May change CARD's ``noord``, which serves ``lab-nieuw`` too, for which a referral waits
    unrouted (it arrived before ``noord`` served it): each change of ``noord`` warns of it."""
    event = load_sample("referral")
    event["provider"]["id"] = "lab-nieuw"
    result = live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    assert not result.messages
    providers = ["ziekenhuis-noord", "lab-nieuw"]
    live.call(live.engine.admin.patch("noord", {"providers": providers}, actor="test"))
    live.call(live.engine.reload_destinations())
    person = live.person("otto@example.org", Grant(Role.DESTINATIONS, "CARD"))
    with signed_in_page(browser, live, person) as page:
        yield page


def newest_revision(live: LiveEngine) -> int:
    return int(live.call(live.engine.admin.history("noord"))[-1]["revision"])


def test_a_pause_by_keyboard_says_its_revision_and_warnings_where_the_focus_lands(
    operator: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    operator.goto("/")
    assert operator.locator("#done-noord").count() == 0  # nothing done yet: nothing said
    operator.locator("#reason-noord").focus()
    operator.keyboard.type("receiver maintenance tonight")
    operator.keyboard.press("Tab")  # to "Pause Noord"
    assert operator.evaluate("document.activeElement.getAttribute('aria-label')") == "Pause Noord"
    operator.keyboard.press("Enter")
    operator.wait_for_url(BACK)
    revision = newest_revision(live)

    done = operator.locator("#tile-noord #done-noord")
    assert done.get_attribute("role") == "status"
    expect(done).to_be_focused()
    expect(done).to_contain_text(f"Noord paused, as revision {revision}.")
    expect(done.locator("li")).to_have_text([re.compile(re.escape(WAITING))])
    assert "lab-nieuw" not in operator.url  # kept on the server, not in the address
    screenshot(operator, "dashboard-paused-said")

    # On from there by keyboard: Tab reaches the same tile's reason, Enter resumes.
    operator.keyboard.press("Tab")
    assert operator.evaluate("document.activeElement.id") == "reason-noord"
    operator.keyboard.type("maintenance done")
    operator.keyboard.press("Tab")
    operator.keyboard.press("Enter")
    operator.wait_for_url(BACK)
    expect(done).to_be_focused()
    expect(done).to_contain_text(f"Noord resumed, as revision {revision + 1}.")
    expect(done.locator("li")).to_have_count(1)

    # In Dutch, a reload says it again; the dashboard without the record says nothing.
    operator.context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    try:
        operator.reload()
        expect(done).to_contain_text(f"Noord hervat, als revisie {revision + 1}.")
        expect(done).to_contain_text(WAITING_NL)
    finally:
        operator.context.add_cookies([{"name": "integrator-lang", "value": "en", "url": live.url}])
    operator.goto("/")
    assert operator.locator("#done-noord").count() == 0
