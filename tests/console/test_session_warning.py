"""Two minutes before a session ends, the page says so and offers to stay signed in.

Before, a support person who left a resend's reason half typed (a GP on the phone) found, on
clicking, the sign-in page and their text gone: nothing said the session was about to end. In a
real browser against a running engine: the page's timers run on a clock the test moves
(Playwright's), the session's idle clock is moved in the store (``idle_for``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine, Person
from tests.console.test_session_pages import idle_for, last_seen, referral, session_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

# The page asks the server 27 minutes after it loaded: 30 idle minutes, less the minute the
# session's last-seen time may lag behind, less the two minutes' warning.
ASKS_AFTER_MS = 27 * 60 * 1000


@pytest.fixture
def support(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[-40:]
    return live.person(f"{name}@example.org", Grant(Role.RESEND))


def typing_a_reason(context: BrowserContext, live: LiveEngine, person: Person, n: int) -> Page:
    """A message's page with a resend's reason half typed, the focus still in it; the page's
    timers on the test's clock."""
    message_id = live.submit(referral(n))
    page = context.new_page()
    open_session(page, live, person)
    page.clock.install()
    page.goto(f"/messages/{message_id}")
    reason = page.get_by_label("Reason")
    reason.focus()
    page.keyboard.type("GP phoned")
    return page


def test_the_warning_comes_two_minutes_before_the_end_and_keeps_the_session(
    context: BrowserContext, support: Person, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    page = typing_a_reason(context, live, support, 11)
    secret = session_of(context)
    warning = page.locator("#session-warning")
    idle_for(live, secret, timedelta(minutes=29))  # a minute left on the server
    with page.expect_response("**/session/left") as asked:
        page.clock.run_for(ASKS_AFTER_MS)
    assert asked.value.request.headers.get("x-integrator-background") == "1"
    expect(warning).to_be_visible()
    said = "You have not done anything on this console for a while: your session ends in"
    expect(warning).to_contain_text(said)
    assert re.search(r"ends in [01]:\d\d\.", warning.inner_text())
    expect(page.locator("#session-warning-said")).to_contain_text(said)  # read out, once
    assert not page.get_by_text("a session lasts at most 12 hours").is_visible()
    screenshot(page, "session-warning")
    # Nothing took the focus: the person goes on typing where they were.
    page.keyboard.type(" twice")
    assert page.get_by_label("Reason").input_value() == "GP phoned twice"
    seen = last_seen(live, secret)  # asking kept nothing alive

    # Alt+K reaches "Stay signed in" from where the person types: tabbing back to it through
    # a long list took longer than the warning lasts. Then they type on where they were.
    keep = page.get_by_role("button", name="Stay signed in")
    assert keep.get_attribute("aria-keyshortcuts") == "Alt+K"
    page.keyboard.press("Alt+k")
    expect(warning).to_be_hidden()
    assert last_seen(live, secret) > seen  # the idle clock started again
    assert live.call(live.engine.access.authenticate_session(secret, activity=False))
    expect(page.get_by_label("Reason")).to_be_focused()
    page.keyboard.type(" again")
    assert page.get_by_label("Reason").input_value() == "GP phoned twice again"


def test_a_session_that_ends_is_said_on_the_page_with_what_was_typed_kept(
    context: BrowserContext, support: Person, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    page = typing_a_reason(context, live, support, 12)
    here = page.url
    secret = session_of(context)
    idle_for(live, secret, timedelta(minutes=29))
    page.clock.run_for(ASKS_AFTER_MS)
    expect(page.locator("#session-warning")).to_be_visible()
    idle_for(live, secret, timedelta(minutes=31))  # the minute has gone by on the server
    page.clock.run_for(61_000)  # the countdown reaches 0:00, and the page asks again
    ended = page.locator("#session-ended")
    expect(ended).to_contain_text("Your session has ended; sign in again.")
    expect(page.locator("#session-warning")).to_be_hidden()
    link = ended.get_by_role("link", name="Sign in again")
    path = here.removeprefix(live.url)
    assert link.get_attribute("href") == "/login?next=" + path.replace("/", "%2F")
    assert page.url == here  # still the page, with what was typed
    assert page.get_by_label("Reason").input_value() == "GP phoned"
    screenshot(page, "session-warning-ended")


def test_a_session_kept_going_in_another_tab_is_not_warned_of(
    context: BrowserContext, support: Person, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    page = typing_a_reason(context, live, support, 13)
    secret = session_of(context)
    warning = page.locator("#session-warning")
    idle_for(live, secret, timedelta(minutes=10))  # another tab was used ten minutes ago
    with page.expect_response("**/session/left"):
        page.clock.run_for(ASKS_AFTER_MS)
    page.clock.run_for(1_000)
    expect(warning).to_be_hidden()
    # It asks again when that session is two minutes from its end: 18 minutes on.
    idle_for(live, secret, timedelta(minutes=29))
    with page.expect_response("**/session/left"):
        page.clock.run_for(18 * 60 * 1000)
    expect(warning).to_be_visible()


def test_the_warning_speaks_dutch(browser: Browser, support: Person, live: LiveEngine) -> None:
    from playwright.sync_api import expect

    context = new_context(browser, live, lang="nl")
    try:
        message_id = live.submit(referral(14))
        page = context.new_page()
        open_session(page, live, support)
        page.clock.install()
        page.goto(f"/messages/{message_id}")
        idle_for(live, session_of(context), timedelta(minutes=29))
        page.clock.run_for(ASKS_AFTER_MS)
        warning = page.locator("#session-warning")
        expect(warning).to_contain_text("Je hebt een tijd niets gedaan in deze console")
        expect(warning.get_by_role("button", name="Ingelogd blijven")).to_be_visible()
    finally:
        context.close()
