"""A dashboard tile's pause form fits its tile at a desktop width: at 1200 px (three tiles a
row) the *Pause* button stood past the tile's right edge and the reason's hint was squeezed
into a column a few words wide, all of them sharing one row with the field; at 640 px (one
tile a row) it fitted. In a real browser against a running engine: a layout is only measured
there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator

_BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.width]; }"


def _box(element: Locator) -> tuple[float, float, float]:
    left, right, width = element.evaluate(_BOX)
    return float(left), float(right), float(width)


def test_the_pause_form_lies_inside_its_tile_at_1200_px(browser: Browser, live: LiveEngine) -> None:
    for lang, pause in (("en", "Pause"), ("nl", "Pauzeren")):
        # One person a language: a second sign-in in the same 30 s would reuse its code.
        person = live.person(f"olga-{lang}@example.org", Grant(Role.DESTINATIONS))
        with signed_in_page(browser, live, person, lang=lang) as page:
            page.set_viewport_size({"width": 1200, "height": 900})
            page.goto("/")
            tiles = page.locator("article.tile")
            assert tiles.count() >= 2
            for tile in tiles.all():
                t_left, t_right, t_width = _box(tile)
                assert t_width < 600, "more than one tile a row: what this test is about"
                button = tile.locator("form.tile-action button")
                assert button.inner_text() == pause
                left, right, _ = _box(button)
                assert t_left <= left and right <= t_right, (lang, (t_left, t_right), (left, right))
                # The hint reads as a line under the field, not a column of a few words.
                _, _, hint_width = _box(tile.locator("form.tile-action .hint"))
                assert hint_width > t_width * 0.75, (lang, hint_width, t_width)
            if lang == "en":
                screenshot(page, "dashboard-1200")
