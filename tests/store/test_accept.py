"""Accepting an event writes it and all its messages in one transaction, exactly once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrator.store import Conflict, MessageFilter, Store, UnknownEvent
from tests.store.conftest import Site
from tests.store.factories import StepClock, make_event, make_message, new_id
from tests.store.helpers import row_counts


async def test_a_payload_given_as_json_text_is_stored_and_read_back_as_the_dict(
    store: Store,
) -> None:
    payload = {"patient": {"name": {"family": "Jansen"}}, "note": "café ł", "n": [1, 2.5]}
    event = make_event(payload=json.dumps(payload, ensure_ascii=False))

    assert await store.accept_events([(event, [make_message()])]) == [True]

    stored = await store.get_event(event.id)
    assert stored is not None
    assert stored.payload == payload


async def test_accept_event_stores_the_event_and_every_message(
    store: Store, clock: StepClock
) -> None:
    event = make_event(type="diagnostic_request", zd_number="ZD100000002")
    sent = [
        make_message(destination_id="lab-a", warnings=("ł transliterated to l",)),
        make_message(destination_id="lab-b", is_test=True, status="held"),
    ]

    assert await store.accept_event(event, sent) is True

    assert await store.get_event(event.id) == event
    stored = await store.list_messages(MessageFilter(event_id=event.id))
    by_id = {message.id: message for message in stored}
    assert set(by_id) == {message.id for message in sent}
    for message in sent:
        record = by_id[message.id]
        assert record.event_id == event.id
        assert record.destination_id == message.destination_id
        assert record.payload == message.payload
        assert record.control_id == message.control_id
        assert record.status == message.status
        assert record.warnings == message.warnings
        assert record.is_test is message.is_test
        assert record.attempt_count == 0
        assert record.next_attempt_at is None
        assert record.last_error is None
        assert record.zd_number == "ZD100000002"
        assert record.event_type == "diagnostic_request"
        assert record.created_at == record.updated_at
        assert record.created_at.tzinfo is not None
        assert record.created_at <= clock.now
    assert by_id[sent[0].id].seq < by_id[sent[1].id].seq


async def test_timestamps_come_back_aware_utc_and_exact(store: Store) -> None:
    amsterdam = timezone(timedelta(hours=1))
    received = datetime(2026, 11, 20, 9, 15, 0, 654321, tzinfo=amsterdam)
    event = make_event(received_at=received)
    await store.accept_event(event, [])

    stored = await store.get_event(event.id)

    assert stored is not None
    assert stored.received_at == received
    assert stored.received_at.utcoffset() == timedelta(0)
    assert stored.received_at == datetime(2026, 11, 20, 8, 15, 0, 654321, tzinfo=UTC)


async def test_naive_times_are_refused(store: Store, site: Site) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.accept_event(make_event(received_at=datetime(2026, 1, 1)), [])
    assert (await row_counts(site))["events"] == 0


async def test_duplicate_event_id_returns_false_and_writes_nothing(
    store: Store, site: Site
) -> None:
    event = make_event()
    assert await store.accept_event(event, [make_message()])
    before = await row_counts(site)

    again = make_event(id=event.id, zd_number="ZD199999999", payload={"other": True})
    assert await store.accept_event(again, [make_message(), make_message()]) is False

    assert await row_counts(site) == before
    assert await store.get_event(event.id) == event


async def test_concurrent_accepts_of_one_event_id_accept_exactly_once(site: Site) -> None:
    # Two engines, as two processes would have, racing with several attempts each.
    first, second = await site.open(), await site.open()
    try:
        event_id = new_id()
        attempts = [
            (first if n % 2 else second).accept_event(
                make_event(id=event_id), [make_message(), make_message()]
            )
            for n in range(8)
        ]
        results = await asyncio.gather(*attempts)
    finally:
        await first.close()
        await second.close()

    assert sorted(results) == [False] * 7 + [True]
    counts = await row_counts(site)
    assert counts["events"] == 1
    assert counts["messages"] == 2


async def test_concurrent_writers_from_two_processes_all_succeed(site: Site) -> None:
    first, second = await site.open(), await site.open()
    try:
        writes = [
            (first if n % 2 else second).accept_event(
                make_event(), [make_message(), make_message()]
            )
            for n in range(20)
        ]
        results = await asyncio.gather(*writes)
        listed = await first.list_messages(limit=100)
    finally:
        await first.close()
        await second.close()

    assert results == [True] * 20
    seqs = [message.seq for message in listed]
    assert len(seqs) == 40
    assert len(set(seqs)) == 40


async def test_taken_control_id_rolls_back_the_whole_event(store: Store, site: Site) -> None:
    existing = make_message()
    await store.accept_event(make_event(), [existing])
    before = await row_counts(site)

    event = make_event()
    middle_clash = [make_message(), make_message(control_id=existing.control_id), make_message()]
    with pytest.raises(Conflict) as caught:
        await store.accept_event(event, middle_clash)

    assert caught.value.constraint is not None
    assert "control_id" in caught.value.constraint
    assert await row_counts(site) == before
    assert await store.get_event(event.id) is None


async def test_a_clash_within_one_event_writes_nothing(store: Store, site: Site) -> None:
    twin = make_message()
    with pytest.raises(Conflict):
        await store.accept_event(make_event(), [twin, make_message(control_id=twin.control_id)])
    assert set((await row_counts(site)).values()) == {0}


async def test_accept_events_batch_reports_each_item(store: Store) -> None:
    old = make_event()
    await store.accept_event(old, [make_message()])
    fresh_a, fresh_b = make_event(), make_event()
    batch = [
        (fresh_a, [make_message(), make_message()]),
        (old, [make_message()]),  # stored before
        (fresh_b, [make_message()]),
        (make_event(id=fresh_a.id), [make_message()]),  # repeated within the batch
    ]

    assert await store.accept_events(batch) == [True, False, True, False]

    assert len(await store.list_messages(MessageFilter(event_id=fresh_a.id))) == 2
    assert len(await store.list_messages(MessageFilter(event_id=fresh_b.id))) == 1
    assert len(await store.list_messages(MessageFilter(event_id=old.id))) == 1
    seqs = [message.seq for message in reversed(await store.list_messages())]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 4


async def test_accept_events_batch_is_all_or_nothing(store: Store, site: Site) -> None:
    clash = make_message()
    batch = [
        (make_event(), [make_message()]),
        (make_event(), [clash]),
        (make_event(), [make_message(control_id=clash.control_id)]),
        (make_event(), [make_message()]),
    ]
    with pytest.raises(Conflict):
        await store.accept_events(batch)
    assert set((await row_counts(site)).values()) == {0}
    assert await store.accept_events([]) == []


async def test_add_messages_to_a_stored_event(store: Store) -> None:
    event = make_event()
    await store.accept_event(event, [make_message()])
    resend = make_message(status="queued")

    await store.add_messages(event.id, [resend])

    listed = await store.list_messages(MessageFilter(event_id=event.id))
    assert next(message.id for message in listed) == resend.id
    with pytest.raises(UnknownEvent):
        await store.add_messages(new_id(), [make_message()])


def test_new_message_refuses_a_control_id_longer_than_twenty() -> None:
    with pytest.raises(ValueError, match="control_id"):
        make_message(control_id="X" * 21)
    with pytest.raises(ValueError, match="not a valid MessageStatus"):
        make_message(status="lost")
