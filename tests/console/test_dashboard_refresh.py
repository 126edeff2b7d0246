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


def _action(page: str, destination: str) -> str | None:
    """The tile's action as ``page`` draws it: its wrapper's HTML, or None when it has none."""
    start = page.find(f'<div id="act-{destination}"')
    if start < 0:
        return None
    return page[start : page.index("</div>", start)]


async def test_the_refresh_redraws_a_tile_s_button_when_its_state_changed_elsewhere(
    engine: Engine,
) -> None:
    """A pause from the CLI (or another tab) while the dashboard is open: the tile said
    "paused" at the next refresh but kept its *Pause* button (and after a resume, *Resume*),
    whose press then did nothing. The page sends back what each button does (``shown``); the
    refresh redraws the action of each tile whose state no longer matches, and only those, so
    a reason being typed in an unchanged tile stays."""
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as otto:
        first = await otto.get("/")
        drawn = _action(first.text, "lab-west")
        assert drawn is not None and 'name="shown" value="lab-west:pause"' in drawn
        assert 'hx-include=".tiles [name=shown]"' in first.text
        same = await otto.get("/dashboard/figures", params={"shown": "lab-west:pause"})
        assert _action(same.text, "lab-west") is None  # unchanged: left as it is
        await engine.admin.set_enabled("lab-west", False, actor="cli:ops", reason="maintenance")
        paused = await otto.get("/dashboard/figures", params={"shown": "lab-west:pause"})
        action = _action(paused.text, "lab-west")
        assert action is not None and OOB in action
        assert ">Resume</button>" in action and ">Pause</button>" not in action
        assert 'aria-label="Resume Lab West"' in action or 'aria-label="Resume lab-west"' in action
        assert 'name="shown" value="lab-west:resume"' in action
        # Drawn as the page draws it: the same element and attributes.
        assert _action((await otto.get("/")).text, "lab-west") == action.replace(
            f' {OOB}="true"', ""
        )
        after = await otto.get("/dashboard/figures", params={"shown": "lab-west:resume"})
        assert _action(after.text, "lab-west") is None
    # Who may not pause it has no button before or after: nothing to redraw.
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        page = await vera.get("/")
        assert 'name="shown" value="lab-west:"' in (_action(page.text, "lab-west") or "")
        assert "<form" not in (_action(page.text, "lab-west") or "")
        quiet = await vera.get("/dashboard/figures", params={"shown": "lab-west:"})
        assert _action(quiet.text, "lab-west") is None
