"""Support finds messages by every term and by a short id; workers find what is owed, oldest
first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrator.store import (
    MessageFilter,
    MessageRecord,
    NewMessage,
    NotFound,
    Store,
    UnknownMessage,
)
from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix, UnknownIdPrefix, bounds
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


async def test_pending_messages_among_ids_are_the_pending_ones_oldest_first(
    store: Store, stored: list[NewMessage]
) -> None:
    await store.set_status(stored[0].id, "delivered")
    await store.set_status(stored[5].id, "held")
    asked = [stored[4].id, stored[0].id, stored[5].id, stored[1].id, "no-such-id"]
    assert _ids(await store.pending_messages(ids=asked)) == [stored[1].id, stored[4].id]
    assert _ids(await store.pending_messages("zuid", ids=asked)) == [stored[1].id, stored[4].id]
    assert _ids(await store.pending_messages("noord", ids=asked)) == []
    assert _ids(await store.pending_messages(ids=asked, limit=1)) == [stored[1].id]
    assert await store.pending_messages(ids=[]) == []


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


# -- ids as people type them: whole, or a prefix only one id has ------------------------------


async def _with_ids(store: Store, *ids: str) -> None:
    await store.accept_event(make_event(), [make_message(id=i) for i in ids])


async def test_an_id_is_found_whole_in_any_case_with_or_without_dashes(store: Store) -> None:
    full = "3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012"
    await _with_ids(store, full, "3f2a9c1f-0000-4000-8000-000000000000")
    assert await store.resolve_message_id(full) == full
    assert await store.resolve_message_id(f" {full.upper()} ") == full
    assert await store.resolve_message_id(full.replace("-", "")) == full


async def test_a_unique_prefix_finds_its_message(store: Store) -> None:
    ids = ("3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012", "3f2a9c1f-0000-4000-8000-000000000000")
    await _with_ids(store, *ids)
    assert await store.resolve_message_id("3f2a9c1e") == ids[0]
    assert await store.resolve_message_id("3F2A9C1F") == ids[1]
    assert await store.resolve_message_id("3f2a9c1e4b") == ids[0]  # the dash may be left out
    assert await store.resolve_message_id("3f2a9c1e-4b7d-") == ids[0]
    # A prefix ending in 9 or f: its range ends at the next hex digit, not at ':' or 'g'.
    await _with_ids(store, "7e59aaaa-0000-4000-8000-000000000000")
    await _with_ids(store, "7e5faaaa-0000-4000-8000-000000000000")
    assert (await store.resolve_message_id("7e59")).startswith("7e59")
    assert (await store.resolve_message_id("7e5f")).startswith("7e5f")


async def test_an_ambiguous_prefix_lists_its_candidates(store: Store) -> None:
    ids = sorted(f"abcd{n:04x}-0000-4000-8000-000000000000" for n in range(12))
    pair = ["abce0000-0000-4000-8000-000000000000", "abce0001-0000-4000-8000-000000000000"]
    await _with_ids(store, *ids, *pair)
    with pytest.raises(AmbiguousIdPrefix) as two:
        await store.resolve_message_id("abce000")
    assert two.value.candidates == tuple(pair)
    assert str(two.value) == (
        "message id abce000 is ambiguous: 2 messages have an id starting so "
        f"({pair[0]}, {pair[1]}); give more characters"
    )
    with pytest.raises(AmbiguousIdPrefix) as many:
        await store.resolve_message_id("ABCD")
    assert many.value.candidates == tuple(ids[:10])
    assert "more than 10" in str(many.value) and ids[10] not in str(many.value)
    assert many.value.exit_code == 2


async def test_an_unknown_or_too_short_prefix_is_refused(store: Store) -> None:
    await _with_ids(store, "3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012")
    with pytest.raises(UnknownIdPrefix, match=r"no message with id starting with 3f2b$"):
        await store.resolve_message_id("3f2b")
    with pytest.raises(BadIdPrefix, match="at least 4 characters"):
        await store.resolve_message_id("3f2")
    with pytest.raises(
        UnknownMessage, match=r"no message has that id \(not an id, not repeated"
    ) as no:
        await store.resolve_message_id("nope")
    assert "nope" not in str(no.value)
    with pytest.raises(UnknownMessage) as name:
        await store.resolve_message_id("Jan van der Berg")
    assert "Jan" not in str(name.value) and "Berg" not in str(name.value)
    with pytest.raises(UnknownIdPrefix) as born:  # hex digits and dashes, not a UUID's groups
        await store.resolve_message_id("1970-01-31")
    assert "1970" not in str(born.value) and "not an id" in str(born.value)


@pytest.mark.parametrize("typed", ["19610412", "120461", "0612345678", "06-12345678"])
async def test_a_date_of_birth_or_phone_typed_as_an_id_is_not_repeated(
    store: Store, typed: str
) -> None:
    """A date of birth as PID-7 shows it (``messages show`` prints it) is hex digits, so it
    was repeated: ``no message with id starting with 19610412``."""
    await _with_ids(store, "3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012")
    with pytest.raises(NotFound) as refused:
        await store.resolve_message_id(typed)
    assert typed not in str(refused.value) and typed[-4:] not in str(refused.value)
    assert "not repeated here" in str(refused.value)


async def test_a_short_prefix_of_digits_is_still_named(store: Store) -> None:
    await _with_ids(store, "3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012")
    with pytest.raises(UnknownIdPrefix, match=r"no message with id starting with 12345$"):
        await store.resolve_message_id("12345")


async def test_a_short_event_prefix_is_refused_in_plain_english(store: Store) -> None:
    with pytest.raises(BadIdPrefix, match=r"^an event id needs at least 4 characters"):
        await store.resolve_event_id("3f2")
    with pytest.raises(BadIdPrefix, match=r"^a message id needs at least 4 characters"):
        await store.resolve_message_id("3f2")


@pytest.mark.parametrize("typed", ["999990019", "999 990 019", "999.990.019"])
async def test_a_bsn_typed_as_an_id_is_not_repeated_in_the_error(store: Store, typed: str) -> None:
    await _with_ids(store, "3f2a9c1e-4b7d-4e21-9a0b-5c6d7e8f9012")
    with pytest.raises(NotFound) as refused:
        await store.resolve_message_id(typed)
    assert "990" not in str(refused.value) and "BSN" in str(refused.value)


def test_the_range_of_a_prefix_stays_within_the_hex_digits() -> None:
    assert bounds("3f29") == ("3f29", "3f2a")
    assert bounds("3f2a") == ("3f2a", "3f2b")
    assert bounds("3f2f") == ("3f2f", "3f2g")


async def test_an_event_is_found_by_a_unique_prefix_of_its_id(store: Store) -> None:
    first, second = (
        make_event(id="abcd1111-0000-4000-8000-000000000000"),
        make_event(id="abcd2222-0000-4000-8000-000000000000"),
    )
    for event in (first, second):
        await store.accept_event(event, [])
    assert await store.resolve_event_id("ABCD1111") == first.id
    assert await store.resolve_event_id("abcd2222000040008") == second.id
    with pytest.raises(AmbiguousIdPrefix, match="2 events have an id starting so"):
        await store.resolve_event_id("abcd")
    with pytest.raises(UnknownIdPrefix, match=r"no event with id starting with abce$"):
        await store.resolve_event_id("abce")
