"""A dead letters result page, after a resend or a discard: its *Back* goes to the list as it
was filtered, written from what the list read (a destination's id, a period's moments), never
from what was typed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session
from tests.console.live import LiveEngine
from tests.console.test_dead_letter_pages import dead_letter, group_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def act(page: Page, letter: str, action: str) -> None:
    """Tick ``letter`` on the list shown, confirm ``action`` with a reason, see its result."""
    group = group_of(page, letter)
    group.get_by_label(f"Select message {letter[:8]}").check()
    group.get_by_role("button", name=f"{action.capitalize()} selected…").click()
    page.get_by_label("Reason (required; goes into the audit trail)").fill("GP withdrew it")
    page.get_by_role("button", name=f"{action.capitalize()} 1 message").click()
    page.locator("#done-results").wait_for()


def test_back_from_a_result_is_the_list_as_it_was_filtered(page: Page, live: LiveEngine) -> None:
    support = live.person("bram.back@example.org", Grant(Role.RESEND, "CARD"))
    first, second = dead_letter(live), dead_letter(live)
    open_session(page, live, support)

    # Filtered by the form (a kept search): the terms come back read, not as typed.
    page.goto("/deadletters")
    page.get_by_label("Destination").select_option("noord")
    page.get_by_label("Died from").fill("2h")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/deadletters?search=*")
    act(page, first, "discard")
    back = page.get_by_role("link", name="Back to the dead letters")
    query = parse_qs(urlsplit(back.get_attribute("href") or "").query)
    assert query["destination"] == ["noord"], query
    [since] = query["since"]
    assert since != "2h" and since.startswith("20"), since  # a moment, not what was typed
    assert set(query) == {"destination", "since"}, query
    back.click()
    page.locator("#dead-destination").wait_for()
    assert page.get_by_label("Destination").input_value() == "noord"
    assert page.get_by_label("Died from").input_value() == since
    assert page.locator(f"#pick-{second}").is_visible()

    # Filtered by an address (the dashboard's tile): back to that destination's list.
    page.goto("/deadletters?destination=noord")
    act(page, second, "resend")
    back = page.get_by_role("link", name="Back to the dead letters")
    assert back.get_attribute("href") == "/deadletters?destination=noord"

    # Unfiltered: the whole list, as before.
    third = dead_letter(live)
    page.goto("/deadletters")
    act(page, third, "discard")
    href = page.get_by_role("link", name="Back to the dead letters").get_attribute("href")
    assert href == "/deadletters"


def test_a_letter_a_colleague_discarded_first_says_when_it_died(
    page: Page, browser: Browser, live: LiveEngine
) -> None:
    """Two colleagues discard the same dead letter; the second's result skips it and still
    says when it died (recorded by the first's discard), as the confirmation did."""
    first = live.person("dana.died@example.org", Grant(Role.RESEND, "CARD"))
    second = live.person("eva.died@example.org", Grant(Role.RESEND, "CARD"))
    letter = dead_letter(live)
    other_context = new_context(browser, live)
    try:
        other = other_context.new_page()
        open_session(page, live, first)
        open_session(other, live, second)
        for each in (page, other):
            each.goto("/deadletters")
            group = group_of(each, letter)
            group.get_by_label(f"Select message {letter[:8]}").check()
            group.get_by_role("button", name="Discard selected…").click()
            each.get_by_label("Reason (required; goes into the audit trail)").fill("withdrawn")
        died = cell(other, letter, "Dead since")
        assert died not in ("", "-"), died
        for each in (page, other):
            each.get_by_role("button", name="Discard 1 message").click()
            each.locator("#done-results").wait_for()
        assert "skipped" in other.locator("#done-results tbody tr").first.inner_text()
        assert cell(other, letter, "Dead since") == died
        assert cell(page, letter, "Dead since") == died
    finally:
        other_context.close()


def cell(page: Page, letter: str, heading: str) -> str:
    """The text under ``heading`` in the row about ``letter``."""
    table = page.locator("main table").first
    headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr").filter(has=page.locator(f'a[href="/messages/{letter}"]'))
    return row.locator("td").nth(headings.index(heading)).inner_text().strip()
