"""A page asked by ``offset`` (``GET /api/v1/messages?offset=…``, ``/events?offset=…``) is the
listing's slice, and what is read beside the rows is read for that page's rows only.

The messages listing joins each message's event (its ZD number and type), the events listing
counts each event's messages. Done before the offset was taken, every skipped row cost a
look-up too: on PostgreSQL 2.5 s for ``offset=500000`` of a million messages and 4.6 s of a
million events (``bench/results/at-scale.md``), where choosing the page among the rows alone
and then joining or counting for its hundred takes milliseconds to a few hundred.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from integrator.store import MessageFilter, MessageRecord, Store
from integrator.store.records import EventFilter
from tests.store.conftest import postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message
from tests.store.helpers import statements_sent


def _ids(records: list[MessageRecord]) -> list[str]:
    return [record.id for record in records]


async def test_an_offset_page_is_the_slice_of_the_whole_listing(store: Store) -> None:
    """Every filter kind: none, the messages' own terms, a period (ordered by creation time),
    a term of the events (joined to choose the page), the unresolved dead letters; and a
    keyset (``after``) beside the offset."""
    made = []
    for n in range(12):
        message = make_message(destination_id=("noord", "zuid")[n % 2])
        await store.accept_event(make_event(zd_number=f"ZD10000000{n % 3}"), [message])
        made.append(message)
    for message in made[::3]:
        await store.set_status(message.id, "dead", last_error="AR")
    everything = await store.list_messages(limit=100)
    filters = [
        MessageFilter(),
        MessageFilter(destination_id="noord"),
        MessageFilter(status="dead"),
        MessageFilter(since=everything[9].created_at, until=everything[1].created_at),
        MessageFilter(zd_number="ZD100000001"),
        MessageFilter(unresolved_only=True, status="dead"),
    ]
    for flt in filters:
        whole = _ids(await store.list_messages(flt, limit=100))
        assert whole, flt
        for offset in range(len(whole) + 1):
            for payloads in (True, False):
                page = await store.list_messages(flt, limit=3, offset=offset, payloads=payloads)
                assert _ids(page) == whole[offset : offset + 3], (flt, offset)
        after = await store.list_messages(flt, limit=100)
        for offset in range(len(whole)):
            page = await store.list_messages(flt, limit=2, offset=offset, after=after[0])
            assert _ids(page) == whole[1 + offset : 3 + offset], (flt, offset)
    paged = await store.list_messages(limit=3, offset=4)
    assert paged == everything[4:7]  # whole records: the event's fields and the payload too


async def test_an_offset_page_of_events_is_the_slice_of_the_whole_listing(store: Store) -> None:
    """Every term kind: none, the events' own, unrouted (no message), a destination's (an
    EXISTS on the messages); either order; and a keyset (``after``) beside the offset."""
    for n in range(10):
        stored = make_event(zd_number=f"ZD10000000{n % 3}", received_at=T0 + timedelta(minutes=n))
        routes = [] if n % 4 == 3 else [make_message(destination_id=("noord", "zuid")[n % 2])]
        if n % 5 == 0:
            routes.append(make_message(destination_id="west"))
        await store.accept_event(stored, routes)
    filters = [
        EventFilter(),
        EventFilter(zd_number="ZD100000001"),
        EventFilter(unrouted=True),
        EventFilter(destination_ids=frozenset({"noord", "west"})),
    ]
    for flt in filters:
        for oldest_first in (False, True):
            whole = await store.list_events(flt, limit=100, oldest_first=oldest_first)
            assert whole, flt
            for offset in range(len(whole) + 1):
                page = await store.list_events(
                    flt, limit=3, offset=offset, oldest_first=oldest_first
                )
                assert page == whole[offset : offset + 3], (flt, oldest_first, offset)
                after = await store.list_events(
                    flt, limit=2, offset=offset, oldest_first=oldest_first, after=whole[0]
                )
                assert after == whole[1 + offset : 3 + offset], (flt, oldest_first, offset)
    counted = [(e.zd_number, e.message_count) for e in await store.list_events(offset=1, limit=2)]
    assert counted == [("ZD100000002", 1), ("ZD100000001", 0)]  # minutes 8 and 7


async def _statement(store: Store, listing: Any) -> tuple[str, Any]:
    """The one statement ``listing()`` runs (a page of 20), with its values."""
    with statements_sent(store) as statements:
        assert len(await listing()) == 20
    [statement] = statements
    return statement


async def _rows_read(store: Store, listing: Any, table: str) -> tuple[int, str]:
    """``EXPLAIN ANALYZE`` of ``listing``'s statement: the rows its scans of ``table`` read
    (rows times loops, summed), and the plan."""
    sql, params = await _statement(store, listing)
    async with store._engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch("EXPLAIN ANALYZE " + sql, *params)
    plan = [str(row[0]) for row in rows]
    read = [
        int(found) * int(loops)
        for line in plan
        if f" on {table}" in line
        for found, loops in re.findall(r"actual time=\S+ rows=(\d+) loops=(\d+)", line)
    ]
    assert read, "\n".join(plan)
    return sum(read), "\n".join(plan)


@pytest.mark.postgres
async def test_postgresql_reads_beside_the_page_for_its_rows_only() -> None:
    """After ``ANALYZE``, ``EXPLAIN ANALYZE`` of a page deep in 3,000 messages (no terms, and
    a destination's) reads at most the page's 20 events, by look-up or by scan; of a page deep
    in their 3,000 events (either order), at most the page's 20 messages."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            batch = []
            for n in range(3000):
                message = make_message(destination_id=("noord", "zuid")[n % 2])
                batch.append((make_event(received_at=T0 + timedelta(seconds=n)), [message]))
                if len(batch) == 500:
                    await store.accept_events(batch)
                    batch = []
            async with store._engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
            pages = ((MessageFilter(), 2500), (MessageFilter(destination_id="noord"), 1200))
            for flt, offset in pages:

                async def messages_page(flt: MessageFilter = flt, offset: int = offset) -> Any:
                    return await store.list_messages(flt, limit=20, offset=offset)

                read, plan = await _rows_read(store, messages_page, "events")
                assert read <= 20, plan
            for oldest_first in (False, True):

                async def events_page(oldest_first: bool = oldest_first) -> Any:
                    return await store.list_events(limit=20, offset=2500, oldest_first=oldest_first)

                read, plan = await _rows_read(store, events_page, "messages")
                assert read <= 20, plan
        finally:
            await store.close()
