"""The keysets an export reads its pages by (``list_messages(after=)``, ``list_events(after=)``,
``list_audit(before_id=)``): page after page, the listing's own order, each row once, also
where rows tie on the order's first column (an event's messages share their creation time;
events arrive at the same moment), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from integrator.store import MessageFilter, MessageRecord, Store
from integrator.store.records import AuditFilter, AuditRecord, EventFilter
from tests.store.factories import T0, make_event, make_message

T = TypeVar("T")


async def paged(read: Callable[[T | None], Awaitable[Sequence[T]]]) -> list[T]:
    """Every row ``read`` gives, two at a time, each page after the last row of the one before."""
    found: list[T] = []
    last: T | None = None
    while page := await read(last):
        found.extend(page)
        last = page[-1]
    return found


async def test_pages_of_messages_are_the_listing(store: Store) -> None:
    for _ in range(4):  # three messages made at one reading of the clock: ties on created_at
        await store.accept_event(make_event(), [make_message() for _ in range(3)])
    for flt in (MessageFilter(), MessageFilter(since=T0 - timedelta(days=1))):
        whole = await store.list_messages(flt, limit=100, payloads=False)

        async def page(
            after: MessageRecord | None, flt: MessageFilter = flt
        ) -> list[MessageRecord]:
            return await store.list_messages(flt, limit=2, payloads=False, after=after)

        pages = await paged(page)
        assert [m.id for m in pages] == [m.id for m in whole] and len(whole) == 12


async def test_pages_of_events_are_the_listing(store: Store) -> None:
    for _ in range(7):  # every event received at T0: the id breaks the tie
        await store.accept_event(make_event(), [make_message()])
    whole = await store.list_events(EventFilter(), limit=100)
    pages = await paged(lambda after: store.list_events(EventFilter(), limit=2, after=after))
    assert [e.id for e in pages] == [e.id for e in whole] and len(whole) == 7


async def test_pages_of_the_audit_trail_are_the_listing(store: Store) -> None:
    for n in range(7):
        await store.add_audit("local:tester", "test.entry", f"t{n}")
    whole = await store.list_audit(AuditFilter(), limit=100)

    async def page(after: AuditRecord | None) -> list[AuditRecord]:
        below = None if after is None else after.id
        return await store.list_audit(AuditFilter(), limit=2, before_id=below)

    assert [e.id for e in await paged(page)] == [e.id for e in whole]
    assert await store.count_audit(AuditFilter(), at_most=3) == 3
    assert await store.count_audit(AuditFilter(target="t1")) == 1
