"""A group of dead letters' Resend and Discard buttons lie past its table, two tab stops a row:
with 500 listed, 492 Tab presses from a ticked row. From the group's start a link named for
the group leads there: ticking the whole group and reaching its buttons is a few keys, not a
walk through every row. By keyboard alone, in a real browser against a running engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_dead_letter_pages import referral

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LETTERS = 30


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """May resend and discard in CARD (``noord``), where ``LETTERS`` referrals died of AR."""
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        for _ in range(LETTERS):
            live.submit(referral(), settle=False)
        assert live.call(live.engine.wait_settled(timeout=30))
    finally:
        receiver.ack_code = "AA"
    person = live.person("dora@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, person) as page:
        yield page


def test_the_group_s_buttons_are_a_few_keys_from_its_start(support: Page) -> None:
    from playwright.sync_api import expect

    support.goto("/deadletters")
    group = support.locator("section.group")
    expect(group).to_have_count(1)
    boxes = group.locator("input[name=ids]")
    expect(boxes).to_have_count(LETTERS)
    title = group.get_by_role("heading").inner_text()

    group.locator("[data-select-group]").focus()  # the group's first control
    support.keyboard.press("Space")  # tick them all
    support.keyboard.press("Tab")
    link = support.evaluate("document.activeElement.id")
    jump = group.get_by_role("link", name=f"Go to this group's buttons {title}")
    assert jump.get_attribute("id") == link  # named with its group, as its buttons are
    support.keyboard.press("Enter")
    support.keyboard.press("Tab")
    resend = group.get_by_role("button", name=f"Resend selected… {title}")
    assert support.evaluate("document.activeElement.id") == resend.get_attribute("id")
    support.keyboard.press("Tab")
    discard = group.get_by_role("button", name=f"Discard selected… {title}")
    assert support.evaluate("document.activeElement.id") == discard.get_attribute("id")
    assert all(boxes.nth(i).is_checked() for i in range(LETTERS))
    screenshot(support, "deadletters-group-actions")

    # Enter on the button: the confirmation of the whole group, nothing done yet.
    support.keyboard.press("Shift+Tab")
    support.keyboard.press("Enter")
    support.wait_for_url("**/deadletters?answer=*")
    expect(support.get_by_role("heading", level=1)).to_be_visible()
    # The confirmation lists every letter before its reason and button: a link skips it.
    rows = support.locator("table tbody tr")
    expect(rows).to_have_count(LETTERS)
    support.get_by_role("link", name="Skip the list: to the reason and the button").focus()
    support.keyboard.press("Enter")
    support.keyboard.press("Tab")
    assert support.evaluate("document.activeElement.id") == "confirm-reason"
    support.keyboard.type("receiver back")
    support.keyboard.press("Tab")
    assert support.evaluate("document.activeElement.type") == "submit"
    screenshot(support, "deadletters-confirm-skip")
