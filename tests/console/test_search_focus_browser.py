"""After a search, the keyboard's focus is on its results, in a real browser at 640 px wide (a
laptop at 200 % zoom): found by a Dutch support employee, who pressed Tab some 27 times from
the top of the page to reach the first message found. The results' heading takes it (a screen
reader says it, and the next Tab is the first result); nothing found, what says so; a refused
search, the refused field, its refusal read out with it. A page opened without a search keeps
the focus at the top, as any page does (``static/console.js``, ``data-found``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_dead_letter_pages import dead_letter, referral

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WIDTH = 640

FOCUSED = """() => {
  const e = document.activeElement;
  return e === document.body ? 'body' : (e.id || e.getAttribute('href') || e.tagName);
}"""


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Signed in at 640 px wide with every search page to see: messages, dead letters,
    rejected input, the audit trail."""
    person = live.person("focus.support@example.org", Grant(Role.RESEND), Grant(Role.ADMIN))
    with signed_in_page(browser, live, person) as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        yield page


def search_by_zd(page: Page, zd_number: str) -> None:
    """Type ``zd_number`` into the messages' search and press Enter, as the keyboard does."""
    page.goto("/messages")
    page.locator("#zd_number").fill(zd_number)
    with page.expect_navigation():
        page.locator("#zd_number").press("Enter")
    page.wait_for_load_state()


def focused(page: Page) -> str:
    """What has the keyboard's focus, once the page's script has run (it is deferred)."""
    page.wait_for_function("() => document.readyState === 'complete'")
    return str(page.evaluate(FOCUSED))


def test_a_search_puts_the_focus_on_its_results(support: Page, live: LiveEngine) -> None:
    event = referral()
    message_id = live.submit(event)
    search_by_zd(support, event["zd_number"])
    assert focused(support) == "found"
    heading = support.locator("#found")
    assert heading.evaluate("h => h.tagName") == "H2"
    assert heading.inner_text() == "Search results"
    # Described by how many it found, so a screen reader says that with the heading.
    assert heading.get_attribute("aria-describedby") == "message-total"
    assert heading.is_visible()
    support.keyboard.press("Tab")
    first = support.locator("#message-list tbody tr").first.get_by_role("link").first
    assert first.get_attribute("href") == f"/messages/{message_id}"
    assert first.evaluate("a => a === document.activeElement")
    screenshot(support, "messages-search-focused")

    # Nothing found: what says so has the focus.
    search_by_zd(support, f"ZD{uuid.uuid4().int % 10**9:09d}")
    assert focused(support) == "no-messages"


def test_a_refused_search_puts_the_focus_on_the_refused_field(
    support: Page, live: LiveEngine
) -> None:
    """The refusal comes first, before any results: the field to mend has the focus, its
    refusal said with it (``aria-describedby``)."""
    letter = dead_letter(live)  # a dead letter of noord: a result to be found first
    support.goto("/deadletters")
    support.locator("#d-destination").select_option("noord")
    support.locator("#d-since").fill("1h")
    with support.expect_navigation():
        support.locator("#d-since").press("Enter")
    assert focused(support) == "found"
    assert support.locator(f"#pick-{letter}").count() == 1
    support.keyboard.press("Tab")  # on into the first group of dead letters
    assert support.evaluate("() => document.activeElement.closest('section.group') !== null")

    search_by_zd(support, "ZD12")
    assert focused(support) == "zd_number"
    field = support.locator("#zd_number")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "zd_number-error"
    refusal = support.locator("#zd_number-error").inner_text()
    assert refusal.startswith("a ZD number is ZD and 9 digits")
    assert support.locator("[data-found]").count() == 0


@pytest.mark.parametrize("path", ["/messages", "/deadletters", "/rejected", "/audit"])
def test_a_page_opened_without_a_search_keeps_the_focus_at_the_top(
    support: Page, live: LiveEngine, path: str
) -> None:
    """Each lists what it holds without a search (the messages' page its saved searches): the
    focus stays at the top, and the first Tab is the link past the navigation."""
    if path == "/deadletters":
        dead_letter(live)  # a list to show
    support.goto(path)
    assert focused(support) == "body"
    support.keyboard.press("Tab")
    assert focused(support) == "#main"
