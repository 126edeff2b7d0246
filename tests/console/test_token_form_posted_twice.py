"""The console's token creation form posted twice (a double click, in a browser whose script
did not stop the second post).

The second post made a second attempt, refused ("name exists already"), and the browser showed
that refusal in place of the first post's answer: the one page that ever held the new token's
secret. The person saw no secret and a refusal for a token that did exist. Now the form acts
once (its one-time token, as the other confirmations): the second post makes nothing and says
that the first made the token, that its secret cannot be shown again (it is kept nowhere), and
offers to revoke it. The button is disabled once clicked, as on the other forms.

The first post is made by the page itself (``fetch``, its answer read by nobody, as a browser
drops the first answer of a double click); the second is the form's own submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import open_session, screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

FIRST_POST = """async () => {
  const form = document.querySelector('form[action="/tokens"]');
  const body = new URLSearchParams(new FormData(form));
  const sent = await fetch('/tokens', {method: 'POST', body: body});
  return sent.status;
}"""


def _tokens_named(live: LiveEngine, name: str) -> list[str]:
    return [t.id for t in live.call(live.engine.store.list_tokens()) if t.name == name]


def _fill(page: Page, name: str) -> None:
    page.goto("/tokens")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Role 1").select_option("metrics")


def test_a_second_post_of_the_token_form_says_the_first_made_it_and_offers_to_revoke(
    page: Page, live: LiveEngine, browser: Browser
) -> None:
    admin = live.person("ada.twice@example.org", Grant(Role.ADMIN))
    open_session(page, live, admin)
    _fill(page, "prometheus-twice")

    assert page.evaluate(FIRST_POST) == 200  # made; its answer (the secret) read by nobody
    [made] = _tokens_named(live, "prometheus-twice")
    # The same form posted again, as the second click of a double click posts it.
    page.evaluate("document.querySelector('form[action=\"/tokens\"]').submit()")
    page.wait_for_url("**/tokens/made/*")

    main = page.locator("main").inner_text()
    assert "The token was made by your first click" in main
    assert "Token prometheus-twice was made at" in main and "this second click made nothing" in main
    assert "cannot be shown again: revoke this token and make another" in main
    assert "exists already" not in main and "already has" not in main
    assert page.locator("#new-token").count() == 0  # no secret on this page
    assert _tokens_named(live, "prometheus-twice") == [made]  # nothing made by the second
    screenshot(page, "token-made-already")
    # The page is its maker's own: another admin finds nothing there.
    other = live.person("bo.twice@example.org", Grant(Role.ADMIN))
    with signed_in_page(browser, live, other) as theirs:
        answer = theirs.goto(page.url)
        assert answer is not None and answer.status == 404

    page.get_by_label("Reason for revoking prometheus-twice").fill("secret never seen")
    page.get_by_role("button", name="Revoke prometheus-twice").click()
    page.wait_for_url("**/tokens")
    token = live.call(live.engine.store.get_token(token_id=made))
    assert token is not None and token.revoked_at is not None


def test_the_create_button_is_disabled_once_clicked(page: Page, live: LiveEngine) -> None:
    """As on the other forms that act once (``data-once``, static/console.js): a second click
    while the first post is on its way sends nothing. The post itself is held back here (the
    page's own listener, after the console's), so the button is seen as the click left it."""
    admin = live.person("ada.disabled@example.org", Grant(Role.ADMIN))
    open_session(page, live, admin)
    _fill(page, "prometheus-held")
    page.evaluate("() => window.addEventListener('submit', (e) => e.preventDefault())")

    page.get_by_role("button", name="Create a token").click()

    page.wait_for_function(
        "() => document.querySelector('form[action=\"/tokens\"] button[type=submit]').disabled"
    )
    assert _tokens_named(live, "prometheus-held") == []  # held back: nothing was posted
