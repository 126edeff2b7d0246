"""Editing a destination in the console never silently undoes a colleague's change, never
hides it from its cluster's people by a typo, and never breaks the layout with a long name; a
refused new destination puts the keyboard on the field to correct.

Two people in two browsers against one running engine: an operator opens the edit form, a
colleague pauses the destination from the dashboard, the operator saves a rename.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def anna(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """An operator of CARD, signed in."""
    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, live.person("anna@example.org", Grant(Role.DESTINATIONS, "CARD")))
        yield page
    finally:
        context.close()


@pytest.fixture
def bea(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Another operator of CARD, in a browser of her own."""
    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, live.person("bea@example.org", Grant(Role.DESTINATIONS, "CARD")))
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def otto(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """An operator of every cluster (only such a one may put a destination in a new one);
    signed in once for the module (a person is invited once)."""
    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, live.person("otto@example.org", Grant(Role.DESTINATIONS)))
        yield page
    finally:
        context.close()


def test_a_save_from_a_form_opened_before_a_colleagues_pause_is_refused_and_keeps_it(
    anna: Page, bea: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    anna.goto("/destinations/noord/edit")
    # Pausing is not the form's business: it has its own action, which asks why.
    assert anna.get_by_label("Active (unticked: paused)").count() == 0
    assert anna.locator("input[name=revision]").get_attribute("value") == "1"

    bea.goto("/")
    tile = bea.locator("#tile-noord")
    tile.get_by_label("Reason").fill("LIS maintenance window")
    tile.get_by_role("button", name="Pause").click()
    expect(tile.locator('[data-figure="state"]')).to_have_text("paused")

    anna.get_by_label("Name", exact=True).fill("Noord (renamed)")
    anna.get_by_label("Reason (goes into the history)").fill("rename")
    with anna.expect_response(re.compile(r"/destinations/noord/edit\?answer=")) as answer:
        anna.get_by_role("button", name="Save").click()
    assert answer.value.status == 409
    changed = anna.locator("#form-changed")
    expect(changed).to_be_visible()
    said = " ".join(changed.inner_text().split())
    assert "noord was changed since you opened it: revision 2 by person:bea@example.org" in said
    assert "“paused: LIS maintenance window”" in said and "Changed then: enabled." in said
    # What Anna typed is kept; nothing was written; the destination is still paused.
    assert anna.get_by_label("Name", exact=True).input_value() == "Noord (renamed)"
    assert anna.get_by_label("Reason (goes into the history)").input_value() == "rename"
    config, _ = live.call(live.engine.admin.get("noord"))
    assert (config.enabled, config.name) == (False, "Noord")
    assert [h["revision"] for h in live.call(live.engine.admin.history("noord"))] == [1, 2]
    screenshot(anna, "destination-form-changed-since")

    # She looks at the change and saves again (her reason kept): her rename, on the pause.
    expect(changed.get_by_role("link", name="Look at the change in the history")).to_have_attribute(
        "href", "/destinations/noord/history#revision-2"
    )
    anna.get_by_role("button", name="Save").click()
    anna.wait_for_url(re.compile(r"/destinations/noord\?saved=3"))
    assert anna.locator("#dest-state").inner_text() == "paused"
    config, _ = live.call(live.engine.admin.get("noord"))
    assert (config.enabled, config.name) == (False, "Noord (renamed)")
    [last] = live.call(live.engine.admin.history("noord"))[-1:]
    assert "enabled" not in last["diff"] and "+name: Noord (renamed)" in last["diff"]
    assert last["reason"] == "rename"


def test_a_move_into_a_cluster_nobody_holds_is_asked_about_and_long_values_fit(
    otto: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    otto.goto("/destinations/zuid/edit")
    name = otto.get_by_label("Name", exact=True)
    assert name.get_attribute("maxlength") == "200"
    assert otto.get_by_label("Cluster", exact=True).get_attribute("maxlength") == "64"

    # Past the input's maxlength (a forged post): the service's rule, beside the field.
    name.evaluate("input => input.removeAttribute('maxlength')")
    name.fill("Z" * 5000)
    otto.get_by_role("button", name="Save").click()
    expect(otto.locator("#name-error")).to_contain_text("name: String should have at most 200")

    # A typo in the cluster: nothing is saved before Otto confirms it.
    name.fill("Z" * 200)
    otto.get_by_label("Cluster", exact=True).fill("LBA")
    with otto.expect_response(re.compile(r"/destinations/zuid/edit\?answer=")) as answer:
        otto.get_by_role("button", name="Save").click()
    assert answer.value.status == 422
    question = otto.locator("#cluster-unheld")
    expect(question).to_contain_text(
        "No one holds cluster LBA: the people of LAB will no longer see this destination; "
        "the clusters in use are: CARD, LAB."
    )
    screenshot(otto, "destination-form-cluster-question")
    assert live.call(live.engine.admin.get("zuid"))[0].cluster == "LAB"

    # The right cluster needs no confirmation (CARD has people and destinations).
    otto.get_by_label("Cluster", exact=True).fill("CARD")
    otto.get_by_role("button", name="Save").click()
    otto.wait_for_url(re.compile(r"/destinations/zuid\?saved=\d+"))
    assert live.call(live.engine.admin.get("zuid"))[0].cluster == "CARD"

    # A new cluster on purpose: confirmed, then saved.
    otto.goto("/destinations/zuid/edit")
    otto.get_by_label("Cluster", exact=True).fill("RAD")
    otto.get_by_role("button", name="Save").click()
    otto.get_by_label("Put it in cluster RAD anyway").check()
    otto.get_by_role("button", name="Save").click()
    otto.wait_for_url(re.compile(r"/destinations/zuid\?saved=\d+"))
    assert live.call(live.engine.admin.get("zuid"))[0].cluster == "RAD"

    # A 200-character name without a space wraps: no page is wider than the window.
    for path in ("/destinations", "/destinations/zuid", "/"):
        otto.goto(path)
        expect(otto.get_by_text("Z" * 200).first).to_be_visible()
        wide = otto.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, (path, wide)
    screenshot(otto, "destinations-long-name")


def test_an_id_that_exists_already_is_refused_beside_the_id_with_the_focus_there(
    otto: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    otto.goto("/destinations-new")
    otto.get_by_label("Id", exact=True).fill("noord")
    otto.get_by_label("Name", exact=True).fill("Noord again")
    otto.get_by_label("Host", exact=True).fill("127.0.0.1")
    otto.get_by_label("Port", exact=True).fill("2600")
    otto.get_by_label("Message version for referral").select_option("ref-v2")
    otto.get_by_label("Reason (goes into the history)").fill("a second noord")
    otto.get_by_role("button", name="Save").click()
    expect(otto.locator("#id-error")).to_have_text(
        "id: destination noord exists already; open it and edit it to change it"
    )
    expect(otto.get_by_label("Id", exact=True)).to_be_focused()  # console.js: first invalid
    expect(otto.get_by_label("Reason (goes into the history)")).to_have_value("a second noord")
    screenshot(otto, "destination-new-id-exists")
    assert live.call(live.engine.admin.get("noord"))[0].name != "Noord again"
