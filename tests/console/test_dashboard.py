"""The dashboard: tiles per destination, pause and resume with a reason, figures that refresh by
themselves, in Dutch and by keyboard; in a real browser against a running engine with real MLLP
receivers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def operator(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """May see every destination, and change only CARD's (``noord``).

    Its page's timers run on Playwright's clock: time flows as usual, and a test that waits
    for the figures' next refresh moves the clock on to it (``refresh_figures``) instead of
    waiting out the 5 s."""
    person = live.person("otto@example.org", Grant(Role.VIEWER), Grant(Role.DESTINATIONS, "CARD"))
    with signed_in_page(browser, live, person) as page:
        page.clock.install()
        yield page


def referral(number: int) -> dict[str, object]:
    event = load_sample("referral")
    event["event_id"] = f"6f1c2a4e-8b1d-4a53-9d0e-3c2b1a{number:06d}"
    event["zd_number"] = f"ZD2000{number:05d}"
    return event


def test_pausing_a_destination_from_its_tile_lets_its_queue_grow(
    operator: Page, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    operator.goto("/")
    noord = operator.locator("#tile-noord")
    zuid = operator.locator("#tile-zuid")
    expect(noord.locator('[data-figure="state"]')).to_have_text("active")
    # Buttons only where the person may use them: CARD's noord, not LAB's zuid.
    assert zuid.get_by_role("button", name="Pause").count() == 0
    assert zuid.get_by_label("Reason").count() == 0

    noord.get_by_label("Reason").fill("receiver maintenance tonight")
    noord.get_by_role("button", name="Pause").click()
    expect(noord.locator('[data-figure="state"]')).to_have_text("paused")
    assert noord.get_by_role("button", name="Resume").is_visible()

    received = live.receivers["noord"].message_count
    live.submit(referral(1), settle=False)
    live.submit(referral(2), settle=False)
    # The figures refresh by themselves: no reload.
    refresh_figures(operator)
    expect(noord.locator('[data-figure="waiting"]')).to_have_text("2", timeout=20_000)
    assert noord.locator('[data-figure="oldest"]').inner_text().endswith(" s")
    screenshot(operator, "dashboard-paused")
    assert live.receivers["noord"].message_count == received

    noord.get_by_label("Reason").fill("maintenance done")
    noord.get_by_role("button", name="Resume").click()
    expect(noord.locator('[data-figure="state"]')).to_have_text("active")
    assert live.call(live.engine.wait_settled(timeout=20))
    refresh_figures(operator)
    expect(noord.locator('[data-figure="waiting"]')).to_have_text("0", timeout=20_000)
    expect(noord.locator('[data-figure="last-ack"]')).to_contain_text("AA")
    assert live.receivers["noord"].message_count == received + 2

    history = live.call(live.engine.admin.history("noord"))
    reasons = {(h["actor"], h["reason"]) for h in history}
    assert ("person:otto@example.org", "receiver maintenance tonight") in reasons
    assert ("person:otto@example.org", "maintenance done") in reasons


def test_a_forged_pause_is_refused(operator: Page, live: LiveEngine) -> None:
    operator.goto("/")
    token = operator.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    own = {"origin": live.url}
    form: dict[str, str | float | bool] = {"enabled": "false", "reason": "forged"}
    # Seen but not the person's to change (LAB), with everything else right: 403.
    answer = operator.request.post(
        f"{live.url}/destinations/zuid/enabled", form={**form, "csrf": token}, headers=own
    )
    assert answer.status == 403
    # Without the token, or from another site: 403 too.
    noord = f"{live.url}/destinations/noord/enabled"
    assert operator.request.post(noord, form=form, headers=own).status == 403
    evil = {"origin": "https://evil.example"}
    assert operator.request.post(noord, form={**form, "csrf": token}, headers=evil).status == 403
    assert live.engine.catalog.destinations["noord"].enabled
    assert live.engine.catalog.destinations["zuid"].enabled


def test_the_dashboard_speaks_dutch(browser: Browser, live: LiveEngine) -> None:
    person = live.person("dirk@example.org", Grant(Role.VIEWER))
    context = new_context(browser, live, lang="nl")
    page = context.new_page()
    try:
        page.goto("/login")
        # By keyboard alone: the e-mail field has the focus, Tab moves on, Enter signs in. The
        # browser gives an autofocus field the focus as it next renders, which may come after
        # the load event on a busy machine: waited for (a page without it times out here).
        page.wait_for_function("document.activeElement && document.activeElement.id === 'email'")
        page.keyboard.type(person.email)
        page.keyboard.press("Tab")
        page.keyboard.type(person.password)
        page.keyboard.press("Tab")
        page.keyboard.type(person.code())
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Overzicht").wait_for()
        assert page.locator("#tile-noord").get_by_text("Wachtend", exact=True).is_visible()
        assert page.get_by_role("button", name="Pauzeren").count() == 0  # a viewer
        screenshot(page, "dashboard-nl")
    finally:
        context.close()


def test_the_dead_letters_figure_counts_the_open_ones_and_links_to_their_list(
    operator: Page, live: LiveEngine
) -> None:
    """Three referrals die at noord (AR): one is resent and delivered (resolved), one is
    discarded, one stays open. The tile says 1, as the dead letters page lists 1, and links to
    that page for noord (not to every message whose status is dead)."""
    from playwright.sync_api import expect

    from deadletter import ResendRequest, discard, select_dead_letters
    from integrator.resending import resend_in_engine

    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        resent, discarded, still_open = (live.submit(referral(n)) for n in (11, 12, 13))
    finally:
        receiver.ack_code = "AA"

    async def settle() -> None:
        selection = await select_dead_letters(live.engine.store, message_ids=[resent])
        request = ResendRequest(reason="receiver fixed", actor="test")
        [result] = await resend_in_engine(live.engine, selection, request)
        assert result.message is not None
        await discard(live.engine.store, discarded, actor="test", reason="sent by fax")
        assert await live.engine.wait_settled(timeout=20)
        delivered = await live.engine.store.get_message(result.message.id)
        assert delivered is not None and delivered.status == "delivered"

    live.call(settle())
    operator.goto("/")
    figure = operator.locator('#tile-noord [data-figure="dead"]')
    expect(figure).to_have_text("1", timeout=20_000)
    link = figure.get_by_role("link", name="1")
    assert link.get_attribute("href") == "/deadletters?destination=noord"
    screenshot(operator, "dashboard-open-dead-letters")
    link.click()
    operator.wait_for_url(re.compile(r"/deadletters\?destination=noord$"))
    listed = operator.locator("section.group tbody a")  # each row's message (a viewer ticks none)
    hrefs = [listed.nth(i).get_attribute("href") for i in range(listed.count())]
    assert hrefs == [f"/messages/{still_open}"]
    assert operator.locator("#d-destination").input_value() == "noord"
    screenshot(operator, "deadletters-of-noord")


NEXT_REFRESH = (
    "() => { window.refreshed = new Promise("
    "done => document.addEventListener('htmx:afterSwap', done, {once: true})); }"
)
"""Sets ``window.refreshed``: a promise that resolves once the figures next refresh (a swap of
htmx's)."""


def refresh_figures(page: Page) -> None:
    """Let the dashboard's own 5 s timer fire and wait for the figures it brings to be swapped
    in: the page's clock (installed before the page loaded) moved on, not waited out."""
    page.evaluate(NEXT_REFRESH)
    page.clock.run_for(5_000)
    page.evaluate("() => window.refreshed")


def test_a_refresh_leaves_the_focus_on_the_link_it_was_on(operator: Page, live: LiveEngine) -> None:
    """A keyboard user on a figure's link (a tile's dead letters, the rejected input) stays on
    it while the figures refresh around it every 5 s."""
    from playwright.sync_api import expect

    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        live.submit(referral(21))  # a dead letter at noord: its figure is a link
    finally:
        receiver.ack_code = "AA"
    operator.goto("/")
    links = {
        "#tile-noord [data-figure=dead] a": "dead-noord",
        "#rejected-lately a": "rejected-lately-link",
    }
    expect(operator.locator("#tile-noord [data-figure=dead] a")).to_be_visible(timeout=20_000)
    for where, link in links.items():
        operator.locator(where).focus()
        # Marked, to tell the link the refresh puts in its place from this one.
        operator.evaluate("where => { document.querySelector(where).dataset.before = '1'; }", where)
        refresh_figures(operator)
        focused = operator.evaluate(
            "where => document.activeElement === document.querySelector(where)", where
        )
        assert focused, f"the focus left {where}"
        assert operator.evaluate("document.activeElement.dataset.before") is None  # replaced
        assert operator.evaluate("document.activeElement.id") == link


def test_a_pause_without_a_reason_comes_back_with_the_focus_beside_why(
    operator: Page, live: LiveEngine
) -> None:
    """The tile's form again (not a bare error page), the refusal beside its reason, and the
    keyboard's focus there; the destination is left as it was."""
    enabled = live.engine.catalog.destinations["noord"].enabled
    operator.goto("/")
    noord = operator.locator("#tile-noord")
    noord.get_by_label("Reason").fill("   ")  # blanks: the browser's "required" lets them by
    with operator.expect_response(lambda r: "?answer=" in r.url) as answer:
        noord.locator("button[type=submit]").click()
    assert answer.value.status == 422
    operator.locator("#reason-noord-error").wait_for()
    assert "a reason is required" in operator.locator("#reason-noord-error").inner_text()
    assert operator.evaluate("document.activeElement.id") == "reason-noord"
    assert live.engine.catalog.destinations["noord"].enabled == enabled
    screenshot(operator, "dashboard-pause-refused")


_OVERFLOW = """() => ({
  wider: document.documentElement.scrollWidth - window.innerWidth,
  outside: Array.from(document.querySelectorAll('.top nav a, .search input, .search select'))
    .filter(e => {
      const r = e.getBoundingClientRect();
      return r.left < 0 || r.right > window.innerWidth;
    })
    .map(e => e.id || e.textContent),
})"""


def test_pages_reflow_at_a_narrow_window_in_dutch_with_every_role(
    browser: Browser, live: LiveEngine
) -> None:
    """At 640 px wide (a 1280 px screen at 200 % zoom) the navigation wraps and the search
    forms' fields stay in their cells: nothing off-screen, no sideways scrolling (WCAG 1.4.10),
    for the longest navigation there is: every role's, in Dutch. The result tables go one
    cell under the other (``test_narrow_tables``)."""
    person = live.person("alle@example.org", *(Grant(role) for role in Role))
    # A message's page too: its resend form's longest choice is a long sentence in Dutch.
    message_id = live.submit(load_sample("referral"))
    with signed_in_page(browser, live, person, lang="nl") as page:
        page.set_viewport_size({"width": 640, "height": 800})
        for path in ("/", "/events", "/deadletters", "/rejected", f"/messages/{message_id}"):
            page.goto(path)
            assert page.locator(".top nav a").count() >= 10, path
            assert page.evaluate(_OVERFLOW) == {"wider": 0, "outside": []}, path
        # The message's HL7 fields stack under one another and their values wrap: at two
        # columns the values were cut at 296 px of a 1,130 px table.
        fields = page.locator("#hl7-fields")
        assert fields.evaluate("t => t.scrollWidth - t.clientWidth") == 0
        # The boxes that may scroll sideways are reached by keyboard and named.
        for box in (fields, *page.locator("pre.raw").all()):
            assert box.get_attribute("tabindex") == "0"
            assert box.get_attribute("aria-label") or box.get_attribute("aria-labelledby")


def test_the_focus_stays_on_a_figure_whose_count_falls_to_0(
    operator: Page, live: LiveEngine
) -> None:
    """The dead letters' figure turned into plain "0" once the last one was discarded, and the
    refresh dropped a keyboard user's focus to the top of the page; it stays a link now."""
    from playwright.sync_api import expect

    from deadletter import discard, select_dead_letters

    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        live.submit(referral(22))
    finally:
        receiver.ack_code = "AA"
    operator.goto("/")
    link = operator.locator("#tile-noord [data-figure=dead] a")
    expect(link).not_to_have_text("0", timeout=20_000)
    link.focus()

    async def discard_every_one() -> None:  # this one, and those earlier tests left open
        store = live.engine.store
        for dead in await select_dead_letters(store, destination_id="noord"):
            await discard(store, dead.id, actor="test", reason="sent by fax")

    live.call(discard_every_one())
    refresh_figures(operator)
    expect(link).to_have_text("0")
    assert operator.evaluate("document.activeElement.id") == "dead-noord"
    assert link.get_attribute("href") == "/deadletters?destination=noord"
