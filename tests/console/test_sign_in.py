"""Signing in with a password and a second factor, signing out, the language switch, and
accepting an invitation: in a real browser against a running engine."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pyotp
import pytest

from integrator.access import Grant, Role
from integrator.access.tokens import hash_secret
from tests.console.conftest import new_context, open_session, screenshot, sign_in
from tests.console.live import PASSWORD, LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def operator(live: LiveEngine) -> Person:
    return live.person("olga@example.org", Grant(Role.DESTINATIONS), Grant(Role.PREVIEW))


def test_signing_in_needs_the_second_factor_and_every_failure_reads_the_same(
    page: Page, live: LiveEngine, operator: Person
) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/login"))
    screenshot(page, "login")
    refusals = []
    for password, code in ((operator.password, "000000"), ("wrong password 1", operator.code())):
        page.get_by_label("E-mail address").fill(operator.email)
        page.get_by_label("Password").fill(password)
        page.get_by_label("Code from your authenticator app").fill(code)
        with page.expect_navigation():  # the same address again: wait for the new page
            page.get_by_role("button", name="Sign in").click()
        refusals.append(page.locator("#login-refused").inner_text())
    assert refusals[0] == refusals[1]
    assert "password" in refusals[0]
    assert page.context.cookies() and not any(
        c["name"] == "integrator-session" for c in page.context.cookies()
    )

    sign_in(page, operator)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    session = next(c for c in page.context.cookies() if c["name"] == "integrator-session")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"
    # Navigation shows only what the person may use: no messages for an operator, and a
    # forged visit to them is refused.
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_role("link", name="Dashboard").is_visible()
    assert nav.get_by_role("link", name="Messages").count() == 0
    refused = page.goto("/messages")
    assert refused is not None and refused.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    screenshot(page, "forbidden")
    page.goto("/")
    screenshot(page, "dashboard")
    actions = [a for a, _ in live.audit_actions(f"person:{operator.email}")]
    assert "login.success" in actions

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert "logout" in [a for a, _ in live.audit_actions(f"person:{operator.email}")]
    assert _sources(live, f"person:{operator.email}")["logout"] == "127.0.0.1"  # from where
    page.goto("/")
    page.wait_for_url(re.compile(r"/login"))  # the session is gone, not only the cookie


def test_the_fast_sign_in_gives_what_the_form_gives(
    browser: Browser, page: Page, live: LiveEngine
) -> None:
    """``open_session``, which most browser tests use instead of the form, must make a session
    nothing can tell from the form's: the same cookie, session row, audit entry and pages, and
    forms (CSRF) that work. Two people with the same grants: a code is taken only once."""
    grants = (Grant(Role.DESTINATIONS), Grant(Role.PREVIEW))
    by_form, directly = (
        live.person("fenna@example.org", *grants),
        live.person("dirk@example.org", *grants),
    )
    sign_in(page, by_form)
    fast = new_context(browser, live).new_page()
    open_session(fast, live, directly)

    def cookie_of(of: Page) -> tuple[dict[str, object], float, str]:
        """The session cookie's attributes, its expiry, and its value."""
        [cookie] = [c for c in of.context.cookies() if "integrator-session" in c["name"]]
        attributes = {k: v for k, v in cookie.items() if k not in ("expires", "value")}
        return attributes, cookie["expires"], cookie["value"]

    (form_cookie, form_expires, form_secret), (fast_cookie, fast_expires, fast_secret) = (
        cookie_of(page),
        cookie_of(fast),
    )
    assert form_cookie == fast_cookie  # name, domain, path, Secure, HttpOnly, SameSite
    assert abs(form_expires - fast_expires) < 5
    rows = [
        live.call(live.engine.store.get_session(hash_secret(s))) for s in (form_secret, fast_secret)
    ]
    lifetimes = set()
    for row in rows:
        assert row is not None and row.two_factor and row.revoked_at is None
        assert row.last_seen_at == row.created_at
        lifetimes.add(row.expires_at - row.created_at)
    assert len(lifetimes) == 1
    logins = [
        (e.target.removeprefix("person:"), e.details)
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "login.success"
        and e.actor in (f"person:{by_form.email}", f"person:{directly.email}")
    ]
    assert sorted(logins, key=lambda entry: entry[0]) == [
        (directly.email, {"method": "totp", "source": "127.0.0.1"}),
        (by_form.email, {"method": "totp", "source": "127.0.0.1"}),
    ]

    for path, status in (("/", 200), ("/destinations", 200), ("/messages", 403)):
        shown = []
        for each, person in ((page, by_form), (fast, directly)):
            answer = each.goto(path)
            assert answer is not None and answer.status == status, path
            text = each.locator("body").inner_text().replace(person.email, "EMAIL")
            shown.append(re.sub(r"\d\d:\d\d:\d\d", "hh:mm:ss", text))  # when it was shown
        assert shown[0] == shown[1], path

    fast.get_by_role("button", name="Sign out").click()  # a form: its CSRF token holds
    fast.wait_for_url(re.compile(r"/login"))
    assert "logout" in [a for a, _ in live.audit_actions(f"person:{directly.email}")]
    fast.goto("/")
    fast.wait_for_url(re.compile(r"/login"))
    fast.context.close()


def test_the_language_switch_holds_across_pages(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("heading", name="Inloggen").wait_for()
    assert page.get_by_label("E-mailadres").is_visible()
    page.goto("/invitation")
    assert page.get_by_role("heading", name="Je account instellen").is_visible()
    assert page.locator("html").get_attribute("lang") == "nl"


def test_accepting_an_invitation_sets_password_and_second_factor(
    page: Page, live: LiveEngine
) -> None:
    link = live.invitation_link("ines@example.org", Grant(Role.VIEWER))
    path = link[link.index("/invitation") :]
    requests: list[tuple[str, str]] = []
    page.on("request", lambda request: requests.append((request.url, request.post_data or "")))
    page.goto(path)
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/")
    qr = page.locator("#totp-qr")
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "#" not in page.url  # the fragment was taken out of the address bar
    screenshot(page, "invitation")
    page.get_by_label("New password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_label("Code your authenticator app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate account").click()
    page.locator("#recovery-codes").wait_for()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "invitation-done")
    # From where the link was opened and accepted, as for a sign-in.
    sources = _sources(live, "person:ines@example.org")
    assert sources["invitation.open"] == sources["person.accept"] == "127.0.0.1"
    # The link's secret only ever travelled in a form body, never in an address.
    fragment = link.split("#", 1)[1]
    assert not any(fragment in url for url, _ in requests)
    assert any(fragment in body for url, body in requests if url.endswith("/invitation/open"))
    # Signing in works with a recovery code as the second factor.
    sign_in(page, Person("ines@example.org", PASSWORD, secret, codes), code=codes[0])
    assert page.get_by_role("heading", name="Dashboard").is_visible()


def _sources(live: LiveEngine, actor: str) -> dict[str, str | None]:
    """The client address each of ``actor``'s audit entries records, by action (the newest)."""
    entries = live.call(live.engine.store.list_audit(limit=1000))
    return {e.action: e.details.get("source") for e in reversed(entries) if e.actor == actor}
