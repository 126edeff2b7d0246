"""*Try now* in the console: a retrying message's page and its destination's page offer to
attempt what waits for its next try, to who may resend there, in a real browser against a
running engine whose receiver first answers AE (try again) and then, fixed, AA."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator import try_now
from integrator.access import Grant, Permission, Role
from integrator.access.permissions import local_identity
from integrator.clusters import ClusterScope
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SLOW_RETRY = ["retry.initial=10m", "retry.max_delay=10m"]


@pytest.fixture(scope="module")
def slow_noord(live: LiveEngine) -> Iterator[None]:
    """``noord`` waits ten minutes between tries (for this module)."""
    before = live.engine.catalog.destinations["noord"].retry
    live.call(live.engine.admin.update("noord", SLOW_RETRY, actor="local:test"))
    yield
    back = [f"retry.initial={before.initial}", f"retry.max_delay={before.max_delay}"]
    live.call(live.engine.admin.update("noord", back, actor="local:test"))


@pytest.fixture
def retrying(live: LiveEngine, slow_noord: None) -> Iterator[None]:
    """``noord``'s receiver answers AE (try again) during the test; afterwards AA, and what
    still waits is tried now, so the next test's messages do not queue behind it (fifo)."""
    live.receivers["noord"].ack_code = "AE"
    yield
    live.receivers["noord"].ack_code = "AA"
    where = try_now.Where.engine(live.engine)
    scope = ClusterScope(local_identity("local:test"), Permission.MESSAGES_RESEND)
    live.call(try_now.try_destination_now(where, scope, "noord"))
    assert live.call(live.engine.wait_settled(timeout=20))


def referral() -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def waiting(live: LiveEngine, count: int) -> list[str]:
    """Submit ``count`` referrals for ``noord`` and wait until each waits for its retry."""
    ids = [live.submit(referral(), settle=False) for _ in range(count)]
    deadline = time.monotonic() + 20
    while live.engine.retries_waiting("noord") < count or any(
        live.call(live.engine.store.get_message(i)).status != "retrying"  # type: ignore[union-attr]
        for i in ids
    ):
        assert time.monotonic() < deadline, "not retrying in time"
        time.sleep(0.05)
    return ids


def page_of(browser: Browser, live: LiveEngine, *grants: Grant, lang: str = "en") -> Page:
    context = new_context(browser, live, lang=lang)
    page = context.new_page()
    person = live.person(f"{uuid.uuid4().hex[:8]}@example.org", *grants)
    open_session(page, live, person)
    return page


def test_a_retrying_message_is_tried_now_from_its_page(
    browser: Browser, live: LiveEngine, retrying: None
) -> None:
    from playwright.sync_api import expect

    [message_id] = waiting(live, 1)
    page = page_of(browser, live, Grant(Role.RESEND, "CARD"))
    page.goto(f"/messages/{message_id}")
    section = page.get_by_role("region", name="Try now")
    expect(section).to_contain_text("It waits for its next attempt, at 20")
    hint = page.locator("#try-now-hint").inner_text()
    # In local time with its offset, as every time on the page: not the store's UTC text.
    assert re.search(r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d\.", hint), hint
    screenshot(page, "message-try-now")
    live.receivers["noord"].ack_code = "AA"  # the hospital fixed it
    page.get_by_label("Reason (optional)").fill("hospital: receiver back")
    page.get_by_role("button", name="Try now").click()
    page.wait_for_url(f"**/messages/{message_id}?tried=1")
    # Said as done, not as under way: by the time the page shows, it may have been delivered.
    expect(page.locator("#tried-now")).to_contain_text("Its next attempt was started when")
    expect(page.locator("#message-status")).to_have_text("delivered", timeout=15_000)
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None and found.attempt_count == 2
    page.context.close()


def test_a_destination_s_waiting_retries_are_tried_now_from_its_page(
    browser: Browser, live: LiveEngine, retrying: None
) -> None:
    """``noord`` is fifo: its first message waits for its retry, the second behind it."""
    from playwright.sync_api import expect

    [first] = waiting(live, 1)
    behind = live.submit(referral(), settle=False)
    page = page_of(browser, live, Grant(Role.RESEND, "CARD"))
    page.goto("/destinations/noord")
    expect(page.locator("#try-now-waiting")).to_contain_text("1 message waits for its next attempt")
    live.receivers["noord"].ack_code = "AA"
    page.get_by_role("button", name="Try the waiting retries now").click()
    page.wait_for_url("**/destinations/noord?tried=1")
    expect(page.locator("#tried-now")).to_contain_text("1 waiting message")
    screenshot(page, "destination-try-now-done")
    deadline = time.monotonic() + 20
    while any(
        live.call(live.engine.store.get_message(i)).status != "delivered"  # type: ignore[union-attr]
        for i in (first, behind)
    ):
        assert time.monotonic() < deadline, "not delivered in time"
        time.sleep(0.05)
    page.context.close()


def test_a_viewer_is_offered_nothing_and_a_forged_post_is_refused(
    browser: Browser, live: LiveEngine, retrying: None
) -> None:
    [message_id] = waiting(live, 1)
    page = page_of(browser, live, Grant(Role.VIEWER, "CARD"), lang="nl")
    page.goto(f"/messages/{message_id}")
    assert page.get_by_role("button", name="Nu proberen").count() == 0
    page.goto("/destinations/noord")
    assert page.locator("#try-now-waiting").count() == 0
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    answer = page.request.post(
        f"{live.url}/messages/{message_id}/try-now",
        form={"csrf": csrf or ""},
        headers={"origin": live.url},
    )
    assert answer.status == 403
    found = live.call(live.engine.store.get_message(message_id))
    assert found is not None and found.status == "retrying" and found.attempt_count == 1
    page.context.close()


def test_the_offer_speaks_dutch(browser: Browser, live: LiveEngine, retrying: None) -> None:
    from playwright.sync_api import expect

    [message_id] = waiting(live, 1)
    page = page_of(browser, live, Grant(Role.RESEND, "CARD"), lang="nl")
    page.goto(f"/messages/{message_id}")
    expect(page.get_by_role("region", name="Nu proberen")).to_contain_text(
        "Dit bericht wacht op de volgende poging"
    )
    page.goto("/destinations/noord")
    expect(page.get_by_role("button", name="Wachtende berichten nu proberen")).to_be_visible()
    page.context.close()


def test_a_message_due_already_offers_no_second_try_and_a_paused_destination_is_refused(
    browser: Browser, live: LiveEngine, retrying: None
) -> None:
    """The second click of two, or a page opened after the command line made it due: its
    attempt is due (under way, or about to be). And nothing is offered for a paused
    destination, whose messages nothing attempts before its resume."""
    from playwright.sync_api import expect

    [message_id] = waiting(live, 1)
    scope = ClusterScope(local_identity("local:test"), Permission.MESSAGES_RESEND)
    # As the command line does it: in the store, no runner told (it looks every 5 s).
    unheard = try_now.Where(live.engine.store, live.engine.catalog, live.engine.clock.now())
    live.call(try_now.try_message_now(unheard, scope, message_id))
    page = page_of(browser, live, Grant(Role.RESEND, "CARD"))
    page.goto(f"/messages/{message_id}")
    section = page.get_by_role("region", name="Try now")
    expect(section).to_contain_text("Its next attempt is due now")
    assert section.get_by_role("button").count() == 0
    # The form posted a second time (Back, then submit): said, not refused.
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value") or ""
    again = page.request.post(
        f"{live.url}/messages/{message_id}/try-now",
        form={"csrf": csrf},
        headers={"origin": live.url},
        max_redirects=0,
    )
    assert again.status == 303
    assert again.headers["location"] == f"/messages/{message_id}?tried=0"

    live.call(live.engine.admin.set_enabled("noord", False, actor="local:test", reason="x"))
    try:
        page.goto("/destinations/noord")
        assert page.locator("#try-now-waiting").count() == 0
        refused = page.request.post(
            f"{live.url}/destinations/noord/try-now",
            form={"csrf": csrf},
            headers={"origin": live.url, "accept-language": "en"},
        )
        assert refused.status == 422
        assert "noord is paused: its messages are attempted when it is resumed" in (refused.text())
    finally:
        live.call(live.engine.admin.set_enabled("noord", True, actor="local:test", reason="x"))
    page.context.close()
