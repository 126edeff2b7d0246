"""The language switch returns to the page it was chosen on, in a real browser.

A search is kept (path and query, which hold nothing the page's address did not: a search by
BSN is a ``?search=`` handle); a page that answers a form (the invitation's step with the new
TOTP secret) offers no switch, since nothing could bring it back, and says so; and the return
target is never another site, however the form is altered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SEARCH = "/messages?zd_number=ZD200000004&status=dead"


@pytest.fixture(scope="module")
def viewer(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person: Person = live.person("lotte@example.org", Grant(Role.VIEWER))
    with signed_in_page(browser, live, person) as page:
        yield page


def switch_to(page: Page, lang: str) -> None:
    page.locator("#lang-choice").select_option(lang)
    with page.expect_navigation():
        page.locator("form.lang button[type=submit]").click()


def test_a_search_is_kept_across_the_switch(viewer: Page, live: LiveEngine) -> None:
    viewer.goto(SEARCH)
    assert viewer.locator("#zd_number").input_value() == "ZD200000004"
    switch_to(viewer, "nl")
    assert viewer.url == live.url + SEARCH
    assert viewer.locator("html").get_attribute("lang") == "nl"
    assert viewer.locator("#zd_number").input_value() == "ZD200000004"
    assert viewer.locator("#status").input_value() == "dead"
    screenshot(viewer, "language-switch-kept-search")
    switch_to(viewer, "en")  # and back, for the module's other tests
    assert viewer.url == live.url + SEARCH
    assert viewer.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/messages", "https://evil.example/", "/\\evil.example/", "messages"],
)
def test_a_return_target_elsewhere_is_refused(viewer: Page, live: LiveEngine, target: str) -> None:
    """Whatever the form is made to send, the switch only ever returns to this console."""
    viewer.goto("/messages")
    viewer.locator("form.lang input[name=next]").evaluate("(e, v) => { e.value = v; }", target)
    viewer.locator("#lang-choice").select_option("en")
    with viewer.expect_response(lambda r: r.url == live.url + "/language") as answer:
        viewer.locator("form.lang button[type=submit]").click()
    assert answer.value.status == 303
    assert answer.value.headers["location"] == "/"  # the start page, not the target
    viewer.wait_for_load_state()
    assert viewer.url.startswith(live.url + "/"), viewer.url


def test_the_invitation_step_with_the_totp_secret_offers_no_switch(
    page: Page, live: LiveEngine
) -> None:
    """Switching there went to the sign-in page, with no account and no way back; opening the
    link again made a new TOTP secret, killing the authenticator entry already scanned."""
    link = live.invitation_link("jasper@example.org", Grant(Role.VIEWER))
    page.goto(link[link.index("/invitation") :])
    secret = page.locator("#totp-secret").inner_text()
    assert secret
    assert page.locator("form.lang").count() == 0
    assert page.locator("#lang-later").inner_text() == (
        "Language: switch it on the next page (switching here would lose this page)"
    )
    screenshot(page, "invitation-no-language-switch")
    # The step before it is a page like any other: the switch is there, and returns to it.
    page.goto("/invitation")
    switch_to(page, "nl")
    assert page.url == live.url + "/invitation"
    assert page.get_by_role("heading", name="Je account instellen").is_visible()


NEW_EACH_TIME = {
    "en": (
        "This QR code and secret are new each time this page opens: add the ones on this page, "
        "and remove any earlier entry for this account from your app (its codes will not work)."
    ),
    "nl": (
        "Deze QR-code en dit geheim zijn nieuw elke keer dat je deze pagina opent: voeg die "
        "van deze pagina toe, en verwijder eerdere vermeldingen voor dit account uit je app (de "
        "codes daarvan werken niet)."
    ),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_totp_step_says_its_secret_is_new_each_time_it_opens(
    page: Page, live: LiveEngine, lang: str
) -> None:
    """Opening the link again shows a new TOTP secret, by design (the one shown before may
    never have been scanned), and did so without a word: someone who scanned the first, then
    reloaded, was left with an authenticator entry whose codes never work. The page says it,
    in the person's language, each time it opens."""
    page.goto("/invitation")
    switch_to(page, lang)
    link = live.invitation_link(f"sanne-{lang}@example.org", Grant(Role.VIEWER))
    secrets = []
    for _ in range(2):
        page.goto("about:blank")  # from /invitation, the link would only move to its fragment
        page.goto(link[link.index("/invitation") :])
        secrets.append(page.locator("#totp-secret").inner_text())
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("#totp-new").inner_text() == NEW_EACH_TIME[lang]
    assert secrets[0] and secrets[1] and secrets[0] != secrets[1]
