"""Delivery attempts are stored with the message's new state, in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrator.store import AttemptRecord, MessageRecord, Store, UnknownMessage
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock, new_id
from tests.store.helpers import row_counts, stored_message


def _attempt(message_id: str, number: int, outcome: str, **extra: object) -> AttemptRecord:
    return AttemptRecord(
        message_id=message_id,
        number=number,
        started_at=T0 + timedelta(seconds=number),
        duration_ms=12.5 * number,
        outcome=outcome,
        **extra,  # type: ignore[arg-type]
    )


async def test_record_attempt_stores_it_and_updates_the_message(
    store: Store, clock: StepClock
) -> None:
    message = await stored_message(store)
    retry_at = T0 + timedelta(minutes=2)
    nack = b"MSH|^~\\&|HIS|ZNOORD|||20261120||ACK|a1|P|2.5.1\rMSA|AE|x|busy\r"

    await store.record_attempt(
        _attempt(message.id, 1, "retry", ack_code="AE", ack_bytes=nack, error="AE: busy"),
        status="retrying",
        next_attempt_at=retry_at,
        last_error="AE: busy",
    )

    after = await store.get_message(message.id)
    assert after is not None
    assert after.status == "retrying"
    assert after.attempt_count == 1
    assert after.next_attempt_at == retry_at
    assert after.last_error == "AE: busy"
    assert after.updated_at == clock.now > message.updated_at
    [attempt] = await store.list_attempts(message.id)
    assert attempt == _attempt(
        message.id, 1, "retry", ack_code="AE", ack_bytes=nack, error="AE: busy"
    )

    await store.record_attempt(
        _attempt(message.id, 2, "delivered", ack_code="AA", ack_bytes=b"MSA|AA|x\r"),
        status="delivered",
    )
    delivered = await store.get_message(message.id)
    assert delivered is not None
    assert (delivered.status, delivered.attempt_count) == ("delivered", 2)
    assert delivered.next_attempt_at is None
    assert delivered.last_error is None
    assert [a.number for a in await store.list_attempts(message.id)] == [1, 2]


async def test_attempt_without_ack_keeps_nulls(store: Store) -> None:
    message = await stored_message(store)
    await store.record_attempt(
        _attempt(message.id, 1, "failed", error="no ACK within 30s"), status="retrying"
    )
    [attempt] = await store.list_attempts(message.id)
    assert attempt.ack_code is None
    assert attempt.ack_bytes is None
    assert attempt.error == "no ACK within 30s"
    assert attempt.duration_ms == 12.5


async def test_attempt_for_an_unknown_message_writes_nothing(store: Store, site: Site) -> None:
    await stored_message(store)
    before = await row_counts(site)
    missing = new_id()

    with pytest.raises(UnknownMessage) as caught:
        await store.record_attempt(_attempt(missing, 1, "failed"), status="retrying")
    assert missing in str(caught.value)

    assert await row_counts(site) == before


async def test_record_attempts_batch_in_one_transaction(store: Store, site: Site) -> None:
    first, second = await stored_message(store), await stored_message(store)
    later = T0 + timedelta(minutes=5)

    await store.record_attempts(
        [
            (_attempt(first.id, 1, "failed", error="refused"), "retrying", later, "refused"),
            (_attempt(second.id, 1, "delivered", ack_code="CA"), "delivered", None, None),
            (_attempt(first.id, 2, "deadletter", ack_code="AR"), "dead", None, "AR"),
        ]
    )

    done_first, done_second = await store.get_message(first.id), await store.get_message(second.id)
    assert done_first is not None
    assert done_second is not None
    assert (done_first.status, done_first.attempt_count, done_first.last_error) == ("dead", 2, "AR")
    assert (done_second.status, done_second.attempt_count) == ("delivered", 1)
    assert len(await store.list_attempts(first.id)) == 2

    before = await row_counts(site)
    with pytest.raises(UnknownMessage):
        await store.record_attempts(
            [
                (_attempt(second.id, 2, "delivered"), "delivered", None, None),
                (_attempt(new_id(), 1, "failed"), "retrying", None, None),
            ]
        )
    assert await row_counts(site) == before
    unchanged = await store.get_message(second.id)
    assert unchanged is not None
    assert unchanged.attempt_count == 1
    await store.record_attempts([])


async def _closed_by_a_person(store: Store, status: str) -> MessageRecord:
    """A message that was on the wire when a person closed it: an attempt under way, then the
    destination removed from another process (dead) or that dead letter discarded."""
    message = await stored_message(store)
    await store.record_attempts([(_attempt(message.id, 1, "failed"), "retrying", None, "down")])
    await store.set_status_audited(
        [message.id],
        status,
        last_error="removed by ops",
        actor="ops",
        action="destination.remove",
        target=message.destination_id,
    )
    closed = await store.get_message(message.id)
    assert closed is not None
    return closed


@pytest.mark.parametrize("closed_as", ["dead", "cancelled"])
@pytest.mark.parametrize("one_by_one", [False, True], ids=["batch", "single"])
async def test_a_late_failed_attempt_leaves_a_closed_message_closed(
    store: Store, closed_as: str, one_by_one: bool
) -> None:
    closed = await _closed_by_a_person(store, closed_as)
    later = T0 + timedelta(minutes=5)
    outcomes = [("retrying", later, "no ACK within 30s"), ("dead", None, "AR: refused")]

    for number, (status, wake, error) in enumerate(outcomes, 2):
        attempt = _attempt(closed.id, number, "failed", error=error)
        if one_by_one:
            await store.record_attempt(
                attempt, status=status, next_attempt_at=wake, last_error=error
            )
        else:
            await store.record_attempts([(attempt, status, wake, error)])

    after = await store.get_message(closed.id)
    assert after is not None
    assert (after.status, after.last_error, after.next_attempt_at) == (
        closed_as,
        "removed by ops",
        None,
    )
    # The attempts themselves are history: counted and kept.
    assert after.attempt_count == 3
    assert [a.number for a in await store.list_attempts(closed.id)] == [1, 2, 3]


async def test_a_late_delivery_says_delivered_even_after_a_person_closed_it(
    store: Store,
) -> None:
    """It reached the hospital: left dead, someone would resend what arrived."""
    closed = await _closed_by_a_person(store, "dead")
    await store.record_attempts(
        [(_attempt(closed.id, 2, "delivered", ack_code="AA"), "delivered", None, None)]
    )
    after = await store.get_message(closed.id)
    assert after is not None
    assert (after.status, after.last_error, after.attempt_count) == ("delivered", None, 2)


async def test_set_status_moves_a_message(store: Store, clock: StepClock) -> None:
    message = await stored_message(store)
    wake = T0 + timedelta(hours=1)

    await store.set_status(message.id, "held", last_error="ref-v1 retired", next_attempt_at=wake)
    held = await store.get_message(message.id)
    assert held is not None
    assert (held.status, held.last_error, held.next_attempt_at) == ("held", "ref-v1 retired", wake)
    assert held.updated_at == clock.now

    await store.set_status(message.id, "queued")
    queued = await store.get_message(message.id)
    assert queued is not None
    assert (queued.status, queued.last_error, queued.next_attempt_at) == ("queued", None, None)


async def test_set_status_refuses_unknown_messages_and_statuses(store: Store) -> None:
    message = await stored_message(store)
    with pytest.raises(UnknownMessage):
        await store.set_status(new_id(), "queued")
    with pytest.raises(ValueError, match="not a valid MessageStatus"):
        await store.set_status(message.id, "lost")
    with pytest.raises(ValueError, match="not a valid AttemptOutcome"):
        _attempt(message.id, 1, "exploded")
    unchanged = await store.get_message(message.id)
    assert unchanged is not None
    assert unchanged.status == "queued"


async def test_attempts_of_many_messages_are_each_ones_oldest_first(store: Store) -> None:
    """``attempts_of`` answers for many messages what ``list_attempts`` answers for one, also
    past a chunk of 500 ids and for a message never tried (the dead letters listings)."""
    tried = [await stored_message(store) for _ in range(3)]
    for message in tried:
        for number, outcome in ((1, "failed"), (2, "retry"), (3, "deadletter")):
            await store.record_attempt(
                _attempt(message.id, number, outcome, ack_code="AR" if number == 3 else None),
                status="dead" if number == 3 else "retrying",
            )
    untried = await stored_message(store)
    unknown = [new_id() for _ in range(600)]  # more ids than one query takes
    asked = [tried[2].id, untried.id, *unknown, tried[0].id, tried[1].id]

    found = await store.attempts_of(asked)

    assert list(found) == asked
    for message in tried:
        assert found[message.id] == await store.list_attempts(message.id)
        assert [a.number for a in found[message.id]] == [1, 2, 3]
    assert found[untried.id] == [] and all(found[i] == [] for i in unknown)


@pytest.mark.parametrize("path", ["one", "batch"])
async def test_a_receivers_nul_is_stored_as_its_symbol(store: Store, path: str) -> None:
    """A receiver's ACK text is quoted in the attempt's error as sent; a NUL in it, which
    PostgreSQL keeps in no text column, made the row unwritable there, and the recorder tried
    it again every second while every destination's delivery waited."""
    message = await stored_message(store)
    nack = b"MSH|^~\\&|HIS|ZNOORD|||20261120||ACK|a1|P|2.5.1\rMSA|AE|x|bad\x00value\r"
    said = "ACK AE: bad\x00value \ud800"
    attempt = _attempt(message.id, 1, "retry", ack_code="AE", ack_bytes=nack, error=said)
    retry_at = T0 + timedelta(minutes=2)
    if path == "one":
        await store.record_attempt(
            attempt, status="retrying", next_attempt_at=retry_at, last_error=said
        )
    else:
        await store.record_attempts([(attempt, "retrying", retry_at, said)])

    shown = "ACK AE: bad\u2400value \ufffd"
    after = await store.get_message(message.id)
    assert after is not None
    assert (after.status, after.attempt_count, after.last_error) == ("retrying", 1, shown)
    [stored] = await store.list_attempts(message.id)
    assert stored.error == shown
    assert stored.ack_bytes == nack  # the ACK itself as received, NUL and all
