"""What a change of a destination answers besides its revision is shown on the page the
console leads to after the save: the CLI prints it as warnings and the API returns it in
``warnings``, and an operator held to one cluster (who cannot see the Unrouted events page) is
the one who must be told that events wait for a provider the change now serves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, sign_in
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def anna(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """An operator of CARD only (``noord``), signed in."""
    context = new_context(browser, live)
    try:
        page = context.new_page()
        sign_in(page, live.person("anna@example.org", Grant(Role.DESTINATIONS, "CARD")))
        yield page
    finally:
        context.close()


def unrouted_referral(live: LiveEngine) -> None:
    """A referral for ``lab-nieuw``, which no destination serves: stored unrouted."""
    event = load_sample("referral")
    event["provider"]["id"] = "lab-nieuw"
    result = live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    assert not result.messages


def test_serving_a_provider_whose_events_wait_unrouted_says_so_after_the_save(
    anna: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    unrouted_referral(live)
    anna.goto("/destinations/noord/edit")
    anna.get_by_label("Providers", exact=True).fill("ziekenhuis-noord, lab-nieuw")
    anna.get_by_label("Reason (goes into the history)").fill("serves the new lab")
    anna.get_by_role("button", name="Save").click()
    anna.wait_for_url(re.compile(r"/destinations/noord\?saved=\d+&change=\w+"))
    warnings = anna.locator("#change-warnings")
    expect(warnings).to_contain_text(
        "1 unrouted event(s) wait for provider 'lab-nieuw', now served by this destination"
    )
    assert "lab-nieuw" not in anna.url  # kept on the server, not in the address
    shown = anna.url
    # A reload shows it again; the page without the confirmation does not.
    anna.reload()
    expect(warnings).to_contain_text("lab-nieuw")
    anna.goto("/destinations/noord")
    assert anna.locator("#change-warnings").count() == 0

    # In Dutch too.
    anna.context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    anna.goto(shown)
    expect(anna.locator("#change-warnings")).to_contain_text(
        "1 niet-gerouteerde gebeurtenis(sen) wachten op aanbieder 'lab-nieuw'"
    )
