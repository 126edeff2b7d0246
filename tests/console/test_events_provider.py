"""A provider typed wrong on the events page: not only *No events found*, but that no
destination serves it, with the providers that are served, as ``integrator events list
--provider`` says it; of the person's clusters only, so no other cluster's provider is told."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def search_provider(page: Page, provider: str) -> str:
    page.goto("/events")
    page.get_by_label("Provider").fill(provider)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/events?search=*")
    assert provider not in page.url
    return page.locator("#no-events").inner_text()


def test_a_provider_nobody_serves_is_said_with_the_served_ones_in_sight(
    browser: Browser, live: LiveEngine
) -> None:
    # An event for the provider only ``zuid`` (cluster LAB) serves: stored, in LAB.
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["provider"] = {**event["provider"], "id": "lab-zuid", "name": "Lab Zuid"}
    live.call(live.engine.intake.submit(json.dumps(event), source="http"))

    everywhere = live.person("wim.typo@example.org", Grant(Role.VIEWER))
    with signed_in_page(browser, live, everywhere) as page:
        said = search_provider(page, "ziekenhuis-nord")
        assert "no destination in your clusters serves it" in said, said
        assert "ziekenhuis-noord, lab-zuid" in said or "lab-zuid, ziekenhuis-noord" in said
        # A provider served is not said to be unknown: its events are listed.
        page.goto("/events")
        page.get_by_label("Provider").fill("lab-zuid")
        page.get_by_role("button", name="Search").click()
        page.locator("#event-list").wait_for()

    card = live.person("cor.typo@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, card) as page:
        said = search_provider(page, "ziekenhuis-nord")
        assert "Providers served in your clusters: ziekenhuis-noord." in said, said
        assert "lab-zuid" not in page.content()
        # Another cluster's provider reads as unknown too: its events and its destination are
        # out of sight, and saying nothing for it would tell it exists.
        said = search_provider(page, "lab-zuid")
        assert "no destination in your clusters serves it" in said, said

    nl = live.person("nina.typo@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, nl, lang="nl") as page:
        page.goto("/events")
        page.get_by_label("Zorgaanbieder").fill("ziekenhuis-nord")
        page.get_by_role("button", name="Zoeken").click()
        said = page.locator("#no-events").inner_text()
        assert "geen bestemming in je clusters bedient hem" in said, said
        assert said.endswith("ziekenhuis-noord."), said
