"""A retrying message delivers while support has its page open: the page says so in every part
that follows the delivery (status, attempts, last error, timeline, *Try now*), without a
reload, in a real browser against a running engine. What the refresh answers is checked
request by request in ``test_message_progress``."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from integrator.store import AttemptRecord
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.store.factories import make_event, make_message

if TYPE_CHECKING:
    from playwright.sync_api import Browser

NEGATIVE = "ACK AE: try again later"


def test_a_delivery_while_the_page_is_open_shows_in_every_part(
    browser: Browser, live: LiveEngine
) -> None:
    from playwright.sync_api import expect

    store = live.engine.store
    message = make_message(destination_id="noord")
    live.call(store.accept_event(make_event(), [message]))
    now = live.engine.clock.now()

    def attempt(number: int, outcome: str) -> AttemptRecord:
        code, error = ("AA", None) if outcome == "delivered" else ("AE", NEGATIVE)
        ack = f"MSH|^~\\&|HOSP|NOORD\rMSA|{code}|{message.control_id}\r".encode()
        return AttemptRecord(message.id, number, now, 4.0, outcome, code, ack, error)

    later = now + timedelta(hours=1)  # no attempt of the engine's own while the test runs
    live.call(
        store.record_attempt(
            attempt(1, "retry"), status="retrying", next_attempt_at=later, last_error=NEGATIVE
        )
    )
    person = live.person("sam@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, person) as page:
        page.goto(f"/messages/{message.id}")
        expect(page.locator("#message-status")).to_have_text("retrying")
        expect(page.locator("#message-attempts")).to_have_text("1")
        expect(page.locator("#last-error")).to_be_visible()
        expect(page.get_by_role("button", name="Try now")).to_be_visible()

        live.call(store.record_attempt(attempt(2, "delivered"), status="delivered"))
        expect(page.locator("#message-status")).to_have_text("delivered", timeout=10_000)
        expect(page.locator("#message-attempts")).to_have_text("2")
        expect(page.locator("#last-error")).to_be_hidden()
        expect(page.get_by_text("Last error")).to_be_hidden()
        assert page.get_by_role("button", name="Try now").count() == 0
        assert page.get_by_role("heading", name="Try now").count() == 0
        expect(page.locator("#timeline li").last).to_contain_text("Attempt 2: delivered")
        expect(page.locator("#latest-ack")).to_contain_text(f"MSA|AA|{message.control_id}")
        screenshot(page, "message-delivered-while-open")
