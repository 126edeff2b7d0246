"""The dashboard's refresh (``/dashboard/figures``, swapped in out of band by htmx) puts back
each part it replaces as the first render drew it: the same element with the same attributes
(a class, a role), so a refreshed page looks and reads as the page did. Request by request
against a real engine (no browser): the refresh is htmx swapping these elements by id, whole."""

from __future__ import annotations

from html.parser import HTMLParser

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_dashboard_unrouted import engine
from tests.console.test_saved_searches import signed_in

__all__ = ["engine"]  # the fixture: lab-west in CARD, one unrouted event

OOB = "hx-swap-oob"


class _Elements(HTMLParser):
    """Every element with an id: its tag and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, dict[str, str | None]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        ident = named.get("id")
        if ident is not None:
            self.found[ident] = (tag, named)


def elements(page: str) -> dict[str, tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.found


async def test_the_refresh_draws_each_part_it_swaps_as_the_first_render_did(
    engine: Engine,
) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), Grant(Role.VIEWER)) as ada:
        first = await ada.get("/")
        refreshed = await ada.get("/dashboard/figures")
    assert (first.status_code, refreshed.status_code) == (200, 200)
    drawn = elements(first.text)
    swapped = {k: v for k, v in elements(refreshed.text).items() if OOB in v[1]}
    # The parts the refresh replaces: the update time, each tile's figures, rejected input.
    assert {"dashboard-updated", "figures-lab-west", "rejected-lately"} <= set(swapped)
    for ident, (tag, attrs) in swapped.items():
        assert ident in drawn, ident
        assert (tag, {k: v for k, v in attrs.items() if k != OOB}) == drawn[ident], ident
    # The line saying when: a hint, before the refresh and after it.
    assert drawn["dashboard-updated"][1]["class"] == "hint"
    assert swapped["dashboard-updated"][1]["class"] == "hint"
