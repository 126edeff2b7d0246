"""Discarding and resending dead letters in the console, confirmed against what a person knows a
message by: the confirmation and its result name each dead letter by its ZD number, destination,
type, when it died and why (as the list shows it), beside the short id that links to the
message, not by an 8-character id alone. "Nothing selected" is said on the list itself, with its
period and destination kept. In English and in Dutch, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_dead_letter_pages import dead_letter, group_of, row_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """May resend and discard in CARD (``noord``), in English."""
    person = live.person("dora@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, person) as page:
        yield page


@pytest.fixture(scope="module")
def support_nl(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person = live.person("daan.nl@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, person, lang="nl") as page:
        yield page


def zd_of(live: LiveEngine, message_id: str) -> str:
    message = live.call(live.engine.store.get_message(message_id))
    assert message is not None and message.zd_number is not None
    return message.zd_number


def on_the_confirmation(page: Page) -> None:
    """Wait until the confirmation page has loaded: ``all_inner_texts`` reads the page as it is
    and does not wait, so read right after the click it can find the list still there, or a
    document not yet parsed (an empty header row, seen once in CI)."""
    page.wait_for_url(re.compile(r"/deadletters\?answer="))


def test_the_discard_confirmation_and_its_result_name_the_letter_by_zd_and_destination(
    support: Page, live: LiveEngine
) -> None:
    message_id = dead_letter(live)
    zd_number = zd_of(live, message_id)
    support.goto("/deadletters")
    group = group_of(support, message_id)
    group.get_by_label(f"Select message {message_id[:8]}").check()
    group.get_by_role("button", name="Discard selected…").click()
    on_the_confirmation(support)
    table = support.locator("main table")
    headers = table.locator("thead th").all_inner_texts()
    named = ["Message", "ZD number", "Destination", "Type", "Dead since", "Why it died"]
    assert headers[:6] == named
    row = row_of(table, message_id)
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == [zd_number, "noord", "referral"], cells
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells[4]), cells  # when it died
    assert "AR" in cells[5], cells  # the reason, as the list's group heading says it
    link = row.get_by_role("link", name=message_id[:8])
    assert link.get_attribute("href") == f"/messages/{message_id}"
    screenshot(support, "deadletters-confirm-discard-facts")

    support.get_by_label("Reason").fill("sent by fax")
    support.get_by_role("button", name="Discard 1 message").click()
    done = support.locator("#done-results")
    done.wait_for()
    cells = row_of(done, message_id).locator("td").all_inner_texts()
    assert cells[1:4] == [zd_number, "noord", "referral"], cells
    assert cells[4] != "-" and "AR" in cells[5], cells  # as it was when it died
    assert "discarded" in cells
    screenshot(support, "deadletters-done-discard-facts")


def test_the_resend_confirmation_names_the_letter_in_dutch(
    support_nl: Page, live: LiveEngine
) -> None:
    message_id = dead_letter(live)
    zd_number = zd_of(live, message_id)
    support_nl.goto("/deadletters")
    group = group_of(support_nl, message_id)
    group.get_by_label(f"Bericht {message_id[:8]} kiezen").check()
    group.get_by_role("button", name="Gekozen berichten herzenden…").click()
    on_the_confirmation(support_nl)
    table = support_nl.locator("main table")
    headers = table.locator("thead th").all_inner_texts()
    assert headers[:6] == [
        "Bericht",
        "ZD-nummer",
        "Bestemming",
        "Soort",
        "Onbestelbaar sinds",
        "Waarom onbestelbaar",
    ]
    cells = row_of(table, message_id).locator("td").all_inner_texts()
    assert cells[1:4] == [zd_number, "noord", "verwijzing"], cells
    assert "zou herzonden worden" in cells
    screenshot(support_nl, "deadletters-confirm-resend-facts-nl")


@pytest.mark.parametrize(
    ("lang", "button", "said"),
    [
        ("en", "Discard selected…", "nothing was selected: tick at least one dead letter"),
        ("nl", "Gekozen berichten afsluiten…", "er is niets gekozen"),
    ],
)
def test_nothing_ticked_is_said_on_the_list_with_its_filters_kept(
    support: Page, support_nl: Page, live: LiveEngine, lang: str, button: str, said: str
) -> None:
    page = support if lang == "en" else support_nl
    message_id = dead_letter(live)
    page.goto("/deadletters?destination=noord&since=1d")
    group_of(page, message_id).get_by_role("button", name=button).click()
    problem = page.locator("#dead-problem")
    problem.wait_for()
    assert said in problem.inner_text()
    assert page.get_by_role("alert").filter(has_text=said).count() == 1
    # Still the list, as it was: its period and destination, its groups, nothing ticked.
    assert page.locator("#d-since").input_value() == "1d"
    assert page.locator("#d-destination").input_value() == "noord"
    assert page.locator(f"#pick-{message_id}").is_visible()
    assert page.locator("#dead-period").is_visible()
    assert page.locator("#dead-destination").is_visible()
    assert page.locator('input[type=hidden][name="since"][value="1d"]').count() >= 1
    screenshot(page, f"deadletters-nothing-selected-period-{lang}")
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None and found.status == "dead"  # nothing was done
