"""The console in the full browser, ``/usr/bin/chromium`` (Debian's package ``chromium``).

The other console tests drive Debian's headless build of the same Chromium where it is
installed (``tests/services.py`` says why); this one walks a person's first steps in the
browser people use: the login form with the second factor, the dashboard, a referral found
and read, signing out. Each page is checked as every page is (``screenshot``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, sign_in
from tests.console.live import LiveEngine
from tests.services import FULL_CHROMIUM, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ZD = "ZD100000001"  # the sample referral's


@pytest.fixture(scope="module")
def full_browser(browser: Browser) -> Iterator[Browser]:
    """The full Chromium, launched by the process's Playwright beside its own browser."""
    launched = browser.browser_type.launch(
        executable_path=require_chromium(FULL_CHROMIUM), args=["--no-sandbox"]
    )
    try:
        yield launched
    finally:
        launched.close()


def test_a_person_signs_in_finds_a_referral_and_signs_out_in_the_full_browser(
    full_browser: Browser, live: LiveEngine
) -> None:
    live.submit(load_sample("referral"))
    person = live.person("fiona@example.org", Grant(Role.RESEND))
    context = new_context(full_browser, live)
    try:
        page = context.new_page()
        sign_in(page, person)
        assert page.get_by_role("heading", name="Dashboard").is_visible()
        screenshot(page, "full-chromium-dashboard")
        page.get_by_role("link", name="Messages").click()
        page.get_by_label("ZD number").fill(ZD)
        page.get_by_role("button", name="Search").click()
        page.locator("table tbody tr").first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/messages/[0-9a-f-]+$"))
        assert ZD in page.content()
        screenshot(page, "full-chromium-message")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login"))
    finally:
        context.close()
