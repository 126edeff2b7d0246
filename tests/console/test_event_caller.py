"""Who sent an event, on the console's events pages (docs/product.md §2): the event's page says
it (*Sent by*, *Verstuurd door*), and the Events search's field of that name finds what one
sender brought in: all a leaked intake token sent. A term in no caller's form is refused beside
its field, naming the forms in the person's language, and never shown back in an address."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def _sent(live: LiveEngine, caller: str) -> str:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    live.call(live.engine.intake.submit(json.dumps(event), source="http", caller=caller))
    return str(event["event_id"])


def test_the_event_page_says_who_sent_it_and_the_search_finds_by_it(
    browser: Browser, live: LiveEngine
) -> None:
    leaked = _sent(live, "token:ci-intake")
    other = _sent(live, "local:anna")
    support = live.person("sanne.caller@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, support) as page:
        page.goto(f"/events/{leaked}")
        assert page.locator("#caller").inner_text() == "token:ci-intake"

        page.goto("/events")
        page.get_by_label("Sent by").fill("token:ci-intake")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/events?search=*")
        assert "ci-intake" not in page.url
        listed = page.locator("#event-list").inner_text()
        assert leaked[:8] in listed and other[:8] not in listed
        assert page.get_by_label("Sent by").input_value() == "token:ci-intake"

    nl = live.person("niels.caller@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, nl, lang="nl") as page:
        page.goto(f"/events/{other}")
        assert page.locator("#caller").inner_text() == "local:anna"
        page.goto("/events")
        page.get_by_label("Verstuurd door").fill("ci-intake")
        page.get_by_role("button", name="Zoeken").click()
        said = page.locator("#e-caller-error").inner_text()
        assert "zet voor een API-token token: vóór de naam" in said, said
        assert page.locator("#e-caller").get_attribute("aria-invalid") == "true"
        assert page.locator("#event-list").count() == 0 and "ci-intake" not in page.url
