"""A resend confirmed in the console goes out once: a reload, Back and submit, a second tab or
two quick clicks send nothing again, and a resend elsewhere needs no second choice.

In a real browser against a running engine with real MLLP receivers; the duplicate posts are
sent as a browser would send them (the same session, CSRF token and one-time token).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine, Person

if TYPE_CHECKING:
    from playwright.sync_api import APIResponse, Browser, Page

FORM = "form[data-once]"


@pytest.fixture(scope="module")
def sam(live: LiveEngine) -> Person:
    """Support with resend rights for all clusters, as in the walkthrough."""
    return live.person("sam@example.org", Grant(Role.RESEND), Grant(Role.VIEWER))


@pytest.fixture(scope="module")
def page(browser: Browser, live: LiveEngine, sam: Person) -> Iterator[Page]:
    """Signed in once for the module (a code of the authenticator is good for one sign-in)."""
    context = new_context(browser, live)
    signed_in = context.new_page()
    open_session(signed_in, live, sam)
    try:
        yield signed_in
    finally:
        context.close()


def _referral() -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def _dead_letters(live: LiveEngine, count: int) -> list[str]:
    """``count`` referrals that ``noord`` refused (AR): dead letters, nothing else open."""
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        made = [live.submit(_referral()) for _ in range(count)]
    finally:
        receiver.ack_code = "AA"
    return made


def _resends(live: LiveEngine, message_id: str) -> list[Any]:
    return live.call(live.engine.store.list_resends(message_id))[1]


def _settled(live: LiveEngine) -> None:
    assert live.call(live.engine.wait_settled(timeout=20))


def _fields(page: Page) -> dict[str, list[str]]:
    """The confirm form's fields as the browser would post them (repeated ids included)."""
    found: dict[str, list[str]] = {}
    for field in page.locator(f"{FORM} input[type=hidden]").all():
        name = field.get_attribute("name")
        assert name is not None
        found.setdefault(name, []).append(field.get_attribute("value") or "")
    return found


def _encoded(fields: dict[str, list[str]]) -> str:
    return str(httpx.QueryParams([(name, v) for name, values in fields.items() for v in values]))


def _post(page: Page, live: LiveEngine, action: str, fields: dict[str, list[str]]) -> APIResponse:
    return page.request.post(
        action,
        data=_encoded(fields),
        headers={
            "Origin": live.url,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "en",
        },
    )


def _post_again(page: Page, live: LiveEngine, action: str, fields: dict[str, list[str]]) -> str:
    """Post the same form once more (Back and submit, or the other tab): the landing URL."""
    answer = _post(page, live, action, fields)
    assert answer.ok, answer.text()
    return answer.url


def test_a_dead_letter_resend_goes_out_once_however_often_its_page_is_posted(
    page: Page, live: LiveEngine
) -> None:
    letters = _dead_letters(live, 2)
    noord = live.receivers["noord"]
    page.goto("/deadletters")
    page.locator("section.group").first.get_by_label("Select all in this group").check()
    page.locator("section.group").first.get_by_role("button", name="Resend selected…").click()
    assert "2 messages selected; 2 would be resent" in page.locator("#confirm-count").inner_text()
    # A second tab with the same confirmation page, made before anything was sent.
    other = page.context.new_page()
    other.goto("/deadletters")
    other.locator("section.group").first.get_by_label("Select all in this group").check()
    other.locator("section.group").first.get_by_role("button", name="Resend selected…").click()
    fields = {**_fields(page), "reason": ["HIS back"]}

    page.get_by_label("Reason").fill("HIS back")
    page.get_by_role("button", name="Resend 2 messages").click()
    page.wait_for_url(re.compile(r"/deadletters/done/[0-9a-f]+$"))  # a page of its own (GET)
    assert page.locator("#done-results").get_by_role("cell", name="resent", exact=True).count() == 2
    _settled(live)
    received = noord.message_count
    assert [len(_resends(live, m)) for m in letters] == [1, 1]

    page.reload()  # shows the result again, sends nothing
    assert page.locator("#done-results").get_by_role("cell", name="resent", exact=True).count() == 2
    screenshot(page, "deadletters-done")

    # Back and submit (or the same page in another tab): the same confirmation, posted again.
    landed = _post_again(page, live, "/deadletters/resend", fields)
    assert re.search(r"/deadletters/done/[0-9a-f]+\?again=1$", landed), landed
    page.goto(landed)
    notice = page.locator("#once-again").inner_text()
    assert "already done at" in notice and "by person:sam@example.org" in notice
    assert "nothing was sent again" in notice

    # The second tab's own confirmation, from before the resend: the service's rule for a
    # listing (resent or settled since) leaves both out; nothing goes out.
    other.get_by_label("Reason").fill("HIS back (other tab)")
    other.get_by_role("button", name="Resend 2 messages").click()
    other.wait_for_url(re.compile(r"/deadletters/done/[0-9a-f]+$"))
    rows = other.locator("#done-results tbody tr")
    assert rows.count() == 2
    assert other.locator("#done-results").get_by_role("cell", name="left out").count() == 2
    _settled(live)
    assert [len(_resends(live, m)) for m in letters] == [1, 1]
    assert noord.message_count == received
    other.close()


def test_a_search_resend_goes_out_once_however_often_its_page_is_posted(
    page: Page, live: LiveEngine
) -> None:
    event = _referral()
    original = live.submit(event)
    page.goto(f"/messages?zd_number={event['zd_number']}")
    page.get_by_role("button", name="Resend these messages…").click()
    # The confirm page, not the search page the click leaves: its fields are what is posted.
    page.locator(f"{FORM} button").wait_for()
    # Each message by its ZD number and destination, its short id a link to it.
    planned = page.locator("main table tbody tr").first
    assert planned.get_by_role("link", name=original[:8]).get_attribute("href") == (
        f"/messages/{original}"
    )
    assert planned.locator("td").all_inner_texts()[1:3] == [event["zd_number"], "noord"]
    fields = {**_fields(page), "reason": ["GP called"]}
    page.get_by_label("Reason").fill("GP called")
    page.get_by_role("button", name="Resend 1 message").click()
    page.wait_for_url(re.compile(r"/messages/resend/done/[0-9a-f]+$"))
    _settled(live)
    assert len(_resends(live, original)) == 1

    page.reload()
    assert page.locator("#resend-results").get_by_role("cell", name="resent", exact=True).count()
    # The result names it as the confirmation did: ZD number and destination.
    done = page.locator("#resend-results tbody tr").first.locator("td").all_inner_texts()
    assert done[:3] == [original[:8], event["zd_number"], "noord"], done
    landed = _post_again(page, live, "/messages/resend", fields)
    assert re.search(r"/messages/resend/done/[0-9a-f]+\?again=1$", landed), landed
    page.goto(landed)
    assert "nothing was sent again" in page.locator("#once-again").inner_text()
    _settled(live)
    assert len(_resends(live, original)) == 1  # the ZD number names it, but once per confirmation

    # A token made for another person, or none at all: refused, nothing sent.
    answer = _post(page, live, "/messages/resend", {**fields, "once": ["not-a-token"]})
    assert answer.status == 422 and "no longer valid" in answer.text()
    assert len(_resends(live, original)) == 1


def _preview(page: Page, message_id: str, *, to: str = "", mode: str | None = None) -> None:
    page.goto(f"/messages/{message_id}")
    page.get_by_label("Reason").fill("GP phoned: not arrived")
    if mode is not None:
        page.get_by_label("Mode").select_option(mode)
    if to:
        page.get_by_label("Other destination (optional)").select_option(to)
    page.get_by_role("button", name="Show what would be sent").click()
    page.locator("#resend-preview-body").wait_for()


def test_two_posts_of_resend_now_at_the_same_moment_make_one_message(
    page: Page, live: LiveEngine
) -> None:
    original = live.submit(_referral())
    _preview(page, original)
    page.locator(f"{FORM} button").wait_for()
    fields = {k: v[0] for k, v in _fields(page).items()}
    assert fields["once"]
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}

    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def post() -> None:
        # Each its own connection, released at the same moment: two clicks 0 ms apart.
        with httpx.Client(base_url=live.url, cookies=cookies) as client:
            start.wait()
            answers.append(
                client.post(
                    f"/messages/{original}/resend", data=fields, headers={"Origin": live.url}
                )
            )

    clicks = [threading.Thread(target=post) for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join(30)
    assert [a.status_code for a in answers] == [303, 303], [a.text for a in answers]
    [made] = _resends(live, original)
    targets = sorted(a.headers["location"] for a in answers)
    assert targets[0] == f"/messages/{made.message_id}"
    assert re.fullmatch(rf"/messages/{made.message_id}\?again=[0-9a-f]+", targets[1])
    page.goto(targets[1])
    assert "nothing was sent again" in page.locator("#once-again").inner_text()
    _settled(live)
    assert len(_resends(live, original)) == 1


def test_resend_now_is_disabled_once_clicked(page: Page, live: LiveEngine) -> None:
    """The page's script (a convenience; the token above is the guard): after a click the
    button is disabled and a second submit of the form goes nowhere."""
    original = live.submit(_referral())
    _preview(page, original)
    # Seen after the page's own handler; kept from navigating, so the page can be asked.
    page.evaluate(
        """() => { window.submits = [];
        window.addEventListener("submit", e => {
            window.submits.push(e.defaultPrevented); e.preventDefault(); }); }"""
    )
    button = page.locator(FORM).get_by_role("button", name="Resend now")
    assert button.is_enabled()
    button.click()
    from playwright.sync_api import expect

    expect(button).to_be_disabled()
    page.locator(FORM).evaluate("form => form.requestSubmit()")  # a second click
    assert page.evaluate("() => window.submits") == [False, True]  # the second went nowhere
    assert _resends(live, original) == []


def test_another_destination_is_a_remap_without_a_second_choice(
    page: Page, live: LiveEngine
) -> None:
    original = live.submit(_referral())
    zuid = live.receivers["zuid"]
    received = zuid.message_count
    page.goto(f"/messages/{original}")
    # Without the page's script too: the mode the form starts with leaves it to the service.
    assert page.get_by_label("Mode").input_value() == ""
    _preview(page, original, to="zuid")  # the mode left as it is
    assert page.locator("#resend-preview-body p").first.inner_text() == "zuid · mapped again"
    screenshot(page, "resend-preview-elsewhere")
    page.get_by_role("button", name="Resend now").click()
    page.wait_for_url(re.compile(r"/messages/(?!" + original + r")[0-9a-f-]+$"))
    [made] = _resends(live, original)
    assert (made.destination_id, made.mode) == ("zuid", "remap")
    _settled(live)
    assert zuid.message_count == received + 1

    # With the page's script, choosing the destination picks the mode too.
    page.goto(f"/messages/{original}")
    page.get_by_label("Mode").select_option("original")
    page.get_by_label("Other destination (optional)").select_option("zuid")
    assert page.get_by_label("Mode").input_value() == "remap"

    # Asked for the same bytes elsewhere all the same: refused in the console's words.
    answer = page.request.post(
        f"/messages/{original}/resend/preview",
        form={
            "csrf": _csrf(page),
            "reason": "check",
            "mode": "original",
            "to": "zuid",
        },
        headers={"Origin": live.url, "Accept-Language": "en"},
    )
    assert answer.status == 422
    text = answer.text()
    assert "was made for noord (MSH-5/6)" in text and "--mode" not in text
    assert "map the event again" in text


def test_a_resend_made_since_the_preview_stops_resend_now_and_is_shown(
    page: Page, browser: Browser, live: LiveEngine
) -> None:
    """A stale page: Sam asked what would be sent, then a colleague resent the message (the
    GP phoned twice). *Resend now* on Sam's page sends nothing and shows the preview again,
    naming the colleague's resend; confirmed again, it resends."""
    original = live.submit(_referral())
    _preview(page, original)
    assert page.locator("#resent-already").count() == 0  # nothing resent yet
    bea = live.person("bea-stale@example.org", Grant(Role.RESEND))
    colleague = new_context(browser, live)
    try:
        other = colleague.new_page()
        open_session(other, live, bea)
        _preview(other, original)
        other.get_by_role("button", name="Resend now").click()
        other.wait_for_url(re.compile(r"/messages/(?!" + original + r")[0-9a-f-]+$"))
    finally:
        colleague.close()
    [theirs] = _resends(live, original)

    page.get_by_role("button", name="Resend now").click()
    page.locator("#resent-meanwhile").wait_for()
    assert "Nothing was sent" in page.locator("#resent-meanwhile").inner_text()
    listed = page.locator("#resent-already").inner_text()
    assert theirs.message_id[:8] in listed and "person:bea-stale@example.org" in listed
    assert len(_resends(live, original)) == 1
    screenshot(page, "resend-meanwhile")

    # Seen now: a second Resend now makes one more, as asked.
    page.get_by_role("button", name="Resend now").click()
    page.wait_for_url(re.compile(r"/messages/(?!" + original + r")[0-9a-f-]+$"))
    assert len(_resends(live, original)) == 2

    # A preview drawn after a resend lists it before anything is confirmed.
    _preview(page, original)
    assert "resent already, 2 times" in page.locator("#resent-already").inner_text()


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    token: str = json.loads(headers)["X-CSRF-Token"]
    return token
