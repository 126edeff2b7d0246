"""The store's event queries and routed messages, on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from integrator.store import Store, UnknownEvent, bsn_hash
from integrator.store.records import ROUTE_ACTION, EventFilter, NewRouting
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message
from tests.store.helpers import row_counts

KEY = b"a-test-key-of-sufficient-length"


async def stored(store: Store, messages: int = 0, **event: object) -> str:
    record = make_event(**event)
    assert await store.accept_event(record, [make_message() for _ in range(messages)])
    return record.id


async def test_list_events_filters_counts_messages_and_orders_by_arrival(store: Store) -> None:
    old = await stored(store, provider_id="lab-west", received_at=T0)
    routed = await stored(store, messages=2, received_at=T0 + timedelta(hours=1))
    new = await stored(
        store,
        provider_id="lab-west",
        type="diagnostic_request",
        zd_number="ZD100000002",
        received_at=T0 + timedelta(hours=2),
        bsn_hash=bsn_hash("999990019", KEY),
    )

    everything = await store.list_events()
    assert [e.id for e in everything] == [new, routed, old]
    assert [e.message_count for e in everything] == [0, 2, 0]
    assert [e.unrouted for e in everything] == [True, False, True]
    oldest = await store.list_events(oldest_first=True, limit=2)
    assert [e.id for e in oldest] == [old, routed]

    def ids(flt: EventFilter) -> list[str]:
        return [e.id for e in found[flt]]

    filters = [
        EventFilter(unrouted=True),
        EventFilter(provider_id="lab-west"),
        EventFilter(event_type="diagnostic_request"),
        EventFilter(zd_number="ZD100000002"),
        EventFilter(bsn_hash=bsn_hash("999990019", KEY)),
        EventFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2)),
        EventFilter(event_ids=(old, routed)),
        EventFilter(provider_id="ziekenhuis-noord", unrouted=True),
    ]
    found = {flt: await store.list_events(flt) for flt in filters}
    assert ids(filters[0]) == [new, old]
    assert ids(filters[1]) == [new, old]
    assert ids(filters[2]) == [new]
    assert ids(filters[3]) == [new]
    assert ids(filters[4]) == [new]
    assert ids(filters[5]) == [routed]  # since inclusive, until not
    assert ids(filters[6]) == [routed, old]
    assert ids(filters[7]) == []


async def test_count_unrouted_events_groups_by_provider(store: Store) -> None:
    await stored(store, provider_id="lab-west")
    await stored(store, provider_id="lab-west", type="diagnostic_request")
    await stored(store, provider_id="ziekenhuis-zuid")
    await stored(store, messages=1, provider_id="ziekenhuis-noord")

    assert await store.count_unrouted_events() == {"lab-west": 2, "ziekenhuis-zuid": 1}
    assert await store.count_unrouted_events(provider_ids=["lab-west", "ziekenhuis-noord"]) == {
        "lab-west": 2
    }
    assert await store.count_unrouted_events(
        provider_ids=["lab-west"], event_types=["diagnostic_request"]
    ) == {"lab-west": 1}
    assert await store.count_unrouted_events(provider_ids=[]) == {}


async def test_get_events_and_routed_destinations(store: Store) -> None:
    bare = await stored(store)
    record = make_event()
    assert await store.accept_event(
        record,
        [make_message(destination_id="noord"), make_message(destination_id="zuid")],
    )
    unknown = "00000000-0000-4000-8000-000000000000"

    events = await store.get_events([bare, record.id, unknown])
    assert set(events) == {bare, record.id}
    assert events[record.id].payload == record.payload
    assert await store.routed_destinations([bare, record.id]) == {
        bare: set(),
        record.id: {"noord", "zuid"},
    }


async def test_routed_messages_are_stored_with_one_audit_entry_per_event(store: Store) -> None:
    first, second, third = [await stored(store) for _ in range(3)]
    noord, zuid = make_message(destination_id="noord"), make_message(destination_id="zuid")
    other = make_message(destination_id="noord")

    added = await store.add_routed_messages(
        [NewRouting(first, (noord, zuid)), NewRouting(second, (other,)), NewRouting(third, ())],
        actor="local:anna",
        reason="lab-west now served",
        details={"route_id": "r1"},
    )

    assert added == {noord.id, zuid.id, other.id}
    assert await store.count_unrouted_events() == {"ziekenhuis-noord": 1}  # the third
    stored_message = await store.get_message(noord.id)
    assert stored_message is not None and stored_message.status == "queued"
    assert stored_message.event_id == first and stored_message.resend_of is None
    [entry] = await store.list_audit(target=first)
    assert (entry.action, entry.actor, entry.reason) == (
        ROUTE_ACTION,
        "local:anna",
        "lab-west now served",
    )
    assert entry.details["route_id"] == "r1"
    assert {m["destination"] for m in entry.details["messages"]} == {"noord", "zuid"}
    assert await store.list_audit(target=third) == []


async def test_routing_twice_never_adds_a_second_message_for_a_destination(
    store: Store,
) -> None:
    event_id = await stored(store, messages=1)  # intake made one for ziekenhuis-noord
    again = make_message(destination_id="ziekenhuis-noord")
    twice = make_message(destination_id="lab")
    also_twice = make_message(destination_id="lab")

    added = await store.add_routed_messages(
        [NewRouting(event_id, (again, twice)), NewRouting(event_id, (also_twice,))],
        actor="a",
        reason="r",
    )

    assert added == {twice.id}
    assert await store.routed_destinations([event_id]) == {event_id: {"ziekenhuis-noord", "lab"}}
    assert (
        await store.add_routed_messages(
            [NewRouting(event_id, (make_message(destination_id="lab"),))], actor="a", reason="r"
        )
        == set()
    )
    [entry] = await store.list_audit(target=event_id)
    assert [m["message_id"] for m in entry.details["messages"]] == [twice.id]


async def test_two_routings_at_once_make_one_message(site: Site, store: Store) -> None:
    event_ids = [await stored(store) for _ in range(20)]
    others = [await site.open() for _ in range(2)]
    try:
        added = await asyncio.gather(
            *(
                other.add_routed_messages(
                    [NewRouting(e, (make_message(destination_id="noord"),)) for e in event_ids],
                    actor=f"actor-{n}",
                    reason="r",
                )
                for n, other in enumerate(others)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert sum(len(a) for a in added) == len(event_ids)
    routed = await store.routed_destinations(event_ids)
    assert all(destinations == {"noord"} for destinations in routed.values())
    counts = await store.list_events(EventFilter(event_ids=tuple(event_ids)), limit=100)
    assert {e.message_count for e in counts} == {1}
    audits = [await store.list_audit(target=e) for e in event_ids]
    assert all(len(a) == 1 for a in audits)


async def test_an_unknown_event_refuses_the_whole_chunk(site: Site, store: Store) -> None:
    known = await stored(store)
    before = await row_counts(site)
    with pytest.raises(UnknownEvent):
        await store.add_routed_messages(
            [
                NewRouting(known, (make_message(),)),
                NewRouting("00000000-0000-4000-8000-000000000000", (make_message(),)),
            ],
            actor="a",
            reason="r",
        )
    assert await row_counts(site) == before


async def test_a_scoped_listing_counts_only_the_messages_in_its_clusters(store: Store) -> None:
    """An event whose provider two clusters' destinations serve: someone who sees one of them
    was told "2 messages" in the listing, where the event's page showed one."""
    event = make_event()
    both = [make_message(destination_id="noord"), make_message(destination_id="lab-noord")]
    assert await store.accept_event(event, both)
    [whole] = await store.list_events()
    assert whole.message_count == 2
    [scoped] = await store.list_events(EventFilter(destination_ids=frozenset({"noord"})))
    assert (scoped.id, scoped.message_count) == (event.id, 1)
