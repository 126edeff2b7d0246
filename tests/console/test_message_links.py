"""Links between messages in a real browser: a message by its short id (as listings and the
CLI show it), ambiguous and unknown short ids said in Dutch, and which message a resend resends
in the listing, with the original linking to its resends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from deadletter import ResendRequest
from integrator.access import Grant, Role
from integrator.resending import resend_in_engine
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine
from tests.store.factories import make_event, make_message

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ZD = "ZD100000001"  # the sample referral's
SHARED = "abcd0000-0000-4000-8000-00000000000"  # the start of three ids below
NOORD_1, NOORD_2, ZUID = (f"{SHARED}{n}" for n in (1, 2, 3))
ONE_IN_CARD = "abce0000-0000-4000-8000-000000000001"  # shares abce0000 with one in LAB
ONE_IN_LAB = "abce0000-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def placed(live: LiveEngine) -> None:
    """Messages with ids chosen to share a start: two to ``noord`` (CARD), one to ``zuid``
    (LAB), and a pair across the two clusters."""
    for message_id, destination in (
        (NOORD_1, "noord"),
        (NOORD_2, "noord"),
        (ZUID, "zuid"),
        (ONE_IN_CARD, "noord"),
        (ONE_IN_LAB, "zuid"),
    ):
        message = make_message(id=message_id, destination_id=destination)
        live.call(live.engine.store.accept_event(make_event(zd_number=ZD), [message]))


@pytest.fixture(scope="module")
def resent(live: LiveEngine) -> tuple[str, str]:
    """The sample referral and its resend (the same bytes, to ``noord``)."""
    original = live.submit(load_sample("referral"))

    async def resend() -> str:
        message = await live.engine.store.get_message(original)
        assert message is not None
        ask = ResendRequest(reason="GP phoned", actor="local:test")
        [result] = await resend_in_engine(live.engine, [message], ask)
        assert result.message is not None
        return result.message.id

    made = live.call(resend())
    assert live.call(live.engine.wait_settled(timeout=20))
    return original, made


def _signed_in(browser: Browser, live: LiveEngine, email: str, grant: Grant) -> Iterator[Page]:
    person = live.person(email, grant)
    context = new_context(browser, live)
    page = context.new_page()
    open_session(page, live, person)
    page.context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Resend role for all clusters, reading Dutch pages."""
    yield from _signed_in(browser, live, "saar@example.org", Grant(Role.RESEND))


@pytest.fixture(scope="module")
def card_viewer(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Only CARD's messages, without patient data, reading Dutch pages."""
    yield from _signed_in(browser, live, "vince@example.org", Grant(Role.VIEWER, "CARD"))


def test_a_short_id_goes_to_the_whole_one(support: Page, resent: tuple[str, str]) -> None:
    original, _ = resent
    support.goto(f"/messages/{original[:8]}")
    support.wait_for_url(f"**/messages/{original}")
    assert original in support.locator("h1").inner_text()
    support.goto(f"/messages/{original[:13].upper().replace('-', '')}")  # as people copy it
    support.wait_for_url(f"**/messages/{original}")


def test_an_ambiguous_short_id_lists_the_messages_it_could_be(
    support: Page, card_viewer: Page, placed: None
) -> None:
    answer = support.goto("/messages/abcd0000")
    assert answer is not None and answer.status == 409
    assert support.locator("h1").inner_text() == "Welk bericht?"
    links = support.locator("#lookup-candidates a")
    assert links.all_inner_texts() == [NOORD_1, NOORD_2, ZUID]
    screenshot(support, "message-ambiguous")
    links.first.click()
    support.wait_for_url(f"**/messages/{NOORD_1}")

    # Only what the person may see is listed, or counts.
    card_viewer.goto("/messages/abcd0000")
    assert card_viewer.locator("#lookup-candidates a").all_inner_texts() == [NOORD_1, NOORD_2]
    card_viewer.goto("/messages/abce0000")
    card_viewer.wait_for_url(f"**/messages/{ONE_IN_CARD}")


def test_a_prefix_only_other_clusters_crowd_is_as_unknown(
    support: Page, card_viewer: Page, live: LiveEngine
) -> None:
    """More messages share a prefix than a lookup lists: when all of them lie outside the
    person's clusters, the answer must not say "there are more" (they exist), but what an
    unknown id gets."""
    for n in range(11):  # one more than the lookup lists
        message = make_message(id=f"beef{n:04d}-0000-4000-8000-000000000000", destination_id="zuid")
        live.call(live.engine.store.accept_event(make_event(zd_number=ZD), [message]))
    answer = card_viewer.goto("/messages/beef")
    assert answer is not None and answer.status == 404
    assert "Geen bericht dat je mag zien heeft dit id" in card_viewer.content()
    answer = support.goto("/messages/beef")  # who sees them all: which one?
    assert answer is not None and answer.status == 409


def test_an_unknown_or_too_short_id_is_said_in_dutch(
    support: Page, card_viewer: Page, placed: None
) -> None:
    for page, address in (
        (support, "/messages/0000ffff"),
        (support, "/messages/not-an-id"),
        (card_viewer, f"/messages/{ZUID}"),  # outside her clusters: as unknown
        (card_viewer, f"/messages/{ONE_IN_LAB}"),
    ):
        answer = page.goto(address)
        assert answer is not None and answer.status == 404, address
        assert "Geen bericht dat je mag zien heeft dit id" in page.content(), address
        assert page.locator("#lookup-candidates").count() == 0
    answer = support.goto("/messages/abc")
    assert answer is not None and answer.status == 404
    assert support.locator("#lookup-short").inner_text() == (
        "Geef minstens 4 tekens van een bericht-id."
    )


def test_the_listing_says_which_message_a_resend_resends(
    support: Page, card_viewer: Page, resent: tuple[str, str]
) -> None:
    original, made = resent
    support.goto(f"/messages?zd_number={ZD}")
    header = support.locator("#message-list thead th").all_inner_texts()
    assert header[-1] == "Herzending van"
    row = support.locator(
        "#message-list tbody tr", has=support.locator(f'td:first-child a[href="/messages/{made}"]')
    )
    link = row.locator("td.resend-of a")
    assert link.inner_text() == original[:8]
    assert (
        support.locator(
            "#message-list tbody tr",
            has=support.locator(f'td:first-child a[href="/messages/{original}"]'),
        )
        .locator("td.resend-of")
        .inner_text()
        == ""
    )
    screenshot(support, "messages-resend-of")
    link.click()
    support.wait_for_url(f"**/messages/{original}")

    # The original links to its resend, also for who reads no patient data.
    card_viewer.goto(f"/messages/{original}")
    assert card_viewer.locator(f'#resends a[href="/messages/{made}"]').count() == 1
    assert "GP phoned" not in card_viewer.locator("#resends").inner_text()  # the reason is not
    card_viewer.goto(f"/messages/{made}")
    assert card_viewer.locator("#resent-from").inner_text() == original
