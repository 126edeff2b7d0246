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
from tests.console.conftest import signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page


@pytest.fixture(scope="module")
def anna(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """An operator of CARD only (``noord``), signed in."""
    person = live.person("anna@example.org", Grant(Role.DESTINATIONS, "CARD"))
    with signed_in_page(browser, live, person) as page:
        yield page


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
        "1 gebeurtenis zonder bestemming wacht op zorgaanbieder 'lab-nieuw'"
    )
    anna.context.add_cookies([{"name": "integrator-lang", "value": "en", "url": live.url}])


def test_a_rollback_asks_first_checks_the_revision_shown_and_keeps_a_pause(
    anna: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    admin = live.engine.admin
    live.call(admin.update("noord", ["name=Noord (renamed)"], actor="test", reason="rename"))
    [*_, shown] = live.call(admin.history("noord"))
    anna.goto("/destinations/noord/history")
    expect(anna.locator("#rollback-keeps-state")).to_contain_text("keeps the destination paused")
    # A colleague pauses it after the page was opened: the rollback is refused, nothing done.
    live.call(
        admin.set_enabled("noord", False, actor="person:bea@example.org", reason="onderhoud LIS")
    )
    paused = shown["revision"] + 1
    before = shown["revision"] - 1
    form = anna.locator(f"#revision-{before} form")
    form.get_by_label("Reason").fill("back to the old name")
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    anna.once("dialog", accept)
    with anna.expect_response(re.compile(r"/destinations/noord/history\?answer=")) as answer:
        form.get_by_role("button", name=f"Roll back to revision {before}").click()
    assert asked == [f"Roll back to revision {before}? It applies to the next delivery."]
    assert answer.value.status == 409
    changed = anna.locator("#form-changed")
    expect(changed).to_contain_text(f"revision {paused} by person:bea@example.org")
    expect(changed).to_contain_text("onderhoud LIS")
    assert [h["revision"] for h in live.call(admin.history("noord"))][-1] == paused

    # Cancelled at the question: nothing is sent.
    anna.goto("/destinations/noord/history")
    form = anna.locator(f"#revision-{before} form")
    form.get_by_label("Reason").fill("back to the old name")
    anna.once("dialog", lambda dialog: dialog.dismiss())
    form.get_by_role("button", name=f"Roll back to revision {before}").click()
    assert [h["revision"] for h in live.call(admin.history("noord"))][-1] == paused

    # Confirmed, from a page that shows the pause: rolled back, and still paused.
    anna.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name=f"Roll back to revision {before}").click()
    anna.wait_for_url(re.compile(rf"/destinations/noord\?saved={paused + 1}"))
    assert anna.locator("#dest-state").inner_text() == "paused"
    config, _ = live.call(admin.get("noord"))
    assert (config.enabled, config.name) == (False, "Noord")
    [last] = live.call(admin.history("noord"))[-1:]
    assert "enabled" not in last["diff"] and "-name: Noord (renamed)" in last["diff"]
