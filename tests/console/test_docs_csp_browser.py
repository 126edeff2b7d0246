"""``/docs`` under a Content-Security-Policy that allows no inline script and nothing from
elsewhere, and Swagger UI still works there: in Chromium, signed in to the console, with no
violation reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Recorded before any script of the page runs (Playwright injects it outside the policy).
_WATCH = """document.addEventListener('securitypolicyviolation', e => {
  (window.__violations = window.__violations || []).push(e.violatedDirective + ' ' + e.blockedURI);
});"""


@pytest.fixture
def reader(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    """A person of each test's own: a code is taken only once, and both sign in at once."""
    return live.person(f"{request.node.name[5:25]}@example.org", Grant(Role.VIEWER))


def test_swagger_ui_renders_under_a_policy_with_no_inline_script(
    browser: Browser, live: LiveEngine, reader: Person
) -> None:
    with signed_in_page(browser, live, reader) as page:
        page.add_init_script(_WATCH)
        answer = page.goto("/docs")
        assert answer is not None and answer.status == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert "default-src 'none'" in policy
        # Swagger UI read the engine's OpenAPI document and shows its operations.
        page.get_by_role("button", name="Authorize").wait_for()
        assert page.get_by_role("heading", name="Integrator").first.is_visible()
        assert page.get_by_text("/api/v1/messages").first.is_visible()
        page.get_by_role("button", name="Authorize").click()
        page.get_by_text("Available authorizations").wait_for()
        assert page.evaluate("() => window.__violations || []") == []
        screenshot(page, "docs")  # nothing from elsewhere, no error in the console


def test_an_inline_script_put_into_the_page_is_refused(
    browser: Browser, live: LiveEngine, reader: Person
) -> None:
    """The policy is in force, not only sent: a script the page did not name does not run."""
    with signed_in_page(browser, live, reader) as page:
        page.add_init_script(_WATCH)
        page.goto("/docs")
        page.get_by_role("button", name="Authorize").wait_for()
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
        )
        assert page.evaluate("() => window.__ran === true") is False
        assert any(v.startswith("script-src") for v in page.evaluate("() => window.__violations"))
