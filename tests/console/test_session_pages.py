"""Sessions as a browser lives them: a page that refreshes by itself keeps no session alive, and
a session that ends under an action takes the person back to that page, saying nothing was done.
In a real browser against a running engine; the session's idle clock is moved in the store."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.access.tokens import hash_secret
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, sign_in
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request


def referral(number: int) -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = f"7a2d3b5f-9c2e-4b64-8e1f-4d3c2b{number:06d}"
    event["zd_number"] = f"ZD3000{number:05d}"
    return event


@pytest.fixture
def support(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    """Someone with the resend role, new for each test (a sign-in code works only once)."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[-40:]
    return live.person(f"{name}@example.org", Grant(Role.RESEND))


def sign_in_here(page: Page, person: Person) -> None:
    """Sign in on the sign-in page the browser shows, keeping where it returns to."""
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_label("Code from your authenticator app").fill(person.recovery_codes[0])
    page.get_by_role("button", name="Sign in").click()


def session_of(context: BrowserContext) -> str:
    [secret] = [c["value"] for c in context.cookies() if c["name"] == "integrator-session"]
    return secret


def last_seen(live: LiveEngine, secret: str) -> datetime:
    session = live.call(live.engine.store.get_session(hash_secret(secret)))
    assert session is not None
    return session.last_seen_at


def idle_for(live: LiveEngine, secret: str, span: timedelta) -> datetime:
    """Make the session look as if its person last did something ``span`` ago."""
    then = live.engine.clock.now() - span
    moved = live.engine.store.touch_session(
        hash_secret(secret), now=then, seen_before=then + timedelta(days=1)
    )
    assert live.call(moved)
    return last_seen(live, secret)


def test_a_page_that_polls_keeps_no_session_alive(
    context: BrowserContext, support: Person, live: LiveEngine
) -> None:
    # A paused destination holds its messages: the page's status badge polls every 2 s.
    hold = live.engine.admin.set_enabled("noord", False, actor="local:test", reason="held")
    live.call(hold)
    try:
        message_id = live.submit(referral(1), settle=False)
        page = context.new_page()
        sign_in(page, support)
        polls: list[Request] = []
        polled = re.compile(r"/status\?shown=queued&attempts=0$")
        page.on("request", lambda r: polls.append(r) if polled.search(r.url) else None)
        # The browser's timers on a clock the test moves: each poll is the page's own timer
        # firing, without the test waiting out its 2 s (or the dashboard's 5 s) in real time.
        page.clock.install()
        page.goto(f"/messages/{message_id}")
        assert page.locator("#message-status").inner_text() == "queued"
        screenshot(page, "message-queued")
        secret = session_of(context)
        # Ten idle minutes: any request counted as activity would move last_seen_at to now.
        before = idle_for(live, secret, timedelta(minutes=10))
        for _ in range(2):
            with page.expect_request(polled, timeout=10_000):
                page.clock.run_for(2_000)
        assert polls and all(r.headers.get("x-integrator-background") == "1" for r in polls)
        assert last_seen(live, secret) == before
        # The dashboard's refresh follows the same rule.
        # (With what each tile's button does, ``shown``: the refresh redraws those that changed.)
        figures = re.compile(r"/dashboard/figures\?shown=")
        with page.expect_request(figures, timeout=15_000) as tile:
            page.goto("/")
            page.clock.run_for(5_000)
        assert tile.value.headers.get("x-integrator-background") == "1"
        # What the person does still counts: the click on the dashboard link did.
        assert last_seen(live, secret) > before
    finally:
        resume = live.engine.admin.set_enabled("noord", True, actor="local:test", reason="done")
        live.call(resume)
        assert live.call(live.engine.wait_settled(timeout=20))


@pytest.mark.parametrize("button", ["Show what would be sent", "Resend now"])
def test_a_session_ending_under_an_action_returns_to_its_page_saying_nothing_was_done(
    context: BrowserContext, support: Person, live: LiveEngine, button: str
) -> None:
    message_id = live.submit(referral(2 if button == "Resend now" else 3))
    page = context.new_page()
    sign_in(page, support)
    page.goto(f"/messages/{message_id}")
    page.get_by_label("Reason").fill("GP phoned: not arrived")
    if button == "Resend now":  # the form that resends appears with the preview
        page.get_by_role("button", name="Show what would be sent").click()
        page.get_by_role("button", name="Resend now").wait_for()
    idle_for(live, session_of(context), timedelta(minutes=31))

    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/login?**")
    notice = page.locator("#login-interrupted")
    assert "was not done" in notice.inner_text()
    screenshot(page, "sign-in-after-session-ended")
    sign_in_here(page, support)
    page.wait_for_url(f"**/messages/{message_id}")
    assert live.call(live.engine.store.list_resends(message_id))[1] == []


def test_a_session_ending_under_a_page_s_refresh_leaves_what_was_typed(
    context: BrowserContext, live: LiveEngine
) -> None:
    """The dashboard refreshes itself every 5 s while an operator types a pause reason: when
    the session ends, the refresh does not take them away (the text would be lost and the
    rest of their typing go into the sign-in form) but says so beside it, and links to sign in
    and come back."""
    from playwright.sync_api import expect

    person = live.person("typing@example.org", Grant(Role.VIEWER), Grant(Role.DESTINATIONS, "CARD"))
    page = context.new_page()
    sign_in(page, person)
    page.clock.install()  # the refresh's timer, moved on by the test rather than waited for
    page.goto("/")
    reason = page.locator("#tile-noord").get_by_label("Reason")
    reason.focus()
    page.keyboard.type("receiver maintenance")
    idle_for(live, session_of(context), timedelta(minutes=31))

    notice = page.locator("#session-ended")
    page.clock.run_for(5_000)  # the next refresh
    expect(notice).to_contain_text("Your session has ended", timeout=15_000)
    page.keyboard.type(" tonight")  # still into the form: nothing moved the focus
    assert reason.input_value() == "receiver maintenance tonight"
    assert page.url == f"{live.url}/"
    link = notice.get_by_role("link", name="Sign in again")
    assert link.get_attribute("href") == "/login"  # the dashboard is where signing in leads
    screenshot(page, "session-ended-while-typing")
    link.click()
    page.wait_for_url("**/login")
    sign_in_here(page, person)
    page.wait_for_url(f"{live.url}/")


def test_the_notice_speaks_dutch(browser: Browser, live: LiveEngine) -> None:
    context = new_context(browser, live, lang="nl")
    try:
        page = context.new_page()
        page.goto("/login?next=%2Fmessages&interrupted=1")
        assert "niet gedaan" in page.locator("#login-interrupted").inner_text()
        page.goto("/login?next=%2Fmessages")
        assert page.locator("#login-interrupted").count() == 0
    finally:
        context.close()
