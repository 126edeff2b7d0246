"""Support finds messages by every term; workers find what is still owed, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrator.store import MessageFilter, MessageRecord, NewMessage, Store
from tests.store.factories import StepClock, make_event, make_message


@pytest.fixture
async def stored(store: Store) -> list[NewMessage]:
    """Six messages over three events, two destinations, two versions; stored in this order."""
    plan = [
        ("ZD100000001", [("noord", "ref-v2"), ("zuid", "ref-v1")]),
        ("ZD100000002", [("noord", "ref-v2"), ("noord", "ref-v2")]),
        ("ZD100000003", [("zuid", "ref-v1"), ("noord", "ref-v2")]),
    ]
    sent: list[NewMessage] = []
    for zd_number, routes in plan:
        messages = [make_message(destination_id=d, version=v) for d, v in routes]
        await store.accept_event(make_event(zd_number=zd_number), messages)
        sent.extend(messages)
    return sent


def _ids(records: list[MessageRecord]) -> list[str]:
    return [record.id for record in records]


async def test_list_messages_is_newest_first(store: Store, stored: list[NewMessage]) -> None:
    assert _ids(await store.list_messages()) == [m.id for m in reversed(stored)]


async def test_limit_and_offset_page_through(store: Store, stored: list[NewMessage]) -> None:
    newest_first = [m.id for m in reversed(stored)]
    assert _ids(await store.list_messages(limit=2)) == newest_first[:2]
    assert _ids(await store.list_messages(limit=2, offset=2)) == newest_first[2:4]
    assert _ids(await store.list_messages(offset=6)) == []


async def test_each_filter_term(store: Store, stored: list[NewMessage]) -> None:
    def newest_first(*indexes: int) -> list[str]:
        return [stored[i].id for i in sorted(indexes, reverse=True)]

    noord = MessageFilter(destination_id="noord")
    assert _ids(await store.list_messages(noord)) == newest_first(0, 2, 3, 5)
    by_zd = MessageFilter(zd_number="ZD100000002")
    assert _ids(await store.list_messages(by_zd)) == newest_first(2, 3)
    by_version = MessageFilter(version="ref-v1")
    assert _ids(await store.list_messages(by_version)) == newest_first(1, 4)
    by_control = MessageFilter(control_id=stored[4].control_id)
    assert _ids(await store.list_messages(by_control)) == [stored[4].id]
    combined = MessageFilter(zd_number="ZD100000003", destination_id="noord")
    assert _ids(await store.list_messages(combined)) == [stored[5].id]
    assert await store.list_messages(MessageFilter(zd_number="ZD999999999")) == []

    first = await store.get_message(stored[0].id)
    assert first is not None
    by_event = MessageFilter(event_id=first.event_id)
    assert _ids(await store.list_messages(by_event)) == newest_first(0, 1)


async def test_status_filter(store: Store, stored: list[NewMessage]) -> None:
    await store.set_status(stored[1].id, "dead", last_error="AR")
    await store.set_status(stored[4].id, "dead", last_error="AR")
    dead = await store.list_messages(MessageFilter(status="dead"))
    assert _ids(dead) == [stored[4].id, stored[1].id]
    assert all(m.last_error == "AR" for m in dead)


async def test_time_window_is_since_inclusive_until_exclusive(
    store: Store, stored: list[NewMessage]
) -> None:
    created = {m.id: m.created_at for m in await store.list_messages()}
    # Each event's messages share one timestamp; the clock moves between events.
    second_event = created[stored[2].id]
    third_event = created[stored[4].id]
    assert second_event < third_event

    window = MessageFilter(since=second_event, until=third_event)
    assert _ids(await store.list_messages(window)) == [stored[3].id, stored[2].id]
    after = MessageFilter(since=third_event + timedelta(microseconds=1))
    assert await store.list_messages(after) == []


async def test_get_message_finds_one_or_none(store: Store, stored: list[NewMessage]) -> None:
    record = await store.get_message(stored[2].id)
    assert record is not None
    assert (record.id, record.zd_number, record.payload) == (
        stored[2].id,
        "ZD100000002",
        stored[2].payload,
    )
    assert await store.get_message("no-such-id") is None
    assert await store.get_event("no-such-id") is None


async def test_pending_messages_oldest_first_per_destination(
    store: Store, stored: list[NewMessage]
) -> None:
    await store.set_status(stored[0].id, "delivered")
    await store.set_status(stored[2].id, "sending")
    await store.set_status(stored[3].id, "retrying")
    await store.set_status(stored[5].id, "held")

    pending = await store.pending_messages()
    assert _ids(pending) == [m.id for i, m in enumerate(stored) if i not in (0, 5)]
    noord = await store.pending_messages("noord")
    assert _ids(noord) == [stored[2].id, stored[3].id]
    assert [m.status for m in noord] == ["sending", "retrying"]
    assert await store.pending_messages("elsewhere") == []
    assert _ids(await store.pending_messages(limit=2)) == [stored[1].id, stored[2].id]


async def test_count_by_status_has_every_status(
    store: Store, stored: list[NewMessage], clock: StepClock
) -> None:
    await store.set_status(stored[0].id, "delivered")
    await store.set_status(stored[1].id, "dead")

    assert await store.count_by_status() == {
        "queued": 4,
        "sending": 0,
        "delivered": 1,
        "retrying": 0,
        "held": 0,
        "dead": 1,
        "cancelled": 0,
    }
    zuid = await store.count_by_status("zuid")
    assert (zuid["queued"], zuid["dead"], sum(zuid.values())) == (1, 1, 2)
    assert sum((await store.count_by_status("elsewhere")).values()) == 0
