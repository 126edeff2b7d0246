"""The destinations list's *Last attempt* column in a browser, as an operator reads it: the
role ``destinations`` is told why the destination's last attempt failed when it is the engine's
own words (a refused connection), in its language. What each role is told, on every front
door, is checked request by request in ``test_listed_last_attempt.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from integrator.store import AttemptRecord
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.console.test_last_attempt import REFUSED_ERROR
from tests.store.factories import make_event, make_message

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_an_operator_reads_in_the_list_why_a_destination_last_failed(
    browser: Browser, live: LiveEngine
) -> None:
    # Given up already (dead), so that no delivery of the running engine takes it up again.
    message = make_message(destination_id="noord")
    store = live.engine.store
    live.call(store.accept_event(make_event(), [message]))
    at = live.engine.clock.now()
    attempt = AttemptRecord(message.id, 1, at, 3.0, "deadletter", error=REFUSED_ERROR)
    live.call(store.record_attempt(attempt, status="dead", last_error=REFUSED_ERROR))
    for lang, header, words in (
        ("en", "Last attempt", "connect to 127.0.0.1:2575 failed: ConnectionRefusedError"),
        ("nl", "Laatste poging", "verbinden met 127.0.0.1:2575 mislukt: de verbinding werd"),
    ):
        operator = live.person(f"olaf-{lang}@example.org", Grant(Role.DESTINATIONS))
        with signed_in_page(browser, live, operator, lang) as page:
            page.goto("/destinations")
            table = page.get_by_role("table")
            table.get_by_role("columnheader", name=header).wait_for(state="visible")
            noord = table.get_by_role("row").filter(
                has=page.get_by_role("link", name="noord", exact=True)
            )
            cells = noord.get_by_role("cell").all_inner_texts()
            assert any(words in cell for cell in cells), cells
            screenshot(page, f"destinations-last-attempt-{lang}")
