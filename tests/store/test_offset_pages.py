"""A page asked by ``offset`` (``GET /api/v1/messages?offset=…``) is the listing's slice, and the
events are looked up for that page's messages only.

The listing joins each message's event (its ZD number and type). Joined before the offset was
taken, every skipped message cost a look-up in the events table: on PostgreSQL 2.5 s for
``offset=500000`` of a million messages (``bench/results/at-scale.md``), where choosing the page
among the messages alone and joining its hundred rows takes milliseconds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from integrator.store import MessageFilter, MessageRecord, Store
from tests.store.conftest import postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message


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


async def _statement(store: Store, flt: MessageFilter, offset: int) -> tuple[str, Any]:
    """The one statement of ``list_messages(flt, limit=20, offset=offset)``, with its values."""
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        statements.append((sql, params))

    sync_engine = store._engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        assert len(await store.list_messages(flt, limit=20, offset=offset)) == 20
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    [statement] = statements
    return statement


@pytest.mark.postgres
async def test_postgresql_looks_up_the_events_of_the_page_only() -> None:
    """After ``ANALYZE``, ``EXPLAIN ANALYZE`` of a page deep in 3,000 messages (no terms, and
    a destination's) reads at most the page's 20 events, by look-up or by scan."""
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
            for flt, offset in (
                (MessageFilter(), 2500),
                (MessageFilter(destination_id="noord"), 1200),
            ):
                sql, params = await _statement(store, flt, offset)
                async with store._engine.connect() as conn:
                    raw = (await conn.get_raw_connection()).driver_connection
                    assert raw is not None
                    rows = await raw.fetch("EXPLAIN ANALYZE " + sql, *params)
                plan = [str(row[0]) for row in rows]
                read = [
                    int(rows_) * int(loops)
                    for line in plan
                    if " on events" in line
                    for rows_, loops in re.findall(r"actual time=\S+ rows=(\d+) loops=(\d+)", line)
                ]
                assert read and sum(read) <= 20, "\n".join(plan)
        finally:
            await store.close()
