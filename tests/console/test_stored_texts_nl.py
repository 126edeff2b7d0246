"""The texts the engine keeps in English, on Dutch pages: in a real browser against a running
engine.

A delivery's error (the message list's column, the message page's last error and timeline, the
dead-letter pages' group headings), a rejected input's rules and a destination's version
notices are stored in English, as the CLI and the API show them; each page words them in the
person's language by the shape they were written with (``integrator.console.shaped``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.errors import InvalidEvent
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine, Person
from tests.services import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

FAST = {"initial": "20ms", "multiplier": 2, "max_delay": "50ms"}
GAVE_UP_NL = (
    "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht; opgegeven na "
    "2 pogingen (max_attempts 2)"
)


@pytest.fixture
def page(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    context = new_context(browser, live, lang="nl")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def support(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    """Someone of support staff (who may read destinations too), one for each test: a code of
    the authenticator signs in once."""
    email = f"{request.node.name.removeprefix('test_')[:30]}@example.org"
    return live.person(email, Grant(Role.RESEND), Grant(Role.VIEWER))


@pytest.fixture(scope="module")
def died(live: LiveEngine) -> str:
    """A message to ``noord`` that the receiver answered AE until the engine gave up."""
    live.call(
        live.engine.admin.patch("noord", {"retry": {**FAST, "max_attempts": 2}}, actor="test")
    )
    receiver = live.receivers["noord"]
    receiver.ack_code = "AE"
    try:
        message_id = live.submit(_referral())
    finally:
        receiver.ack_code = "AA"
    stored = live.call(live.engine.store.get_message(message_id))
    assert stored is not None and stored.status == "dead"
    assert stored.last_error == "ACK AE; gave up after 2 attempts (max_attempts 2)"
    return message_id


def _referral() -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def test_the_message_list_says_the_last_error_in_dutch(
    page: Page, live: LiveEngine, support: Person
) -> None:
    """Nobody listens at the destination's address: the connection is refused."""
    receiver = live.receivers["noord"]
    port = free_port()
    live.call(live.engine.admin.patch("noord", {"port": port}, actor="test"))
    try:
        event = _referral()
        message_id = live.submit(event, settle=False)
        error = _last_error_eventually(live, message_id)
        assert error.startswith(f"ConnectFailed: connect to 127.0.0.1:{port} failed: ")
        open_session(page, live, support)
        page.goto(f"/messages?zd_number={event['zd_number']}")
        shown = page.locator("#message-list tbody tr td").nth(7).inner_text()
        assert shown.startswith(
            f"verbinden met 127.0.0.1:{port} mislukt: de verbinding werd geweigerd"
        ), shown
        assert "(ConnectFailed)" in shown, shown
        screenshot(page, "messages-last-error-nl")
    finally:
        live.call(live.engine.admin.patch("noord", {"port": receiver.port}, actor="test"))
        assert live.call(live.engine.wait_settled(timeout=20))


def _last_error_eventually(live: LiveEngine, message_id: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stored = live.call(live.engine.store.get_message(message_id))
        if stored is not None and stored.last_error:
            return stored.last_error
        time.sleep(0.05)
    raise AssertionError("no attempt failed in time")


def test_the_message_page_says_its_errors_in_dutch(
    page: Page, live: LiveEngine, support: Person, died: str
) -> None:
    open_session(page, live, support)
    page.goto(f"/messages/{died}")
    assert page.locator("#last-error").inner_text() == GAVE_UP_NL
    attempts = page.locator("#timeline li").filter(has_text="Poging").all_inner_texts()
    assert len(attempts) == 2, attempts
    assert attempts[0].endswith(
        "· de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht"
    ), attempts
    # The code once: an error that is the ACK says it (was "· ACK AE · … ACK AE").
    assert all(a.count("ACK AE") == 1 for a in attempts), attempts
    assert attempts[1].endswith(f"· {GAVE_UP_NL}"), attempts
    assert not any("gave up" in a for a in attempts)
    screenshot(page, "message-errors-nl")
    # What is stored stays English.
    again = live.call(live.engine.store.get_message(died))
    assert again is not None and again.last_error is not None
    assert again.last_error.startswith("ACK AE; gave up after 2 attempts")


def test_dead_letter_groups_are_headed_in_dutch(
    page: Page, live: LiveEngine, support: Person, died: str
) -> None:
    open_session(page, live, support)
    page.goto("/deadletters")
    group = page.locator("section.group").filter(has=page.locator(f"#pick-{died}"))
    heading = group.get_by_role("heading").inner_text()
    assert heading.startswith(GAVE_UP_NL), heading
    screenshot(page, "dead-letters-heading-nl")


def test_a_rejected_input_s_rules_are_in_dutch(
    page: Page, live: LiveEngine, support: Person
) -> None:
    event = _referral()
    event["event_id"] = "not-a-uuid"
    event["zd_number"] = "ZD12"
    with pytest.raises(InvalidEvent) as refused:
        live.call(
            live.engine.intake.submit(json.dumps(event), source="http", caller="token:gp-noord")
        )
    rejected_id = refused.value.rejected_id
    assert rejected_id is not None
    open_session(page, live, support)
    page.goto(f"/rejected/{rejected_id}")
    assert page.locator("dt", has_text="Verstuurd door").count() == 1
    assert page.locator("#rejected-caller").inner_text() == "token:gp-noord"
    page.goto("/rejected")
    assert "Verstuurd door" in page.locator("#rejected-list thead th").all_inner_texts()
    page.goto(f"/rejected/{rejected_id}")
    rows = page.locator("#rejected-rules tbody tr")
    shown = {
        rows.nth(n).locator("td").nth(0).inner_text(): rows.nth(n).locator("td").nth(2).inner_text()
        for n in range(rows.count())
    }
    assert shown == {
        "event_id": "moet een UUID zijn",
        "zd_number": "moet een ZD-nummer zijn: 'ZD' gevolgd door 9 cijfers",
    }
    screenshot(page, "rejected-rules-nl")


def test_a_destination_s_version_notice_is_in_dutch(
    page: Page, live: LiveEngine, support: Person
) -> None:
    """``noord`` moved back to ``ref-v1``, deprecated until its sunset (2027-07-01)."""
    messages = {"referral": "ref-v1", "diagnostic_request": "orm-v3"}
    live.call(live.engine.admin.patch("noord", {"messages": messages}, actor="test"))
    try:
        open_session(page, live, support)
        page.goto("/destinations/noord")
        notices = page.locator("main p.notice").all_inner_texts()
        assert (
            "bestemming 'noord': messages.referral gebruikt verouderde berichtversie 'ref-v1'; "
            "buiten gebruik vanaf 2027-07-01, ga over op 'ref-v2'"
        ) in notices, notices
        screenshot(page, "destination-notice-nl")
    finally:
        messages["referral"] = "ref-v2"
        live.call(live.engine.admin.patch("noord", {"messages": messages}, actor="test"))


def test_an_event_s_zd_warnings_are_in_dutch(page: Page, live: LiveEngine, support: Person) -> None:
    """A cancel whose ZD number no referral was accepted with: the event page says the ZD
    check's warning as the message page does (``integrator.console.warning_text``)."""
    cancel = _referral()
    cancel["action"] = "cancel"
    live.submit(cancel)
    event_id = cancel["event_id"]
    open_session(page, live, support)
    page.goto(f"/events/{event_id}")
    shown = page.locator("#zd-warnings li").all_inner_texts()
    assert shown == [
        "cancel_without_new: met dit ZD-nummer is geen nieuwe verwijzing aangenomen vóór deze "
        "annulering; de annulering wordt toch verstuurd, voor een verwijzing die de bestemming "
        "misschien nooit heeft ontvangen"
    ], shown
    screenshot(page, "event-zd-warnings-nl")
