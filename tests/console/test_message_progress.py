"""A message's page while the message is on its way: its status refresh brings every part of
the page that follows the delivery, not the badge alone. A retrying message that delivered
while its page was open said "delivered" beside *Attempts 1*, *Last error ACK AE*, a *Try now*
box waiting for an attempt already made and a timeline without it, until a reload.

Request by request against a real engine (no browser): the refresh is htmx swapping the
answer's elements by id (the badge in place, the others out of band), so each must be drawn as
a fresh page draws it. ``test_message_progress_browser`` watches it happen in a browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from deadletter import ResendRequest
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.resending import resend_in_engine
from integrator.store import AttemptRecord
from tests.console.started import noord_engine
from tests.console.test_dashboard_refresh import OOB, elements
from tests.console.test_saved_searches import signed_in
from tests.store.dead_families import dead_letter
from tests.store.factories import make_event, make_message

NEGATIVE = "ACK AE: try again later"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _attempt(engine: Engine, message_id: str, number: int, **recorded: object) -> None:
    outcome = "delivered" if recorded["status"] == "delivered" else "retry"
    attempt = AttemptRecord(
        message_id=message_id,
        number=number,
        started_at=engine.clock.now(),
        duration_ms=4.0,
        outcome=outcome,
        ack_code="AA" if outcome == "delivered" else "AE",
        error=None if outcome == "delivered" else NEGATIVE,
    )
    await engine.store.record_attempt(attempt, **recorded)  # type: ignore[arg-type]


def _element(page: str, ident: str) -> str:
    """The element with id ``ident``, from its start tag to the end of its kind's first closer
    (the parts are not nested in one of their own kind)."""
    found = re.search(rf'<(\w+)[^>]* id="{ident}"[^>]*>', page)
    assert found is not None, ident
    closer = f"</{found.group(1)}>"
    return page[found.start() : page.index(closer, found.start()) + len(closer)]


PARTS = ("message-attempts", "last-error-term", "last-error", "timeline", "try-now")


@pytest.mark.parametrize("grant", [Grant(Role.RESEND), Grant(Role.VIEWER, "CARD")], ids=str)
async def test_a_delivery_while_the_page_is_open_redraws_every_part_that_follows_it(
    engine: Engine, grant: Grant
) -> None:
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    later = engine.clock.now() + timedelta(minutes=5)
    await _attempt(
        engine, message.id, 1, status="retrying", next_attempt_at=later, last_error=NEGATIVE
    )
    async with signed_in(engine, "sam@example.org", grant) as sam:
        before = await sam.get(f"/messages/{message.id}")
        assert before.status_code == 200
        refresh = f"/messages/{message.id}/status?shown=retrying&amp;attempts=1"
        assert f'hx-get="{refresh}"' in before.text
        assert ">1</dd>" in _element(before.text, "message-attempts")
        assert "hidden" not in _element(before.text, "last-error")
        assert ("Try now" in before.text) is (grant.role is Role.RESEND)
        htmx = {"hx-request": "true"}
        status = f"/messages/{message.id}/status"
        unchanged = await sam.get(status, params={"shown": "retrying", "attempts": 1}, headers=htmx)
        assert unchanged.status_code == 204  # nothing changed: nothing swapped, nothing said

        await _attempt(engine, message.id, 2, status="delivered")
        after = await sam.get(status, params={"shown": "retrying", "attempts": 1}, headers=htmx)
        assert after.status_code == 200
        assert after.text.startswith('<span id="message-status" class="status-delivered">')
        assert "role=" not in after.text  # the page's region says it, once
        swapped = {k: v for k, v in elements(after.text).items() if OOB in v[1]}
        assert set(PARTS) <= set(swapped)
        assert "hidden" in swapped["last-error"][1]  # delivered: no last error any more
        assert "Attempt 2: delivered" in _element(after.text, "timeline")
        assert ">2</dd>" in _element(after.text, "message-attempts")
        assert "Try now" not in _element(after.text, "try-now")
        # Each part as a fresh page draws it now: the same element, attributes and content.
        fresh = (await sam.get(f"/messages/{message.id}")).text
        drawn = elements(fresh)
        for ident, (tag, attrs) in swapped.items():
            assert (tag, {k: v for k, v in attrs.items() if k != OOB}) == drawn[ident], ident
            assert _element(after.text, ident).replace(f' {OOB}="true"', "") == _element(
                fresh, ident
            ), ident
        # Delivered: the badge asks no more.
        assert "hx-get" not in _element(after.text, "message-status")


async def test_another_attempt_with_the_same_status_redraws_the_parts_too(engine: Engine) -> None:
    """Retrying after attempt 1, retrying after attempt 2: the status is the same, but the
    attempts, the timeline and when *Try now* waits for are not."""
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    later = engine.clock.now() + timedelta(minutes=5)
    await _attempt(
        engine, message.id, 1, status="retrying", next_attempt_at=later, last_error=NEGATIVE
    )
    async with signed_in(engine, "rob@example.org", Grant(Role.RESEND)) as rob:
        await _attempt(
            engine,
            message.id,
            2,
            status="retrying",
            next_attempt_at=later + timedelta(minutes=5),
            last_error=NEGATIVE,
        )
        status = f"/messages/{message.id}/status"
        after = await rob.get(status, params={"shown": "retrying", "attempts": 1})
        assert after.status_code == 200
        assert "Attempt 2: failed, will retry" in _element(after.text, "timeline")
        assert ">2</dd>" in _element(after.text, "message-attempts")
        assert "shown=retrying&amp;attempts=2" in _element(after.text, "message-status")


async def test_a_resend_of_the_original_bytes_is_not_said_to_be_mapped(engine: Engine) -> None:
    """The timeline of a resend in mode ``original`` said "Mapped as ref-v2 …" though nothing
    was mapped: its bytes, MSH-10 included, are the original's. The original was mapped."""
    original = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [original])
    await _attempt(engine, original.id, 1, status="delivered")
    delivered = await engine.store.get_message(original.id)
    assert delivered is not None
    ask = ResendRequest(reason="GP phoned", actor="test", mode="original")
    [result] = await resend_in_engine(engine, [delivered], ask)
    assert result.message is not None
    for grant in (Grant(Role.RESEND), Grant(Role.VIEWER, "CARD")):
        async with signed_in(engine, f"{grant.role.value}@example.org", grant) as reader:
            copied = await reader.get(f"/messages/{result.message.id}")
            mapped = await reader.get(f"/messages/{original.id}")
        line = _element(copied.text, "timeline-copied")
        assert "Made from the original&#39;s bytes, not mapped again" in line, grant
        assert f"MSH-10 {original.control_id}" in line
        assert "Mapped as" not in _element(copied.text, "timeline")
        assert "Mapped as" in _element(mapped.text, "timeline-mapped")
        assert 'id="timeline-copied"' not in mapped.text


def _note(page: str) -> str:
    """What the "· being resent / · resolved" note beside the status says, as a page draws it
    (not the out-of-band mark of a refresh); empty and hidden when there is nothing to say."""
    return _element(page, "dead-state").replace(f' {OOB}="true"', "")


@pytest.mark.parametrize(("then", "said"), [("delivered", "· resolved"), ("dead", "")])
async def test_a_dead_messages_note_follows_its_resend_while_the_page_is_open(
    engine: Engine, then: str, said: str
) -> None:
    """A dead message's page while a resend of it is on its way said "· being resent" until a
    reload, after the resend was delivered (resolved) or died too (open again). It asks for
    changes while the resend is on its way, and stops once nothing can change."""
    original = await dead_letter(engine.store, "ZD300000003", "retrying")
    _, [resend] = await engine.store.list_resends(original)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        before = await sam.get(f"/messages/{original}")
        assert before.status_code == 200
        assert "· being resent" in _note(before.text)
        asked = {"shown": "dead", "attempts": "0", "state": "resending"}
        status = f"/messages/{original}/status"
        assert f'hx-get="{status}?{"&amp;".join(f"{k}={v}" for k, v in asked.items())}"' in (
            _element(before.text, "message-status")
        )
        unchanged = await sam.get(status, params=asked, headers={"hx-request": "true"})
        assert unchanged.status_code == 204  # the resend still on its way: nothing said

        await engine.store.set_status(resend.message_id, then)
        after = await sam.get(status, params=asked, headers={"hx-request": "true"})
        assert after.status_code == 200
        assert f' {OOB}="true"' in _element(after.text, "dead-state")
        fresh = (await sam.get(f"/messages/{original}")).text
    assert _note(after.text) == _note(fresh)  # as a fresh page draws it
    assert ("hidden" in _note(fresh)) is (not said)
    assert said in _note(fresh) and "being resent" not in _note(fresh)
    # Resolved, or open with nothing on its way: nothing can change; the badge asks no more.
    assert "hx-get" not in _element(after.text, "message-status")
    assert "hx-get" not in _element(fresh, "message-status")


async def test_a_message_that_dies_while_its_page_is_open_gets_the_note_drawn_again(
    engine: Engine,
) -> None:
    """A retrying message dies while its page is open: the refresh that says "dead" draws the
    note beside it again too (empty and hidden while there is nothing to say, there to fill),
    as a reload draws it, and asks no more: a dead message with no resend on its way."""
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    later = engine.clock.now() + timedelta(minutes=5)
    await _attempt(
        engine, message.id, 1, status="retrying", next_attempt_at=later, last_error=NEGATIVE
    )
    async with signed_in(engine, "ria@example.org", Grant(Role.RESEND)) as ria:
        before = await ria.get(f"/messages/{message.id}")
        assert "hidden" in _note(before.text)  # not dead: nothing to say, but there to fill
        await engine.store.set_status(message.id, "dead")
        after = await ria.get(
            f"/messages/{message.id}/status", params={"shown": "retrying", "attempts": 1}
        )
        fresh = (await ria.get(f"/messages/{message.id}")).text
    assert after.status_code == 200
    assert after.text.startswith('<span id="message-status" class="status-dead">')
    assert f' {OOB}="true"' in _element(after.text, "dead-state")
    assert _note(after.text) == _note(fresh)
    assert "hx-get" not in _element(after.text, "message-status")
