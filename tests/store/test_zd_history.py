"""``Store.zd_history``: the accepted events of some ZD numbers, identifiers only, oldest first,
read with one indexed query however many numbers a batch has (up to 500), on both backends, on
the hot path's driver connection.
Intake has the same read made by ``Store.accept_events`` (its ``judge``) to warn about events
that do not fit (``integrator.zd_sequence``); on SQLite inside the accepting transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrator.store import Store
from integrator.store.pg_hot_writes import ZD_HISTORY_SQL as PG_SQL
from integrator.store.records import ZdEvent
from integrator.store.sqlite_hot_writes import ZD_HISTORY_SQL as SQLITE_SQL
from integrator.store.tables import events
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock, make_event, make_message
from tests.store.helpers import raw_connection, rows_read
from tests.store.test_hot_writes import stored_rows, two_sites


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


# This store's column statistics of ``events`` and the pages its last ANALYZE counted: none and
# 0 until the table is first analysed with rows in it (the planner then goes by its current
# pages and the width of its rows).
EVENTS_STATISTICS = (
    "SELECT (SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
    "AND tablename = 'events'), relpages FROM pg_class WHERE oid = 'events'::regclass"
)


@pytest.mark.fresh_schema
async def test_a_batch_is_one_query_on_the_zd_number_index(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the read is planned as a new store has it, with no statistics, and after
    ``ANALYZE``. The first is made sure of: a new schema, as an emptied one from the pool keeps
    the statistics an earlier test's ``ANALYZE`` left (every event of theirs on one ZD number:
    each look-up taken for the whole table and scanned for, 24 times), and no ``ANALYZE`` of
    ``events`` until that plan is read (another test's of the whole database, autovacuum's):
    this test holds the lock ``ANALYZE`` takes (inserts and reads go on beside it)."""
    numbers = [f"ZD{300000000 + i:09d}" for i in range(200)]
    async with raw_connection(site) as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if site.backend == "postgresql":
            analysis_held_off = raw.transaction()
            await analysis_held_off.start()
            await raw.execute("LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE")
        await store.accept_events([(make_event(zd_number=n), []) for n in numbers[::50]])
        queries: list[list[str]] = []
        hot_read = store._hot.zd_history

        async def counted(zd_numbers: list[str]) -> Any:
            queries.append(list(zd_numbers))
            return await hot_read(zd_numbers)

        monkeypatch.setattr(store._hot, "zd_history", counted)
        found = await store.zd_history(numbers)

        assert sorted(found) == numbers[::50]
        assert queries == [numbers]
        if site.backend == "sqlite":
            sql = "EXPLAIN QUERY PLAN " + SQLITE_SQL.format(", ".join("?" * len(numbers)))
            plan = " ".join(str(row[-1]) for row in await conn.exec_driver_sql(sql, tuple(numbers)))
        else:
            # A new store before autovacuum's first ANALYZE of ``events`` (as every benchmark's
            # database stays): 3,000 events and no statistics. Asked as ``zd_number = ANY($1)``,
            # the planner scanned them all and compared each with every number (twenty-first
            # session); each number is looked up on its own now, so what is read is what is
            # found (each number asked here has one event).
            filler = [make_event(zd_number=f"ZD{400000000 + i:09d}") for i in range(3_000)]
            for start in range(0, len(filler), 500):
                await store.accept_events([(e, []) for e in filler[start : start + 500]])
            asked = numbers[::50] + [e.zd_number for e in filler[::150]]
            for planner in ("no statistics", "ANALYZE events"):
                if planner == "no statistics":
                    assert tuple(await raw.fetchrow(EVENTS_STATISTICS)) == (0, 0)
                else:
                    await analysis_held_off.commit()
                    await raw.execute(planner)
                plan = "\n".join(
                    str(row[0]) for row in await raw.fetch("EXPLAIN ANALYZE " + PG_SQL, asked)
                )
                assert rows_read(plan, "events") == len(asked) == 24, plan
                assert "Rows Removed by Filter" not in plan, plan
                assert "ix_events_zd_number" in plan, plan
    assert "ix_events_zd_number" in plan, plan
    assert "SCAN events" not in plan and "Seq Scan" not in plan, plan


async def test_the_store_reads_what_the_plain_sqlalchemy_query_reads(
    store: Store, site: Site
) -> None:
    """The driver-level read against the plain form of the same query, kept here as the
    reference: the same events in the same order (received_at, then id)."""
    batch = [
        make_event(zd_number=f"ZD60000000{i % 3}", action=("new", "cancel")[i % 2],
                   received_at=T0 + timedelta(seconds=i % 4))
        for i in range(24)
    ]  # fmt: skip
    await store.accept_events([(event, []) for event in batch])
    numbers = ["ZD600000000", "ZD600000001", "ZD600000002", "ZD600000009"]
    reference: dict[str, list[ZdEvent]] = {}
    async with raw_connection(site) as conn:
        rows = await conn.execute(
            select(events.c.zd_number, events.c.id, events.c.type, events.c.action)
            .where(events.c.zd_number.in_(numbers))
            .order_by(events.c.received_at, events.c.id)
        )
        for zd_number, event_id, event_type, action in rows:
            reference.setdefault(zd_number, []).append(ZdEvent(event_id, event_type, action))

    assert await store.zd_history(numbers) == reference
    assert sum(len(found) for found in reference.values()) == 24


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


# -- a batch judged as it is accepted (``Store.accept_events``' judge) -------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_a_judged_batch_stores_what_its_messages_noted_beforehand_store(
    backend: str, tmp_path: Path
) -> None:
    """The judge is asked once, with the history of the batch's numbers as it was before the
    batch; its warnings go after each message's own, on the messages of its events only."""
    earlier = make_event(zd_number="ZD700000001", received_at=T0)
    noted = make_event(zd_number="ZD700000001", action="cancel")
    fits = make_event(zd_number="ZD700000002")
    own = ("mapped: a note of the mapping",)
    messages = {
        noted.id: [make_message(warnings=own), make_message()],
        fits.id: [make_message(warnings=own)],
    }
    asked: list[Mapping[str, Sequence[ZdEvent]]] = []

    def judge(history: Mapping[str, Sequence[ZdEvent]]) -> dict[str, tuple[str, ...]]:
        asked.append(history)
        return {noted.id: ("cancel_repeated: one", "new_repeated: two")}

    async with two_sites(backend, tmp_path) as (judged_site, reference_site):
        judged = await judged_site.open(StepClock())
        reference = await reference_site.open(StepClock())
        try:
            for store in (judged, reference):
                assert await store.accept_events([(earlier, [])]) == [True]
            batch = [(noted, messages[noted.id]), (fits, messages[fits.id]), (noted, [])]
            assert await judged.accept_events(batch, judge=judge) == [True, True, False]
            beforehand = [
                (noted, [replace(m, warnings=(*m.warnings, "cancel_repeated: one",
                                               "new_repeated: two")) for m in messages[noted.id]]),
                (fits, messages[fits.id]),
            ]  # fmt: skip
            assert await reference.accept_events(beforehand) == [True, True]
        finally:
            await judged.close()
            await reference.close()
        assert asked == [{"ZD700000001": [ZdEvent(earlier.id, "referral", "new")]}]
        judged_rows, reference_rows = (
            await stored_rows(judged_site),
            await stored_rows(reference_site),
        )
    assert len(judged_rows["messages"]) == 3
    assert judged_rows == reference_rows


async def test_a_judge_that_fails_leaves_the_batch_unstored(store: Store) -> None:
    def judge(history: Mapping[str, Sequence[ZdEvent]]) -> dict[str, tuple[str, ...]]:
        raise RuntimeError("the judge broke")

    event = make_event(zd_number="ZD700000003")
    with pytest.raises(RuntimeError, match="the judge broke"):
        await store.accept_events([(event, [make_message()])], judge=judge)
    assert await store.zd_history(["ZD700000003"]) == {}
    assert await store.accept_events([(event, [make_message()])]) == [True]  # nothing held


async def test_on_sqlite_the_history_is_read_inside_the_accepting_transaction(
    tmp_path: Path,
) -> None:
    """While the judge runs, the store holds SQLite's write lock: no other writer (another
    engine's process included) commits between the read and the insert."""
    path = tmp_path / "judged.db"
    store = await Site("sqlite", f"sqlite:///{path}").open(StepClock())
    locked: list[str] = []

    def judge(history: Mapping[str, Sequence[ZdEvent]]) -> dict[str, tuple[str, ...]]:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            locked.append(str(error))
        finally:
            other.close()
        return {}

    try:
        assert await store.accept_events([(make_event(), [])], judge=judge) == [True]
    finally:
        await store.close()
    assert locked == ["database is locked"]
