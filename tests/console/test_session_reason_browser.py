"""Stating why one looks at patient data, in a real browser at 640 px wide (200 % zoom), by
keyboard alone: from the header's link on the messages page to the form, a preset chosen with
the arrow keys and words typed after it, back to the page, which shows it under the header.
Request by request, with what it records: ``test_session_reason``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

GP = "A question from the referrer (GP) about a referral"


def _tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the keyboard's focus (it must be reachable so)."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError("not reachable with Tab")


def test_a_reason_is_stated_by_keyboard_and_shown_under_the_header(
    browser: Browser, live: LiveEngine
) -> None:
    person = live.person("why.browser@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, person) as page:
        page.set_viewport_size({"width": 640, "height": 900})
        page.goto("/messages?status=queued")
        header = page.locator("#session-reason")
        assert "No reason given for this session." in header.inner_text()
        _tab_to(page, header.get_by_role("link", name="Give a reason"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/reason?next=**")
        screenshot(page, "session-reason-form")

        # A radio group is one stop for Tab (the checked one); the arrows choose in it.
        _tab_to(page, page.get_by_label("Something else: say it below"))
        page.keyboard.press("ArrowDown")  # from the last choice round to the first
        assert page.get_by_label(GP).is_checked()
        page.keyboard.press("Tab")
        page.keyboard.type("ZD100000001 not received")
        page.keyboard.press("Enter")  # the form's first button: save
        page.wait_for_url("**/messages?status=queued")

        said = f"{GP}: ZD100000001 not received"
        assert said in header.inner_text()
        assert header.get_by_role("link", name="Change the reason").is_visible()
        # Nothing wider than the window: the line wraps under the header's controls.
        assert page.evaluate("document.documentElement.scrollWidth") <= 640
        screenshot(page, "session-reason-shown")
