"""``Store.oldest_waiting_at``: when a destination's oldest waiting message was made, the
dashboard's "oldest waiting", asked for every tile at every refresh of every open dashboard.
It must be the first message ``pending_messages`` gives, whichever waiting status it is in (on
both backends), and on SQLite cost one ``(destination_id, status, seq)`` index look-up per
status, in one statement: the first of ``pending_messages(dest, limit=1)`` walked the
destination's ``(destination_id, seq)`` index past every delivered message (EXPLAIN QUERY
PLAN), 25-34 ms a tile at 50,000 messages (``bench/bench_dashboard_refresh.py``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from integrator.store import Store
from integrator.store.tables import messages
from tests.store.conftest import postgres_site
from tests.store.factories import StepClock, make_event, make_message
from tests.store.helpers import statements_sent

STATUS_INDEX = "ix_messages_destination_id_status_seq"
HISTORY = 1000


async def add(store: Store, destination_id: str, status: str) -> str:
    message = make_message(destination_id=destination_id)
    await store.accept_event(make_event(), [message])
    if status != "queued":
        await store.set_status(message.id, status)
    return message.id


async def first_pending_at(store: Store, destination_id: str) -> object:
    first = await store.pending_messages(destination_id, limit=1)
    return first[0].created_at if first else None


async def test_the_oldest_is_the_first_waiting_in_any_status(store: Store) -> None:
    assert await store.oldest_waiting_at("noord") is None
    await add(store, "noord", "delivered")  # older, but done
    await add(store, "zuid", "queued")  # older, but another destination's
    assert await store.oldest_waiting_at("noord") is None

    queued = await add(store, "noord", "queued")
    retrying = await add(store, "noord", "retrying")
    await add(store, "noord", "queued")
    [oldest] = await store.get_messages([queued])
    assert await store.oldest_waiting_at("noord") == oldest.created_at

    # Delivered: the oldest now waits out a retry, older than the queued one after it.
    await store.set_status(queued, "delivered")
    [oldest] = await store.get_messages([retrying])
    assert await store.oldest_waiting_at("noord") == oldest.created_at
    assert await first_pending_at(store, "noord") == oldest.created_at
    await store.set_status(retrying, "sending")  # on its way: still waiting
    assert await store.oldest_waiting_at("noord") == oldest.created_at
    await store.set_status(retrying, "dead")  # given up: no longer owed
    assert await store.oldest_waiting_at("noord") == await first_pending_at(store, "noord")
    assert await store.oldest_waiting_at("noord") is not None


async def test_each_status_is_one_lookup_on_the_status_index(tmp_path: Path) -> None:
    """On SQLite, the engine's default store (on PostgreSQL the planner chooses by its estimate
    of a destination's messages in a status: see ``integrator.store.oldest_waiting``)."""
    store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}", clock=StepClock())
    try:
        await history(store)
        for status in ("queued", "retrying", "delivered"):
            await add(store, "noord", status)
        plan = await plan_of(store)
    finally:
        await store.close()
    reads = [step for step in plan if " messages" in step]
    # Queued, sending, retrying: each one look-up on the status index, no other read of the
    # table (the sort that follows orders the three rows found, at most).
    assert len(reads) == 3, plan
    assert all(step.startswith(f"SEARCH messages USING INDEX {STATUS_INDEX} ") for step in reads)


async def history(store: Store) -> None:
    """Noord's delivered messages, and another destination's backlog in every waiting status;
    the planner told of them (``ANALYZE``)."""
    statuses = ("queued", "sending", "retrying")
    made = [make_message(destination_id="noord", status="delivered") for _ in range(HISTORY)]
    made += [make_message(destination_id="zuid", status=statuses[n % 3]) for n in range(HISTORY)]
    for start in range(0, len(made), 500):
        await store.accept_events([(make_event(), [m]) for m in made[start : start + 500]])
    async with store._engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")


async def statement_of(store: Store, destination_id: str) -> tuple[str, Any]:
    """The one statement ``oldest_waiting_at`` runs (each waiting status's first, the
    earliest), with the values it sent."""
    with statements_sent(store) as statements:
        await store.oldest_waiting_at(destination_id)
    [statement] = statements
    return statement


async def plan_of(store: Store) -> list[str]:
    """``EXPLAIN QUERY PLAN`` of the one statement ``oldest_waiting_at`` runs."""
    assert await store.oldest_waiting_at("noord") is not None
    sql, params = await statement_of(store, "noord")
    async with store._engine.connect() as conn:
        rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        return [str(row[-1]) for row in rows]


@pytest.mark.postgres
async def test_postgresql_reads_the_status_index_behind_a_long_history() -> None:
    """PostgreSQL takes a destination's messages as spread evenly over ``seq``, so with many
    waiting it expected a walk of ``uq_messages_seq`` to meet the first soon; here they all come
    after the other destination's history, and that walk read every row before them (55-100 ms
    a tile at 90,000 rows). Each branch must be a look-up that reads no row it throws away, for
    the destination with a backlog and for the one with none waiting, after ``ANALYZE``."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            made = [make_message(destination_id="noord", status="delivered") for _ in range(4000)]
            made += [make_message(destination_id="zuid", status="sending") for _ in range(2000)]
            for start in range(0, len(made), 1000):
                await store.accept_events([(make_event(), [m]) for m in made[start : start + 1000]])
            async with store._engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE messages")
            for destination_id in ("zuid", "noord"):
                plan = await postgres_plan_of(store, destination_id)
                assert "uq_messages_seq" not in plan and "Seq Scan" not in plan, plan
                # Rows read and thrown away: the walk removed the 4,000 before the first match.
                removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
                assert sum(removed) == 0, plan
            assert await store.oldest_waiting_at("zuid") is not None
            assert await store.oldest_waiting_at("noord") is None
        finally:
            await store.close()


@pytest.mark.postgres
async def test_postgresql_reads_no_more_of_a_destinations_history_than_it_answers() -> None:
    """Each branch one look-up on a status index: no index scan reads more than the one entry
    it answers with, none throws rows away, and none goes through the destination's history.
    Many destinations, each with its delivered history and a few retrying one message, as a
    dashboard's tiles meet them: with the destination written as a range, PostgreSQL put
    every entry of the destination's ``(destination_id, seq)`` index in a bitmap for
    ``retrying``, its whole history at every refresh."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            ids = [f"d{n:03}" for n in range(200)]
            made = [make_message(destination_id=ids[n % 200]) for n in range(10000)]
            for start in range(0, len(made), 1000):
                await store.accept_events([(make_event(), [m]) for m in made[start : start + 1000]])
            async with store._engine.begin() as conn:  # delivered, as delivery leaves them
                await conn.execute(update(messages).values(status="delivered"))
            retrying = [make_message(destination_id=d, status="retrying") for d in ids[::10]]
            await store.accept_events([(make_event(), [m]) for m in retrying])
            async with store._engine.connect() as conn:
                done = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await done.exec_driver_sql("VACUUM ANALYZE messages")
            for destination_id in ("d000", "d001", "oost"):
                plan = await postgres_plan_of(store, destination_id)
                scans = [line for line in plan.splitlines() if "Index Scan" in line]
                assert len(scans) == 3, plan
                read = [int(n) for line in scans for n in re.findall(r"actual .* rows=(\d+)", line)]
                assert max(read) <= 1, plan
                assert "Bitmap" not in plan and "Rows Removed by Filter" not in plan, plan
            assert await store.oldest_waiting_at("d000") is not None
            assert await store.oldest_waiting_at("d001") is None
        finally:
            await store.close()


async def postgres_plan_of(store: Store, destination_id: str) -> str:
    """``EXPLAIN ANALYZE`` of the statement ``oldest_waiting_at`` runs, with the values it sent
    (a custom plan, as the refresh gets)."""
    sql, params = await statement_of(store, destination_id)
    async with store._engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch("EXPLAIN ANALYZE " + sql, *params)
    return "\n".join(str(row[0]) for row in rows)
