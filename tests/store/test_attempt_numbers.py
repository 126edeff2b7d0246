"""Each recorded attempt of a message has its own number, 1 to n, and ``attempt_count`` is n.

Two engines can send the same message: the broker gives it again to the other engine when it
restarts (or one engine's link is cut, or an engine frozen past the heartbeat wakes) while the
message is on the wire. Each engine numbers its attempt from the message as it received it
(``attempt_count + 1``), so both said "attempt #1": the history had two rows numbered 1 and the
message said one attempt after two. The store gives the second the next free number, and a late
attempt leaves a delivered message delivered.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from integrator.store import AttemptRecord, Store
from integrator.store.sealing import DataKey, Sealer
from tests.store.conftest import Site
from tests.store.factories import T0
from tests.store.helpers import raw_connection, stored_message
from tests.transport.helpers import eventually

NACK = b"MSH|^~\\&|HIS|ZNOORD|||20261120||ACK|a1|P|2.5.1\rMSA|AE|x|busy\r"


def _attempt(message_id: str, number: int, outcome: str, at_s: float) -> AttemptRecord:
    """Attempt ``number`` as an engine computed it, started ``at_s`` seconds after T0."""
    failed = outcome != "delivered"
    return AttemptRecord(
        message_id=message_id,
        number=number,
        started_at=T0 + timedelta(seconds=at_s),
        duration_ms=10.0,
        outcome=outcome,
        ack_code="AE" if failed else "AA",
        ack_bytes=NACK if failed else b"MSA|AA|x\r",
        error="AE: busy" if failed else None,
    )


_STATUS = {
    "delivered": "delivered",
    "retry": "retrying",
    "deadletter": "dead",
    "failed": "retrying",
}


def _update(attempt: AttemptRecord) -> tuple[AttemptRecord, str, None, str | None]:
    return (attempt, _STATUS[attempt.outcome], None, attempt.error)


async def _history(store: Store, message_id: str) -> list[tuple[int, str, float]]:
    return [
        (a.number, a.outcome, (a.started_at - T0).total_seconds())
        for a in await store.list_attempts(message_id)
    ]


async def _state(store: Store, message_id: str) -> tuple[str, int, str | None]:
    message = await store.get_message(message_id)
    assert message is not None
    return (message.status, message.attempt_count, message.last_error)


async def test_two_engines_attempt_one_each_get_numbers_one_and_two(store: Store) -> None:
    message = await stored_message(store)

    await store.record_attempts([_update(_attempt(message.id, 1, "retry", 1.0))])
    await store.record_attempts([_update(_attempt(message.id, 1, "delivered", 1.5))])

    assert await _history(store, message.id) == [(1, "retry", 1.0), (2, "delivered", 1.5)]
    assert await _state(store, message.id) == ("delivered", 2, None)
    # The engine that numbers the next attempt from attempt_count goes on from there.
    await store.record_attempts([_update(_attempt(message.id, 3, "retry", 9.0))])
    assert [n for n, _, _ in await _history(store, message.id)] == [1, 2, 3]


@pytest.mark.parametrize("late", ["retry", "deadletter", "failed"])
async def test_a_late_attempt_after_delivery_is_history_not_the_status(
    store: Store, late: str
) -> None:
    """The other engine's attempt, recorded after this one delivered the message: it went out
    on the wire, so it is in the history, numbered next; the message stays delivered."""
    message = await stored_message(store)

    await store.record_attempts([_update(_attempt(message.id, 1, "delivered", 1.0))])
    await store.record_attempts([_update(_attempt(message.id, 1, late, 0.5))])

    assert await _history(store, message.id) == [(1, "delivered", 1.0), (2, late, 0.5)]
    assert await _state(store, message.id) == ("delivered", 2, None)


async def test_a_late_delivery_after_a_dead_letter_says_delivered(store: Store) -> None:
    """A dead letter another engine's attempt delivered did reach the hospital (as for a
    person's close, ``late_records``): left dead, someone would resend what arrived."""
    message = await stored_message(store)

    await store.record_attempts([_update(_attempt(message.id, 1, "deadletter", 1.0))])
    await store.record_attempts([_update(_attempt(message.id, 1, "delivered", 0.5))])

    assert await _history(store, message.id) == [(1, "deadletter", 1.0), (2, "delivered", 0.5)]
    assert await _state(store, message.id) == ("delivered", 2, None)


async def test_one_batch_with_a_taken_number_and_others(store: Store) -> None:
    """A batch that holds a taken number is recorded whole, in order: the others as given."""
    taken, other = await stored_message(store), await stored_message(store)
    await store.record_attempts([_update(_attempt(taken.id, 1, "retry", 1.0))])

    await store.record_attempts(
        [
            _update(_attempt(other.id, 1, "retry", 2.0)),
            _update(_attempt(taken.id, 1, "retry", 2.5)),
            _update(_attempt(taken.id, 2, "delivered", 3.0)),  # this engine's retry of it
            _update(_attempt(other.id, 2, "delivered", 4.0)),
        ]
    )

    assert await _history(store, taken.id) == [
        (1, "retry", 1.0),
        (2, "retry", 2.5),
        (3, "delivered", 3.0),
    ]
    assert await _state(store, taken.id) == ("delivered", 3, None)
    assert await _history(store, other.id) == [(1, "retry", 2.0), (2, "delivered", 4.0)]
    assert await _state(store, other.id) == ("delivered", 2, None)


async def test_one_batch_that_gives_a_number_twice(store: Store) -> None:
    message = await stored_message(store)

    await store.record_attempts(
        [
            _update(_attempt(message.id, 1, "retry", 1.0)),
            _update(_attempt(message.id, 1, "delivered", 1.5)),
        ]
    )

    assert await _history(store, message.id) == [(1, "retry", 1.0), (2, "delivered", 1.5)]
    assert await _state(store, message.id) == ("delivered", 2, None)


async def test_a_renumbered_attempt_opens_under_its_new_number(site: Site) -> None:
    """The ACK and error are sealed with the attempt's number in their associated data: a
    renumbered attempt is sealed under the number it is stored with."""
    store = await site.open(sealer=Sealer([DataKey("k1", bytes(range(32)))]))
    try:
        message = await stored_message(store)
        await store.record_attempts([_update(_attempt(message.id, 1, "retry", 1.0))])
        await store.record_attempts([_update(_attempt(message.id, 1, "retry", 1.5))])
        first, second = await store.list_attempts(message.id)
    finally:
        await store.close()
    assert (first.number, second.number) == (1, 2)
    assert (second.ack_bytes, second.error) == (NACK, "AE: busy")


async def test_a_batch_written_again_is_not_recorded_twice(store: Store) -> None:
    """``again`` (a try after one whose commit answer was lost): an attempt stored already, also
    one stored under a number it was moved to, is passed over with its message's update."""
    message = await stored_message(store)
    await store.record_attempts([_update(_attempt(message.id, 1, "retry", 1.0))])
    batch = [
        _update(_attempt(message.id, 1, "retry", 1.5)),  # taken: stored as 2
        _update(_attempt(message.id, 2, "delivered", 3.0)),  # stored as 3
    ]

    await store.record_attempts(batch)
    await store.record_attempts(batch, again=True)
    await store.record_attempts(batch, again=True)

    assert await _history(store, message.id) == [
        (1, "retry", 1.0),
        (2, "retry", 1.5),
        (3, "delivered", 3.0),
    ]
    assert await _state(store, message.id) == ("delivered", 3, None)


@pytest.mark.postgres
async def test_two_engines_at_once_on_postgresql(store: Store, site: Site) -> None:
    """The other engine's write is under way (its transaction holds the message's row, and
    has stored attempt #1) when this one records its own #1: this one waits for it, and then
    numbers its attempt after it, though its statement began before the other's commit."""
    if site.backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    message = await stored_message(store)
    async with raw_connection(site) as other, raw_connection(site) as looking:
        await other.execute(
            text("UPDATE messages SET status = 'delivered', attempt_count = 1 WHERE id = :id"),
            {"id": message.id},
        )
        await other.execute(
            text(
                "INSERT INTO attempts (message_id, number, started_at, duration_ms, outcome) "
                "VALUES (:id, 1, :at, 10.0, 'delivered')"
            ),
            {"id": message.id, "at": T0 + timedelta(seconds=1)},
        )
        other_pid = (await other.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        recording = asyncio.create_task(
            store.record_attempts([_update(_attempt(message.id, 1, "retry", 0.5))])
        )

        async def waiting() -> bool:
            found = await looking.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :p = ANY(pg_blocking_pids(pid))"),
                {"p": other_pid},
            )
            await looking.rollback()
            return bool(found.scalar_one())

        assert await eventually(waiting)
        await other.commit()
        await asyncio.wait_for(recording, 10)

    assert await _history(store, message.id) == [(1, "delivered", 1.0), (2, "retry", 0.5)]
    assert await _state(store, message.id) == ("delivered", 2, None)
