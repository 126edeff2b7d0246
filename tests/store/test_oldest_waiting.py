"""``Store.oldest_waiting``: when each destination's oldest waiting message was made, the
dashboard's "oldest waiting", asked for every tile at every refresh of every open dashboard. It
must be the first message ``pending_messages`` gives, whichever waiting status it is in (on both
backends), and cost one ``(destination_id, status, seq)`` index look-up per status and
destination, then the earliest row's by its ``seq``, in one statement for all the tiles: the
first of ``pending_messages(dest, limit=1)`` walked the destination's ``(destination_id, seq)``
index past every delivered message (EXPLAIN QUERY PLAN), 25-34 ms a tile at 50,000 messages
(``bench/bench_dashboard_refresh.py``)."""

from __future__ import annotations

import re
from datetime import datetime
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


async def oldest_at(store: Store, destination_id: str) -> datetime | None:
    """``Store.oldest_waiting`` of one destination."""
    return (await store.oldest_waiting([destination_id])).get(destination_id)


async def first_pending_at(store: Store, destination_id: str) -> object:
    first = await store.pending_messages(destination_id, limit=1)
    return first[0].created_at if first else None


async def test_the_oldest_is_the_first_waiting_in_any_status(store: Store) -> None:
    assert await oldest_at(store, "noord") is None
    await add(store, "noord", "delivered")  # older, but done
    await add(store, "zuid", "queued")  # older, but another destination's
    assert await oldest_at(store, "noord") is None

    queued = await add(store, "noord", "queued")
    retrying = await add(store, "noord", "retrying")
    await add(store, "noord", "queued")
    [oldest] = await store.get_messages([queued])
    assert await oldest_at(store, "noord") == oldest.created_at

    # Delivered: the oldest now waits out a retry, older than the queued one after it.
    await store.set_status(queued, "delivered")
    [oldest] = await store.get_messages([retrying])
    assert await oldest_at(store, "noord") == oldest.created_at
    assert await first_pending_at(store, "noord") == oldest.created_at
    await store.set_status(retrying, "sending")  # on its way: still waiting
    assert await oldest_at(store, "noord") == oldest.created_at
    await store.set_status(retrying, "dead")  # given up: no longer owed
    assert await oldest_at(store, "noord") == await first_pending_at(store, "noord")
    assert await oldest_at(store, "noord") is not None


async def test_every_tile_in_one_statement_as_each_alone(store: Store) -> None:
    """The dashboard asks for all its tiles at once: each destination's answer is the one it
    gets alone, those none waits for are left out, and 600 destinations (past SQLite's 500
    terms) are one statement."""
    assert await store.oldest_waiting([]) == {}
    await add(store, "noord", "delivered")
    await add(store, "zuid", "retrying")
    await add(store, "noord", "sending")
    await add(store, "west", "queued")
    await add(store, "zuid", "queued")
    ids = ["noord", "zuid", "west", "nowhere", *(f"d{n:03}" for n in range(600))]
    with statements_sent(store) as statements:
        together = await store.oldest_waiting(ids)
    assert len(statements) == 1
    assert set(together) == {"noord", "zuid", "west"}
    for destination_id in ids[:5]:  # the rest are as "nowhere" is
        alone = await store.oldest_waiting([destination_id])
        assert together.get(destination_id) == alone.get(destination_id)
        assert together.get(destination_id) == await first_pending_at(store, destination_id)


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
    searches = [step for step in plan if step.startswith("SEARCH ")]
    by_status = [step for step in searches if STATUS_INDEX in step]
    # Queued, sending, retrying: each one look-up on the status index; then the earliest
    # found read by its key; no other read of the table, no scan but of the ids asked about.
    assert len(by_status) == 3, plan
    assert all("(destination_id=? AND status=?)" in step for step in by_status), plan
    keyed = [step for step in searches if step not in by_status]
    assert all(step.endswith(("(seq=?)", "(id=?)", "(id=?) LEFT-JOIN")) for step in keyed), plan
    assert all(step.startswith("SCAN wanted ") for step in plan if step.startswith("SCAN")), plan


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
        await oldest_at(store, destination_id)
    [statement] = statements
    return statement


async def plan_of(store: Store) -> list[str]:
    """``EXPLAIN QUERY PLAN`` of the one statement ``oldest_waiting_at`` runs."""
    assert await oldest_at(store, "noord") is not None
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
                assert_status_lookups_then_the_row_by_seq(plan)
                # Rows read and thrown away: the walk removed the 4,000 before the first match.
                removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
                assert sum(removed) == 0, plan
            assert await oldest_at(store, "zuid") is not None
            assert await oldest_at(store, "noord") is None
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
                assert_status_lookups_then_the_row_by_seq(plan)
                scans = [line for line in plan.splitlines() if " Scan using " in line]
                read = [int(n) for line in scans for n in re.findall(r"actual .* rows=(\d+)", line)]
                assert len(read) == 4 and max(read) <= 1, plan
                assert "Bitmap" not in plan and "Rows Removed by Filter" not in plan, plan
            assert await oldest_at(store, "d000") is not None
            assert await oldest_at(store, "d001") is None
        finally:
            await store.close()


def assert_status_lookups_then_the_row_by_seq(plan: str) -> None:
    """A PostgreSQL plan of ``oldest_waiting``: each waiting status one index look-up that reads
    at most the one entry it answers with (on the status index; or, for a status no message is
    in, whichever index the planner finds as cheap: it reads nothing), and ``uq_messages_seq``
    used only to read the earliest found by its ``seq``, never walked to meet a destination's
    first waiting message."""
    lines = plan.splitlines()
    aliases = [f" on messages oldest_{status} " for status in ("queued", "sending", "retrying")]
    by_status = [line for line in lines if any(alias in line for alias in aliases)]
    assert len(by_status) == 3 and all("uq_messages_seq" not in line for line in by_status), plan
    read = [int(n) for line in by_status for n in re.findall(r"actual .* rows=(\d+) ", line)]
    assert max(read) <= 1, plan
    for line, found in zip(by_status, read, strict=True):
        assert found == 0 or f"using {STATUS_INDEX} " in line, plan
    by_seq = [n for n, line in enumerate(lines) if "using uq_messages_seq " in line]
    assert len(by_seq) == 1, plan
    assert "Index Cond: (seq = LEAST(" in lines[by_seq[0] + 1], plan
    assert "Seq Scan" not in plan and "Rows Removed by Filter" not in plan, plan


async def postgres_plan_of(store: Store, destination_id: str) -> str:
    """``EXPLAIN ANALYZE`` of the statement ``oldest_waiting_at`` runs, with the values it sent
    (a custom plan, as the refresh gets)."""
    sql, params = await statement_of(store, destination_id)
    async with store._engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch("EXPLAIN ANALYZE " + sql, *params)
    return "\n".join(str(row[0]) for row in rows)
