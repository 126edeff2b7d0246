"""Dead letters in the console, in Dutch, as support staff meet them: the attempt a message died
at does not promise a retry; nothing is ticked until a person ticks it, and an empty selection
is refused in words on the list; the confirmation's button counts what it will do and calls a
dead letter another one stands for *weggelaten*, as the CLI says *left out*."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from deadletter import ResendRequest, select_dead_letters
from integrator.access import Grant, Role
from integrator.resending import resend_in_engine
from tests.conftest import load_sample
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

GIVE_UP_AFTER = 3


@pytest.fixture
def page(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    context = new_context(browser, live, lang="nl")
    try:
        yield context.new_page()
    finally:
        context.close()


def referral() -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    return event


def dead_letter(live: LiveEngine, answer: str = "AR") -> str:
    """A message to ``noord`` that dies of ``answer``; its id."""
    receiver = live.receivers["noord"]
    receiver.ack_code = answer
    try:
        message_id = live.submit(referral())
    finally:
        receiver.ack_code = "AA"
    status = live.call(live.engine.store.get_message(message_id))
    assert status is not None and status.status == "dead"
    return message_id


def resent_and_died_again(live: LiveEngine, original: str) -> str:
    """A resend of the dead letter ``original`` that died too (the receiver still said AR);
    the id of the new dead letter."""

    async def resend() -> str:
        selection = await select_dead_letters(live.engine.store, message_ids=[original])
        request = ResendRequest(reason="receiver said it was fixed", actor="test")
        [result] = await resend_in_engine(live.engine, selection, request)
        assert result.message is not None
        assert await live.engine.wait_settled(timeout=20)
        return result.message.id

    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        return live.call(resend())
    finally:
        receiver.ack_code = "AA"


def row_of(table: Locator, message_id: str) -> Locator:
    """The row about ``message_id`` (its first cell; another row's note may name it too)."""
    return table.get_by_role("row", name=re.compile(rf"^{message_id[:8]} "))


def group_of(page: Page, message_id: str) -> Locator:
    return page.locator("section.group").filter(has=page.locator(f"#pick-{message_id}"))


def test_the_attempt_a_message_died_at_does_not_say_it_will_be_retried(
    browser: Browser, live: LiveEngine
) -> None:
    """Negative ACKs until the retries run out: attempts 1 and 2 were retried, attempt 3 is
    where the engine gave up, for a viewer and for support staff (who read it through the
    API's message detail) alike."""
    fast = {"initial": "20ms", "multiplier": 2, "max_delay": "50ms"}
    live.call(
        live.engine.admin.patch(
            "noord", {"retry": {**fast, "max_attempts": GIVE_UP_AFTER}}, actor="test"
        )
    )
    message_id = dead_letter(live, "AE")
    viewer = live.person("vera.nl@example.org", Grant(Role.VIEWER, "CARD"))
    support = live.person("sanne.nl@example.org", Grant(Role.RESEND, "CARD"))
    for person in (viewer, support):
        context = new_context(browser, live, lang="nl")
        page = context.new_page()
        try:
            open_session(page, live, person)
            page.goto(f"/messages/{message_id}")
            attempts = page.locator("#timeline li").filter(has_text="Poging")
            texts = attempts.all_inner_texts()
            assert len(texts) == GIVE_UP_AFTER, texts
            assert all("wordt opnieuw geprobeerd" in t for t in texts[:-1]), texts
            last = texts[-1]
            assert f"Poging {GIVE_UP_AFTER}: mislukt, opgegeven (onbestelbaar)" in last, last
            assert "wordt opnieuw geprobeerd" not in last
            # Why, in Dutch too (``integrator.console.delivery_text``).
            assert f"opgegeven na {GIVE_UP_AFTER} pogingen" in last
            screenshot(page, f"message-dead-timeline-nl-{person.email.split('.')[0]}")
        finally:
            context.close()


def test_nothing_is_ticked_and_an_empty_selection_is_refused(page: Page, live: LiveEngine) -> None:
    support = live.person("sem.nl@example.org", Grant(Role.RESEND, "CARD"))
    first, second = dead_letter(live), dead_letter(live)
    open_session(page, live, support)
    page.goto("/deadletters")
    group = group_of(page, first)
    boxes = group.get_by_role("checkbox", name=re.compile(r"^Bericht .* kiezen$"))
    assert boxes.count() >= 2
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    # A group's controls are named with the group, so a list of the page's controls tells
    # one group's "close" from another's (each group has the same three).
    title = " ".join(group.locator("h2").inner_text().split())
    for role, name in (
        ("button", "Gekozen berichten afsluiten…"),
        ("checkbox", "Alles in deze groep kiezen"),
    ):
        named = group.get_by_role(role, name=f"{name} {title}", exact=True)  # type: ignore[arg-type]
        assert named.count() == 1, (name, title)
    screenshot(page, "deadletters-nothing-ticked-nl")

    # One click on "close" with nothing ticked selects nothing: refused, in words, on the list
    # itself (its groups still there to tick), not on a page of its own.
    group.get_by_role("button", name="Gekozen berichten afsluiten…").click()
    problem = page.locator("#dead-problem")
    problem.wait_for()
    assert "er is niets gekozen" in problem.inner_text()
    # Said where a screen reader hears it: the refusal has the focus (it holds no field to
    # mark), and the page's title says it was refused.
    assert page.evaluate("document.activeElement.id") == "dead-problem"
    assert page.title().startswith("Geweigerd: "), page.title()
    assert "vink minstens één onbestelbaar bericht aan" in problem.inner_text()
    assert page.get_by_role("button", name=re.compile(r"afsluiten$")).count() == 0
    assert page.locator(f"#pick-{first}").is_visible()
    screenshot(page, "deadletters-nothing-selected-nl")
    for message_id in (first, second):
        found = live.call(live.engine.store.get_message(message_id))
        assert found is not None and found.status == "dead"  # nothing was closed

    # "Select all in this group" ticks the whole group; unticking one unticks "all".
    page.goto("/deadletters")
    group = group_of(page, first)
    boxes = group.get_by_role("checkbox", name=re.compile(r"^Bericht .* kiezen$"))
    whole = group.get_by_label("Alles in deze groep kiezen")
    whole.check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    group.get_by_label(f"Bericht {second[:8]} kiezen").uncheck()
    assert not whole.is_checked()
    group.get_by_label(f"Bericht {second[:8]} kiezen").check()
    assert whole.is_checked()
    total = boxes.count()
    group.get_by_role("button", name="Gekozen berichten afsluiten…").click()
    count = page.locator("#confirm-count").inner_text()
    assert total > 1
    assert count.startswith(f"{total} berichten gekozen"), count
    page.get_by_role("button", name=f"{total} berichten afsluiten").wait_for()


def test_the_confirmation_counts_what_would_be_resent_and_names_what_is_left_out(
    page: Page, live: LiveEngine
) -> None:
    """A dead letter and its resend that died too are one message: of the two ticked, one
    would be resent, the button says so, and the other is *weggelaten* (not *overgeslagen*),
    in the dry run and in what the resend did."""
    support = live.person("saar.nl@example.org", Grant(Role.RESEND, "CARD"))
    original = dead_letter(live)
    again = resent_and_died_again(live, original)
    open_session(page, live, support)
    page.goto("/deadletters")
    group = group_of(page, original)
    for message_id in (original, again):
        group.get_by_label(f"Bericht {message_id[:8]} kiezen").check()
    group.get_by_role("button", name="Gekozen berichten herzenden…").click()
    count = page.locator("#confirm-count").inner_text()
    assert "2 berichten gekozen; 1 zou herzonden worden" in count, count
    assert page.get_by_role("button", name="2 berichten herzenden").count() == 0
    assert "weggelaten" in row_of(page.locator("main"), original).inner_text()
    assert "overgeslagen" not in page.locator("main").inner_text()
    screenshot(page, "deadletters-confirm-left-out-nl")

    page.get_by_label("Reden (verplicht; komt in de audittrail)").fill("ontvanger is hersteld")
    page.get_by_role("button", name="1 bericht herzenden").click()
    done = page.locator("#done-results")
    done.wait_for()
    assert "weggelaten" in row_of(done, original).inner_text()
    assert "herzonden" in row_of(done, again).inner_text()
    assert live.call(live.engine.wait_settled(timeout=20))
    actions = [a for a, _ in live.audit_actions(f"person:{support.email}")]
    assert actions.count("message.resend") == 1


def test_a_discard_a_colleague_did_first_says_nothing_was_discarded(
    page: Page, browser: Browser, live: LiveEngine
) -> None:
    """Two colleagues open the discard of the same dead letter; the first discards it. The
    second's result does not say *Afgesloten* over a row that was skipped: it says that
    nothing was discarded, and why is beside the letter."""
    first = live.person("dirk.nl@example.org", Grant(Role.RESEND, "CARD"))
    second = live.person("fleur.nl@example.org", Grant(Role.RESEND, "CARD"))
    letter = dead_letter(live)
    open_session(page, live, first)
    other_context = new_context(browser, live, lang="nl")
    try:
        other = other_context.new_page()
        open_session(other, live, second)
        for each in (page, other):
            each.goto("/deadletters")
            group_of(each, letter).get_by_label(f"Bericht {letter[:8]} kiezen").check()
            group_of(each, letter).get_by_role(
                "button", name="Gekozen berichten afsluiten…"
            ).click()
            each.get_by_label("Reden (verplicht; komt in de audittrail)").fill("GP trok in")
        for each in (page, other):
            each.get_by_role("button", name="1 bericht afsluiten").click()
            each.locator("#done-results").wait_for()
        assert page.locator("h1").inner_text() == "Afgesloten"
        assert page.locator("#done-none").count() == 0
        assert other.locator("h1").inner_text() == "Niets afgesloten"
        assert (
            "Geen van de gekozen berichten is afgesloten"
            in other.locator("#done-none").inner_text()
        )
        assert "overgeslagen" in row_of(other.locator("#done-results"), letter).inner_text()
        screenshot(other, "deadletters-done-none-nl")
    finally:
        other_context.close()
