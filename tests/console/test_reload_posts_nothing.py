"""Reloading the page a form's answer shows posts nothing again, in Chromium against a running
engine: each answer that is a page is shown by a GET (``integrator.console.answers``), so a
reload shows it again (or, for what is shown once, the page the form was on) and Back goes to
a real page, never to *Confirm Form Resubmission*. Counted where a second post would act: the
tokens and invitations made, the pauses, the test messages, the resends and the discards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ANSWER = re.compile(r"\?answer=[A-Za-z0-9_-]{43}$")


@pytest.fixture
def olga(live: LiveEngine) -> Person:
    """One of her own per test: an authenticator code is good for one sign-in."""
    return live.person(
        f"olga-{uuid.uuid4().hex[:8]}@example.org",
        Grant(Role.ADMIN),
        Grant(Role.RESEND),
        Grant(Role.DESTINATIONS),
        Grant(Role.PREVIEW),
        Grant(Role.VIEWER),
    )


@pytest.fixture
def page(browser: Browser, live: LiveEngine, olga: Person) -> Iterator[Page]:
    context = new_context(browser, live)
    signed_in = context.new_page()
    open_session(signed_in, live, olga)
    try:
        yield signed_in
    finally:
        context.close()


def _count(live: LiveEngine, person: Person, action: str) -> int:
    return sum(1 for a, _ in live.audit_actions(f"person:{person.email}") if a == action)


def _referral() -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def test_a_new_token_and_an_invitation_are_made_once_whatever_is_reloaded(
    page: Page, live: LiveEngine, olga: Person
) -> None:
    page.goto("/tokens")
    page.get_by_label("Name", exact=True).fill(f"feed-{uuid.uuid4().hex[:8]}")
    page.get_by_label("Role 1").select_option("intake")
    page.get_by_role("button", name="Create a token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert re.search(r"/tokens" + ANSWER.pattern, page.url), page.url
    page.reload()  # the list, without the secret: shown once, and no second token
    assert page.url.endswith("/tokens") and secret not in page.content()
    assert _count(live, olga, "token.create") == 1

    page.goto("/people")
    page.get_by_label("E-mail address").fill(f"rita-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Role 1").select_option("viewer")
    page.get_by_role("button", name="Invite", exact=True).click()
    assert "/invitation#" in page.get_by_label("Invitation link").input_value()
    page.reload()
    page.go_back()  # the form it was sent from, not a resubmission
    assert page.url.endswith("/people")
    assert _count(live, olga, "person.invite") == 1


def test_a_refused_pause_and_a_refused_test_message_stay_refused_on_reload(
    page: Page, live: LiveEngine, olga: Person
) -> None:
    page.goto("/destinations/noord")
    page.get_by_label("Reason").fill("   ")  # blanks pass the browser's required
    page.get_by_role("button", name="Pause").click()
    page.wait_for_url(re.compile(r"/destinations/noord" + ANSWER.pattern))
    refused = page.locator(".problem, [role=alert]").filter(has_text="reason").first
    assert refused.is_visible()
    page.reload()  # the refusal again, by GET: nothing paused
    assert page.locator(".problem, [role=alert]").filter(has_text="reason").first.is_visible()
    assert _count(live, olga, "destination.pause") == 0

    page.goto("/destinations/noord")
    page.get_by_label("Reason").fill("receiver maintenance")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_url(re.compile(r"/destinations/noord\?"))
    page.reload()
    assert _count(live, olga, "destination.pause") == 1
    # Paused: a test message without the box ticked is refused; reloading sends none.
    received = len(live.receivers["noord"].received)
    page.get_by_role("button", name="Send test message").click()
    page.get_by_role("alert").filter(has_text="paused").wait_for()
    page.reload()
    page.get_by_role("alert").filter(has_text="paused").wait_for()
    assert len(live.receivers["noord"].received) == received
    assert _count(live, olga, "destination.test") == 0
    page.goto("/destinations/noord")
    page.get_by_label("Reason").fill("maintenance over")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_url(re.compile(r"/destinations/noord\?"))


def test_a_resend_without_javascript_goes_out_once_and_back_is_a_real_page(
    browser: Browser, live: LiveEngine, olga: Person
) -> None:
    original = live.submit(_referral())
    context = browser.new_context(base_url=live.url, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        open_session(page, live, olga)
        page.goto(f"/messages/{original}")
        page.get_by_label("Reason").fill("GP phoned: not arrived")
        page.get_by_role("button", name="Show what would be sent").click()
        page.wait_for_url(re.compile(rf"/messages/{original}" + ANSWER.pattern))
        page.get_by_role("button", name="Resend now").click()
        page.wait_for_url(re.compile(r"/messages/(?!" + original + r")[0-9a-f-]+$"))
        made = page.url
        page.reload()
        # Back: the message's own page (the preview was shown once), not a form's answer.
        answer = page.go_back()
        assert answer is not None and answer.ok, answer and answer.status
        assert page.url.endswith(f"/messages/{original}"), page.url
        page.get_by_role("button", name="Show what would be sent").wait_for()
        page.go_forward()
        assert page.url == made
        resends = live.call(live.engine.store.list_resends(original))[1]
        assert len(resends) == 1
        assert _count(live, olga, "message.resend") == 1
    finally:
        context.close()


def test_a_discard_is_done_once_whatever_is_reloaded(
    page: Page, live: LiveEngine, olga: Person
) -> None:
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        live.submit(_referral())
    finally:
        receiver.ack_code = "AA"
    page.goto("/deadletters")
    group = page.locator("section.group").first
    group.get_by_label("Select all in this group").check()
    group.get_by_role("button", name="Discard selected…").click()
    page.wait_for_url(re.compile(r"/deadletters" + ANSWER.pattern))
    page.reload()  # the confirmation again, by GET
    page.get_by_label("Reason").fill("GP withdrew it")
    page.locator("form[data-once] button").click()
    page.wait_for_url(re.compile(r"/deadletters/done/[0-9a-f]+$"))
    page.reload()
    page.go_back()
    assert "/deadletters" in page.url
    assert _count(live, olga, "deadletter.discard") == 1
