"""Every main page of the console against axe-core's WCAG 2.0/2.1 A and AA rules, in a real
browser against a running engine: Dutch care organisations are held to WCAG 2.1 AA when they
buy software, and the support staff and operators who use the console all day include people
with a screen reader, with the page zoomed, or with only a keyboard.

One engine, one signed-in profile with every people role (every page, every button), each page
visited once, in English and for some in Dutch, some at 640 px wide too (a laptop at 200 %
zoom, where tables and raw text scroll in boxes of their own). A failure names the rule, its
impact and the offending elements' selectors, never the page's text: a message's page holds
patient data. Run with ``CONSOLE_ARTIFACTS=DIR`` to see the pages.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.console.i18n import COOKIE as LANG_COOKIE
from integrator.errors import InvalidEvent
from tests.conftest import load_sample
from tests.console.conftest import new_context, person_id, screenshot, signed_in_page
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDE, NARROW = 1280, 640
NOWHERE = "00000000-0000-4000-8000-000000000000"

UNDECIDED_FAILS = frozenset({"aria-prohibited-attr"})
"""Rules whose *needs review* counts as a violation here. axe leaves ``aria-label`` on an
element without a role (a ``<pre>``) undecided when the element has text of its own; but
screen readers do not say a name that the element's role does not take, so a box of raw HL7
that the keyboard stops at would be announced without what it is."""

EXEMPT: dict[str, frozenset[str]] = {}
"""Elements left out of one rule each (``{rule: {selector as a failure prints it}}``), each
with why; none so far. Every other rule still checks them."""

_ATTRIBUTE_VALUE = re.compile(r"""\[([^\s~|^$*=\]]+)[~|^$*]?=(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]""")
_RUN = """async ([tags, undecided]) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations', 'incomplete']});
  const said = v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))});
  return r.violations.map(said)
    .concat(r.incomplete.filter(v => undecided.includes(v.id)).map(said));
}"""


def _axe_script() -> str:
    """axe-core's ``axe.min.js``, as the ``axe-playwright-python`` package bundles it (read as
    a file: the package's Python code only injects it, as :func:`violations` does)."""
    try:
        return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        reason = "axe-playwright-python is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run)")
        pytest.skip(reason)


def _bare(selector: str) -> str:
    """``selector`` without its attributes' values: axe names an element by an attribute when
    nothing else tells it apart (``[title="…"]``, ``[value="…"]``), and a value may be a
    patient's name."""
    return _ATTRIBUTE_VALUE.sub(r"[\1]", selector)


def violations(page: Page) -> list[str]:
    """axe's WCAG A/AA violations on ``page`` as it is now, one line each: the rule, its impact
    and the selectors of the elements, without any of the page's text."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_script())
    found: list[dict[str, Any]] = page.evaluate(_RUN, [WCAG_A_AA, sorted(UNDECIDED_FAILS)])
    lines = []
    for rule in found:
        exempt = EXEMPT.get(rule["id"], frozenset())
        targets = [_bare(t) for t in rule["targets"] if _bare(t) not in exempt]
        if targets:
            lines.append(f"{rule['id']} ({rule['impact']}): {' | '.join(targets)}")
    return lines


def referral(provider: str = "ziekenhuis-noord") -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event["provider"] = {**event["provider"], "id": provider}
    return event


@dataclass(frozen=True)
class World:
    """What the pages show: a delivered referral (its message and event), a dead letter, an
    unrouted event, a rejected input, and a viewer the people pages show."""

    message_id: str
    event_id: str
    dead_id: str
    rejected_id: str
    viewer: Person
    viewer_id: str


@pytest.fixture(scope="module")
def world(live: LiveEngine) -> World:
    event = referral()
    message_id = live.submit(event)
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        dead_id = live.submit(referral())
    finally:
        receiver.ack_code = "AA"
    live.call(live.engine.intake.submit(json.dumps(referral("nobody-serves-me")), source="http"))
    rejected = referral()
    rejected["event_id"] = "not-a-uuid"
    with pytest.raises(InvalidEvent) as refused:
        live.call(live.engine.intake.submit(json.dumps(rejected), source="http"))
    assert refused.value.rejected_id is not None
    viewer = live.person("vera.a11y@example.org", Grant(Role.VIEWER, "CARD"))
    return World(
        message_id,
        event["event_id"],
        dead_id,
        refused.value.rejected_id,
        viewer,
        person_id(live, viewer.email),
    )


@pytest.fixture(scope="module")
def everyone(browser: Browser, live: LiveEngine, world: World) -> Iterator[Page]:
    """A person with every people role for all clusters, signed in: every page, every button.
    One session (a second of the same person's would need the authenticator's next code); the
    language is the cookie the switch sets, chosen by each test."""
    person = live.person(
        "robin.a11y@example.org",
        Grant(Role.RESEND),
        Grant(Role.DESTINATIONS),
        Grant(Role.PREVIEW),
        Grant(Role.REPORTS),
        Grant(Role.ADMIN),
    )
    with signed_in_page(browser, live, person) as page:
        yield page


Visit = Callable[["Page", World], None]


def _to(path: str | Callable[[World], str]) -> Visit:
    def visit(page: Page, world: World) -> None:
        page.goto(path(world) if callable(path) else path)

    return visit


def _paused(page: Page, world: World) -> None:
    """The dashboard saying a tile was paused, the tile paused."""
    page.goto("/")
    page.locator("#reason-zuid").fill("receiver maintenance tonight")
    page.locator("#tile-zuid button[type=submit]").click()
    page.locator("#done-zuid").wait_for()


def _preview(page: Page, world: World) -> None:
    """One message's page (its patient, HL7 fields, raw text and ACK) with what a resend would
    send shown below its form."""
    page.goto(f"/messages/{world.message_id}")
    page.locator("#resend-reason").fill("receiver lost it")
    page.locator("#resend-h ~ form button[type=submit]").click()
    page.locator("#resend-preview-body").wait_for()


def _dead_confirm(page: Page, world: World) -> None:
    """The confirmation of a resend of the dead letter, ticked on the list."""
    page.goto("/deadletters")
    page.locator(f"#pick-{world.dead_id}").check()
    page.locator("button[name=action][value=resend]").first.click()
    page.locator("#confirm-count").wait_for()


def _tested(page: Page, world: World) -> None:
    """A destination's page with the result of a test message, its ACK in full."""
    page.goto("/destinations/noord")
    page.locator("#test-event ~ button[type=submit]").click()
    page.locator("#test-result").wait_for()


def _refused_search(page: Page, world: World) -> None:
    """The messages' search form shown again with its refusal beside the ZD number."""
    page.goto("/messages")
    page.locator("#zd_number").fill("ZD12")
    page.locator("form:has(#zd_number) button[type=submit]").click()
    page.locator("#zd_number-error").wait_for(state="visible")


def _refused_destination(page: Page, world: World) -> None:
    """The destination form shown again with its refusals beside the fields."""
    page.goto("/destinations-new")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.locator("[aria-invalid=true]").first.wait_for()


# (name, language, window width, how to get there), in the order the tests run: the pause
# and the test message change what later pages show, never a page's rules.
PAGES: list[tuple[str, str, int, Visit]] = [
    ("dashboard", "en", WIDE, _to("/")),
    ("dashboard", "nl", NARROW, _to("/")),
    ("messages", "en", WIDE, _to("/messages?destination=noord")),
    ("messages", "nl", NARROW, _to("/messages?destination=noord")),
    ("message", "en", NARROW, _to(lambda w: f"/messages/{w.message_id}")),
    ("message-dead", "nl", WIDE, _to(lambda w: f"/messages/{w.dead_id}")),
    ("resend-preview", "en", WIDE, _preview),
    ("events", "en", WIDE, _to("/events?provider=ziekenhuis-noord")),
    ("event", "en", WIDE, _to(lambda w: f"/events/{w.event_id}")),
    ("unrouted", "en", WIDE, _to("/events/unrouted")),
    ("rejected", "en", WIDE, _to("/rejected")),
    ("rejected-one", "en", WIDE, _to(lambda w: f"/rejected/{w.rejected_id}")),
    ("deadletters", "en", WIDE, _to("/deadletters")),
    ("deadletters", "nl", NARROW, _to("/deadletters")),
    ("deadletters-confirm", "en", WIDE, _dead_confirm),
    ("destinations", "en", WIDE, _to("/destinations")),
    ("destination", "en", WIDE, _to("/destinations/noord")),
    ("destination-tested", "en", NARROW, _tested),
    ("destination-history", "en", WIDE, _to("/destinations/noord/history")),
    ("destination-form", "en", WIDE, _to("/destinations/noord/edit")),
    ("destination-new", "nl", WIDE, _to("/destinations-new")),
    ("destination-remove", "en", WIDE, _to("/destinations/zuid/remove")),
    ("dashboard-paused", "en", WIDE, _paused),
    ("versions", "en", WIDE, _to("/versions")),
    ("audit", "en", WIDE, _to("/audit")),
    ("audit", "en", NARROW, _to("/audit")),
    ("audit-summary", "nl", WIDE, _to("/audit/summary?since=2000-01-01")),
    ("people", "en", WIDE, _to("/people")),
    ("person", "nl", WIDE, _to(lambda w: f"/people/{w.viewer_id}")),
    ("tokens", "en", WIDE, _to("/tokens")),
    ("not-found", "en", WIDE, _to(f"/messages/{NOWHERE}")),
    ("not-found", "nl", WIDE, _to(f"/destinations/{NOWHERE}")),
    ("refused-search", "en", WIDE, _refused_search),
    ("refused-search", "nl", NARROW, _refused_search),
    ("refused-destination", "en", WIDE, _refused_destination),
]


def check(page: Page, name: str, lang: str) -> None:
    assert page.locator("html").get_attribute("lang") == lang
    found = violations(page)
    assert found == [], f"{name} ({lang}, {page.viewport_size}):\n" + "\n".join(found)
    screenshot(page, f"a11y-{name}-{lang}")


@pytest.mark.parametrize(
    ("name", "lang", "width", "visit"),
    PAGES,
    ids=[f"{name}-{lang}-{width}" for name, lang, width, _ in PAGES],
)
def test_a_page_meets_wcag_a_and_aa(
    everyone: Page, live: LiveEngine, world: World, name: str, lang: str, width: int, visit: Visit
) -> None:
    page = everyone
    page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": live.url + "/"}])
    page.set_viewport_size({"width": width, "height": 720})
    visit(page, world)
    check(page, name, lang)


def test_a_viewers_pages_and_a_refusal_meet_wcag_a_and_aa(
    browser: Browser, live: LiveEngine, world: World
) -> None:
    """What a viewer of one cluster sees: a dashboard of one tile, a message without its
    patient, and the 403 page of a page they may not use."""
    with signed_in_page(browser, live, world.viewer) as page:
        page.goto("/")
        check(page, "viewer-dashboard", "en")
        page.goto(f"/messages/{world.message_id}")
        check(page, "viewer-message", "en")
        response = page.goto("/audit")
        assert response is not None and response.status == 403
        check(page, "forbidden", "en")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_signed_out_pages_meet_wcag_a_and_aa(
    browser: Browser, live: LiveEngine, lang: str
) -> None:
    """The sign-in page, and an invitation's first step (its TOTP secret and QR code)."""
    context = new_context(browser, live, lang)
    try:
        page = context.new_page()
        page.goto("/login")
        check(page, "login", lang)
        link = live.invitation_link(f"new.a11y.{lang}@example.org", Grant(Role.VIEWER))
        page.goto(link[link.index("/invitation") :])  # the engine's own address, not the link's
        page.locator("#password").wait_for()
        check(page, "invitation", lang)
    finally:
        context.close()
