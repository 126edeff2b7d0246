"""The dashboard as it refreshes itself and as it lays out its figures, in a real browser against
a running engine, in English and Dutch.

A pause made elsewhere (the CLI, another tab) while the dashboard is open turned the tile's
state to "paused" at the next refresh but left its *Pause* button, whose press then said
"nothing changed". And a tile's figures split a time inside a number ("08:25:50+01:0" / "0")
while a long Dutch label took half the tile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from integrator.store import AttemptRecord
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_dashboard import refresh_figures
from tests.console.test_last_attempt import REFUSED_ERROR
from tests.store.factories import make_event, make_message

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def operator(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """May change CARD's ``noord``; the page's timers run on Playwright's clock
    (``refresh_figures``)."""
    person = live.person("otto@example.org", Grant(Role.DESTINATIONS, "CARD"))
    with signed_in_page(browser, live, person) as page:
        page.clock.install()
        yield page


def test_a_pause_made_elsewhere_turns_the_tile_s_button_at_the_next_refresh(
    operator: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    operator.goto("/")
    noord = operator.locator("#tile-noord")
    expect(noord.get_by_role("button", name="Pause Noord")).to_be_visible()
    admin = live.engine.admin
    try:
        live.call(admin.set_enabled("noord", False, actor="cli:ops", reason="maintenance"))
        refresh_figures(operator)
        expect(noord.locator('[data-figure="state"]')).to_have_text("paused")
        expect(noord.get_by_role("button", name="Resume Noord")).to_be_visible()
        assert noord.get_by_role("button", name="Pause Noord").count() == 0
        assert noord.get_by_label("Reason for resuming Noord").count() == 1
        screenshot(operator, "dashboard-paused-elsewhere")
        # Unchanged since: a reason being typed stays through the next refresh.
        noord.get_by_label("Reason for resuming Noord").fill("maintenance done")
        refresh_figures(operator)
        assert noord.get_by_label("Reason for resuming Noord").input_value() == "maintenance done"
        # The button the page shows now does what it says.
        noord.get_by_role("button", name="Resume Noord").click()
        expect(noord.locator('[data-figure="state"]')).to_have_text("active")
        expect(noord.locator("#done-noord")).to_contain_text("Noord resumed, as revision")
    finally:
        if not live.engine.catalog.destinations["noord"].enabled:
            live.call(admin.set_enabled("noord", True, actor="cli:ops", reason="test over"))


# Each run of digits in a figure's text: one line box, or the browser split it inside.
_SPLIT_NUMBERS = """tile => {
  const split = [];
  const walker = document.createTreeWalker(tile.querySelector('dl.figures'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/[0-9][0-9:.+\\-]*[0-9]/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
      if (lines.size > 1) { split.push(match[0]); }
    }
  }
  return split;
}"""

# The narrowest value beside its label, as a share of the figures' width.
_NARROWEST = """tile => {
  const figures = tile.querySelector('dl.figures');
  const widths = Array.from(figures.querySelectorAll('dd')).map(
    dd => dd.getBoundingClientRect().width);
  return Math.min(...widths) / figures.getBoundingClientRect().width;
}"""


def test_figures_keep_their_numbers_whole_and_their_values_room_in_both_languages(
    browser: Browser, live: LiveEngine
) -> None:
    # A delivered referral (noord: an ACK and its time) and a refused connection on zuid (a
    # long delivery error), so both tiles show a time and one a long reason beside it.
    live.submit(load_sample("referral"))
    message = make_message(destination_id="zuid")
    live.call(live.engine.store.accept_event(make_event(), [message]))
    attempt = AttemptRecord(
        message.id, 1, live.engine.clock.now(), 3.0, "deadletter", error=REFUSED_ERROR
    )
    live.call(live.engine.store.record_attempt(attempt, status="dead", last_error=REFUSED_ERROR))
    for lang in ("en", "nl"):
        person = live.person(f"wim-{lang}@example.org", Grant(Role.RESEND), Grant(Role.VIEWER))
        with signed_in_page(browser, live, person, lang=lang) as page:
            for width in (640, 1200, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto("/")
                for tile in page.locator("article.tile").all():
                    assert tile.locator("time").count() >= 1
                    assert tile.evaluate(_SPLIT_NUMBERS) == [], (lang, width)
                    # A long Dutch label ("Onbestelbaar geworden (laatste uur)") wraps; its
                    # value keeps at least half of the width, not a few characters a line.
                    assert tile.evaluate(_NARROWEST) >= 0.5, (lang, width)
                screenshot(page, f"dashboard-figures-{lang}-{width}")
