"""``Store.zd_history``: the accepted events of some ZD numbers, identifiers only, oldest first,
read with one indexed query however many numbers a batch has (up to 500), on both backends.
Intake reads it once per batch to warn about events that do not fit (``integrator.zd_sequence``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event

from integrator.store import Store
from integrator.store.records import ZdEvent
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message


def seen_statements(store: Store) -> tuple[list[tuple[str, Any]], Any]:
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        statements.append((sql, params))

    return statements, seen


async def test_each_number_gets_its_events_oldest_first_and_unknown_numbers_none(
    store: Store,
) -> None:
    later = make_event(zd_number="ZD100000001", action="cancel", received_at=T0 + timedelta(1))
    first = make_event(zd_number="ZD100000001", received_at=T0)
    lab = make_event(zd_number="ZD100000001", type="diagnostic_request", received_at=T0)
    other = make_event(zd_number="ZD100000002", received_at=T0)
    unasked = make_event(zd_number="ZD100000003", received_at=T0)
    # Stored out of order: the answer follows received_at (then the id), not the insert.
    assert all(
        await store.accept_events(
            [(later, [make_message()]), (first, []), (lab, []), (other, []), (unasked, [])]
        )
    )

    found = await store.zd_history(["ZD100000001", "ZD100000002", "ZD999999999", "ZD100000001"])

    first_two = sorted([first, lab], key=lambda e: e.id)  # same time: by id
    assert found == {
        "ZD100000001": [ZdEvent(e.id, e.type, e.action) for e in [*first_two, later]],
        "ZD100000002": [ZdEvent(other.id, "referral", "new")],
    }
    assert await store.zd_history([]) == {}


async def test_a_batch_is_one_query_on_the_zd_number_index(store: Store, site: Site) -> None:
    numbers = [f"ZD{300000000 + i:09d}" for i in range(200)]
    await store.accept_events([(make_event(zd_number=n), []) for n in numbers[::50]])
    statements, seen = seen_statements(store)
    sync_engine = store._engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        found = await store.zd_history(numbers)
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)

    assert sorted(found) == numbers[::50]
    assert len(statements) == 1
    [(sql, params)] = statements
    async with store._engine.connect() as conn:
        if site.backend == "postgresql":
            # Four rows are too few for the planner to prefer an index unless told to.
            await conn.exec_driver_sql("SET enable_seqscan = off")
        prefix = "EXPLAIN QUERY PLAN " if site.backend == "sqlite" else "EXPLAIN "
        plan = " ".join(str(row[-1]) for row in await conn.exec_driver_sql(prefix + sql, params))
    assert "ix_events_zd_number" in plan, plan
    assert "SCAN events" not in plan and "Seq Scan" not in plan, plan


async def test_more_than_500_numbers_are_read_in_chunks_and_kept_in_order(store: Store) -> None:
    numbers = [f"ZD{400000000 + i:09d}" for i in range(501)]
    last = numbers[-1]
    new = make_event(zd_number=last, received_at=T0)
    cancel = make_event(zd_number=last, action="cancel", received_at=T0 + timedelta(seconds=1))
    head = make_event(zd_number=numbers[0])
    await store.accept_events([(cancel, []), (new, []), (head, [])])

    found = await store.zd_history(numbers)

    assert found == {
        numbers[0]: [ZdEvent(head.id, "referral", "new")],
        last: [ZdEvent(new.id, "referral", "new"), ZdEvent(cancel.id, "referral", "cancel")],
    }
