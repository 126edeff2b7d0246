"""At 640 px wide (a 1280 px screen at 200 % zoom) the messages' search results and the dead
letters' tables fit the window: each column, the status last among them, is on screen without
scrolling, in English and in Dutch (its longer words)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_dead_letter_pages import dead_letter, group_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

WIDTH = 640

TEXTS = {
    "en": {"status": "Status", "state": "State", "outcome": "Outcome", "reason": "Reason"},
    "nl": {"status": "Status", "state": "Afhandeling", "outcome": "Uitkomst", "reason": "Reden"},
}


def fits(page: Page, table: Locator, heading: str) -> None:
    """``table`` scrolls nothing sideways, nor does the page, and in each row the cell of the
    ``heading`` column is whole on screen, said with its column's name."""
    assert table.evaluate("t => t.scrollWidth - t.clientWidth") == 0, heading
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    column = table.locator("thead th", has_text=heading).first
    index = column.evaluate("th => th.cellIndex")
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    for row in rows.all():
        cell = row.locator("td").nth(index)
        box = cell.bounding_box()
        assert box is not None, heading
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (heading, box)
        label = cell.evaluate("c => getComputedStyle(c, '::before').content")
        assert label == f'"{heading}"', (heading, label)
    # Still a table to a screen reader: the column's header names the cell.
    assert table.get_by_role("columnheader", name=heading).count() == 1


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_result_tables_fit_a_narrow_window(browser: Browser, live: LiveEngine, lang: str) -> None:
    words = TEXTS[lang]
    person = live.person(f"smal.{lang}@example.org", Grant(Role.RESEND))
    letter = dead_letter(live)
    with signed_in_page(browser, live, person, lang=lang) as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        page.goto("/messages?destination=noord")
        fits(page, page.locator("#message-list"), words["status"])
        screenshot(page, f"messages-narrow-{lang}")
        page.goto("/deadletters")
        group = group_of(page, letter)
        fits(page, group.locator("table"), words["state"])
        screenshot(page, f"deadletters-narrow-{lang}")
        group.locator(f"#pick-{letter}").check()
        group.locator("button[value=discard]").click()
        page.locator("#confirm-reason").fill("GP withdrew it")
        page.locator("form[data-once] button[type=submit]").click()
        fits(page, page.locator("#done-results"), words["outcome"])
        screenshot(page, f"deadletters-done-narrow-{lang}")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_event_tables_fit_a_narrow_window(browser: Browser, live: LiveEngine, lang: str) -> None:
    """The events' and the unrouted events' lists scrolled in a box of their own at 640 px,
    their provider and messages columns (whether an event is unrouted) out of sight, and out
    of reach of the keyboard (found by a support walkthrough)."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["provider"] = {**event["provider"], "id": f"kliniek-smal-{lang}"}
    result = live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    assert result.messages == ()
    person = live.person(f"smal.events.{lang}@example.org", Grant(Role.RESEND))
    words = {"en": ("Messages", "Received"), "nl": ("Berichten", "Ontvangen")}[lang]
    with signed_in_page(browser, live, person, lang=lang) as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        page.goto(f"/events?provider=kliniek-smal-{lang}")
        fits(page, page.locator("#event-list"), words[0])
        screenshot(page, f"events-narrow-{lang}")
        page.goto("/events/unrouted")
        fits(page, page.locator("#unrouted-events"), words[1])
        screenshot(page, f"unrouted-narrow-{lang}")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_versions_and_tokens_tables_fit_a_narrow_window(
    browser: Browser, live: LiveEngine, lang: str
) -> None:
    """The message versions' and the tokens' tables scrolled in a box of their own at 640 px,
    who uses a version and a token's expiry out of sight (found by a support walkthrough)."""
    person = live.person(f"smal.admin.{lang}@example.org", Grant(Role.ADMIN), Grant(Role.VIEWER))
    words = {"en": ("Used by", "Expires"), "nl": ("Gebruikt door", "Verloopt")}[lang]
    with signed_in_page(browser, live, person, lang=lang) as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        page.goto("/versions")
        fits(page, page.locator("#versions"), words[0])
        page.goto("/tokens")
        page.locator("#token-name").fill(f"narrow-{lang}")
        page.locator("#token-role-0").select_option("viewer")
        page.locator("form[data-once] button[type=submit]").last.click()
        page.locator("h1").wait_for()
        page.goto("/tokens")
        fits(page, page.locator("#tokens"), words[1])
        screenshot(page, f"tokens-narrow-{lang}")


FIELDS_PAST_THEIR_CELLS = """() => Array.from(document.querySelectorAll(
  'form.search select, form.search input')).filter(field => {
  const own = field.getBoundingClientRect(), cell = field.parentElement.getBoundingClientRect();
  return own.right > cell.right + 1;
}).map(field => field.id)"""


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("width", [640, 1280])
def test_search_fields_stay_in_their_cells(
    browser: Browser, live: LiveEngine, lang: str, width: int
) -> None:
    """A dropdown was as wide as its longest choice (Status: "wachtend (in de wachtrij of
    opnieuw proberen)"): it ran under the next field, whose dropdown then opened at a click on
    its arrow, and for a viewer (no BSN field) at 640 px the page scrolled sideways."""
    person = live.person(f"cellen.{lang}.{width}@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, person, lang=lang) as page:
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/messages", "/events", "/deadletters"):
            page.goto(path)
            assert page.evaluate(FIELDS_PAST_THEIR_CELLS) == [], (path, lang, width)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path


CHOICES_CUT = """() => Array.from(
  document.querySelectorAll('form[action$="/resend/preview"] select')).flatMap(select => {
    const style = getComputedStyle(select), font = `${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 16;  // the arrow
    const context = document.createElement('canvas').getContext('2d');
    context.font = font;
    return Array.from(select.options)
      .filter(option => context.measureText(option.text).width > room)
      .map(option => `${select.id}: ${option.text}`);
  })"""


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("width", [640, 1280])
def test_the_resend_form_shows_each_choice_whole(
    browser: Browser, live: LiveEngine, lang: str, width: int
) -> None:
    """The resend's Mode showed "automatisch: dezelfde bytes naar de eigen best…": the choice
    that says what happens for another destination was cut off unless opened. The choices are
    short now, the explanation a hint beneath."""
    message_id = dead_letter(live)
    person = live.person(f"keuze.{lang}.{width}@example.org", Grant(Role.RESEND, "CARD"))
    with signed_in_page(browser, live, person, lang=lang) as page:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/messages/{message_id}")
        assert page.locator("#resend-mode").is_visible()
        assert page.evaluate(CHOICES_CUT) == [], (lang, width)
        hint = page.locator("#resend-mode-hint").inner_text()
        assert hint.startswith("Automatic:" if lang == "en" else "Automatisch:")


EVERY_CELL = """table => Array.from(table.querySelectorAll('tbody tr, tfoot tr')).flatMap(row =>
  Array.from(row.cells).map(cell => {
    const box = cell.getBoundingClientRect();
    const header = cell.tagName === 'TH' ? null : table.tHead.rows[0].cells[cell.cellIndex];
    return {
      column: header ? header.textContent.trim() : cell.textContent.trim(),
      label: header ? getComputedStyle(cell, '::before').content : null,
      left: box.left, right: box.right, width: box.width,
      // Its links and values, each whole within the window too.
      inside: Array.from(cell.querySelectorAll('a, dd')).map(e => e.getBoundingClientRect().right),
    };
  }))"""


def every_cell_fits(page: Page, table: Locator) -> int:
    """``table`` and the page scroll nothing sideways, and every cell of its body and foot is
    whole on screen, each named by its column; how many cells."""
    assert table.evaluate("t => t.scrollWidth - t.clientWidth") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.evaluate("document.querySelector('main').scrollWidth") <= WIDTH
    cells = table.evaluate(EVERY_CELL)
    for cell in cells:
        assert cell["width"] > 0 and cell["left"] >= 0 and cell["right"] <= WIDTH, cell
        assert all(right <= WIDTH for right in cell["inside"]), cell
        assert cell["label"] in (None, f'"{cell["column"]}"'), cell
    return len(cells)


def test_the_audit_trail_and_its_summary_fit_a_narrow_window(
    browser: Browser, live: LiveEngine
) -> None:
    """The audit trail's table scrolled in a box of its own at 640 px, its target, reason and
    details out of sight and out of the keyboard's reach (found by a Dutch support employee);
    its summary's too, with the column of views without a reason."""
    actor = "person:smal.bekeken@example.org"
    key = live.engine.settings.bsn_hash
    live.call(
        live.engine.store.add_audit(
            actor, "patient_data.view", "m-1", details={"view": "message", "bsn_hash": key("1")}
        )
    )
    officer = live.person("smal.audit@example.org", Grant(Role.ADMIN))
    with signed_in_page(browser, live, officer) as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        page.goto("/audit")
        trail = page.locator("main table")
        assert every_cell_fits(page, trail) >= 7
        # Each column of a row, from when to its details, one under the other.
        row = trail.locator("tbody tr").filter(has_text=actor)
        assert row.locator("dl.figures").is_visible()
        screenshot(page, "audit-narrow")
        page.goto("/audit/summary")
        page.get_by_role("button", name="Summarise").click()
        summary = page.locator("#summary-table")
        summary.wait_for()
        assert summary.get_by_role("columnheader", name="Without a reason").count() == 1
        assert every_cell_fits(page, summary) >= 14  # a row of seven, and the total's
        screenshot(page, "audit-summary-narrow")


def test_the_rejected_input_list_fits_a_narrow_window(browser: Browser, live: LiveEngine) -> None:
    """The list of rejected input scrolled in a box of its own at 640 px, its problems (the
    rules each broke) out of sight and out of the keyboard's reach."""
    from tests.console.test_rejected import _reject

    _reject(live)
    support = live.person("smal.geweigerd@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, support, lang="nl") as page:
        page.set_viewport_size({"width": WIDTH, "height": 800})
        page.goto("/rejected")
        listed = page.locator("#rejected-list")
        assert every_cell_fits(page, listed) >= 7
        screenshot(page, "rejected-narrow")
