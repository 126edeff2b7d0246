"""Sending a test message to a receiver that takes its time, in a real browser against a running
engine: the page said nothing for the 30 s it waited for the ACK, and then drew the result
below the fold with the focus at the top. Now the form says it is waiting and for how long at
most (connecting and the ACK), its button disabled, and the result takes the focus
(``data-done``). An operator without ``preview`` is told why there is no test button."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

ACK_TIMEOUT = 4  # seconds the silent receiver below is waited for
CONNECT_TIMEOUT = 2  # seconds its connection may take: the form's wait names both

# What the form shows, told on the page's console at each change of it: looked at from the
# test while the form's POST is pending, the page did not answer (Chromium held the evaluation
# until the next page had replaced it, "execution context destroyed" ten seconds later), so the
# page tells it itself, as it happens, with no question to answer.
TELL_WHAT_IS_SHOWN = """() => {
  const form = document.querySelector('form[data-sending]');
  const said = document.getElementById('test-sending');
  const tell = () => console.log('shown ' + JSON.stringify({
    hidden: said.hidden,
    disabled: form.querySelector('button').disabled,
    busy: form.getAttribute('aria-busy'),
  }));
  const watch = new MutationObserver(tell);
  watch.observe(form, {attributes: true, subtree: true});
  watch.observe(said, {attributes: true});
}"""


@pytest.fixture(scope="module")
def silent(live: LiveEngine) -> Iterator[None]:
    """``noord`` points at a receiver that takes every connection and never answers."""

    async def listen() -> asyncio.Server:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # until the engine gives up and closes
            writer.close()

        return await asyncio.start_server(hold, "127.0.0.1", 0)

    server = live.call(listen())
    port = server.sockets[0].getsockname()[1]
    change = {"port": port, "ack_timeout": ACK_TIMEOUT, "connect_timeout": CONNECT_TIMEOUT}
    live.call(live.engine.admin.patch("noord", change, actor="test"))
    live.call(live.engine.reload_destinations())
    try:
        yield
    finally:
        server.close()


def test_a_test_message_says_it_waits_and_its_result_takes_the_focus(
    browser: Browser, live: LiveEngine, silent: None
) -> None:
    from playwright.sync_api import expect

    whole = CONNECT_TIMEOUT + ACK_TIMEOUT
    for lang, send, waiting in (
        (
            "en",
            "Send test message",
            f"waits up to {whole}s in all: {CONNECT_TIMEOUT}s to connect, then {ACK_TIMEOUT}s "
            "for the receiver's ACK",
        ),
        (
            "nl",
            "Testbericht versturen",
            f"wacht in totaal hoogstens {whole}s: {CONNECT_TIMEOUT}s op de verbinding, dan "
            f"{ACK_TIMEOUT}s op de ACK van de ontvanger",
        ),
    ):
        grants = (Grant(Role.DESTINATIONS, "CARD"), Grant(Role.PREVIEW, "CARD"))
        person = live.person(f"tess-{lang}@example.org", *grants)
        with signed_in_page(browser, live, person, lang=lang) as page:
            page.goto("/destinations/noord")
            said = page.locator("#test-sending")
            expect(said).to_be_hidden()  # nothing said before it is sent
            assert waiting in said.evaluate("e => e.textContent")
            assert said.get_attribute("role") == "status"
            shown = _told_what_is_shown(page)
            # Not waiting for the page it leads to: what the page says meanwhile is the point.
            page.get_by_role("button", name=send).click(no_wait_after=True)
            page.wait_for_url("**/destinations/noord/tested/**", timeout=(ACK_TIMEOUT + 20) * 1000)
            # While the engine waited for the ACK: said, read out, the button disabled.
            expected = {"hidden": False, "disabled": True, "busy": "true"}
            assert expected in shown, shown
            result = page.locator("#test-result")
            expect(result).to_be_focused()
            expect(result).to_be_in_viewport()
            screenshot(page, f"destination-test-result-{lang}")


def _told_what_is_shown(page: Page) -> list[dict[str, object]]:
    """What the page tells of its form from now on (``TELL_WHAT_IS_SHOWN``), as it tells it."""
    shown: list[dict[str, object]] = []

    def heard(message: ConsoleMessage) -> None:
        head, _, told = message.text.partition(" ")
        if head == "shown":
            shown.append(json.loads(told))

    page.on("console", heard)
    page.evaluate(TELL_WHAT_IS_SHOWN)
    return shown


def test_an_operator_without_preview_is_told_why_there_is_no_test_button(
    browser: Browser, live: LiveEngine
) -> None:
    person = live.person("otto@example.org", Grant(Role.DESTINATIONS, "CARD"))
    with signed_in_page(browser, live, person) as page:
        page.goto("/destinations/noord")
        assert page.get_by_role("button", name="Send test message").count() == 0
        hint = page.locator("#test-needs-preview")
        assert "needs the preview role" in hint.inner_text()
        screenshot(page, "destination-test-needs-preview")
    # Who may only look at it is not told what they could not ask for anyway.
    viewer = live.person("vera@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, viewer) as page:
        page.goto("/destinations/noord")
        assert page.locator("#test-needs-preview").count() == 0
