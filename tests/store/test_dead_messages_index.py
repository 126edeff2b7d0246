"""The open dead letter count reads the dead messages from their own index, not their rows.

``open_dead_letter_counts`` is asked by the dashboard (and its figures, every 5 s), the
destinations listings and the dead letters page. It found the dead on ``(status, seq)`` and
read each one's row for its destination, family root and id: on PostgreSQL 22,000 table pages
for 30,000 dead letters among a million messages (bench/results/at-scale.md). Revision 0033's
partial index over the dead messages holds those columns, so the count is an index-only scan.
"""

from __future__ import annotations

import asyncio
from typing import Any

from integrator.store import Store
from tests.store.conftest import Site
from tests.store.helpers import plan_of, statements_sent, two_destinations_history

HISTORY = 2000


async def _history(store: Store) -> None:
    """Mostly delivered messages, one in 20 dead; the planner told of them (``VACUUM
    ANALYZE``, as autovacuum would)."""
    vacuum = "VACUUM" if store._engine.dialect.name == "sqlite" else "VACUUM ANALYZE"
    await two_destinations_history(
        store, lambda n: "dead" if n % 20 == 0 else "delivered", HISTORY, vacuum
    )


async def _all_visible(store: Store) -> None:
    """PostgreSQL: vacuum until every page of ``messages`` is marked all-visible, which an
    index-only scan needs to be chosen. A transaction open elsewhere in the database (another
    test's, in its own schema) holds back what VACUUM may mark, and the planner then took a
    bitmap scan of the table (a CI run under load met it): that says nothing of the index."""
    async with store._engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(100):
            row = (
                (
                    await auto.exec_driver_sql(
                        "SELECT relpages, relallvisible FROM pg_class"
                        " WHERE oid = 'messages'::regclass"
                    )
                )
                .mappings()
                .one()
            )
            pages, visible = int(row["relpages"]), int(row["relallvisible"])
            if visible >= pages:
                return
            await asyncio.sleep(0.1)
            await auto.exec_driver_sql("VACUUM ANALYZE messages")
    raise AssertionError(f"messages: {visible} of {pages} pages all-visible after 10 s of VACUUM")


async def _statement(store: Store) -> tuple[str, Any]:
    with statements_sent(store) as statements:
        counts = await store.open_dead_letter_counts()
    assert counts == {"noord": HISTORY // 20}  # every 20th is even: noord's
    [statement] = statements
    return statement


async def test_the_open_dead_letter_count_reads_no_message_row(store: Store, site: Site) -> None:
    """SQLite: the dead are searched in the covering index (no read of the table for them).
    PostgreSQL: an index-only scan of it, and no heap page read for the dead."""
    await _history(store)
    if site.backend != "sqlite":
        await _all_visible(store)
    plan = await plan_of(store, await _statement(store), "ANALYZE, BUFFERS")
    if site.backend == "sqlite":
        assert "USING COVERING INDEX ix_messages_dead" in plan, plan
        return
    assert "Index Only Scan using ix_messages_dead" in plan, plan
    assert "Heap Blocks" not in plan and "Seq Scan" not in plan, plan
