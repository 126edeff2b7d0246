"""A prune's batch of messages is found by its ids, not by walking every final message.

``prune_messages`` empties a batch of (up to 500) messages in one write transaction. On an
embedded store, which has no planner statistics (the engine never runs ``ANALYZE``), SQLite
took ``status IN ('delivered', 'cancelled', 'dead')`` for the narrower look-up and walked the
status index over every final message: 0.45 s a batch on a store of a million messages, holding
SQLite's one write lock (intake and the attempt recorder waiting), and the daily prune of about
8,000 messages took 17 s instead of 5 (bench/results/at-scale.md, twentieth session).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from integrator.store import Store
from tests.store.conftest import Site
from tests.store.factories import T0
from tests.store.helpers import plan_of, rows_read, statements_sent, two_destinations_history

HISTORY: Final = 2000
BATCH: Final = 10
BY_ID: Final = re.compile(r"SEARCH messages USING \S*INDEX sqlite_autoindex_messages_1 \(id=\?\)")


async def test_a_prune_batch_finds_its_messages_by_their_ids(store: Store, site: Site) -> None:
    # The embedded store as the engine keeps it: no statistics. PostgreSQL's autovacuum
    # analyses a table this size by itself; here it is asked to.
    planner = "ANALYZE" if site.backend == "postgresql" else "SELECT 1"
    made = await two_destinations_history(store, lambda n: "delivered", HISTORY, planner)
    ids = [m.id for m in made[:BATCH]]

    with statements_sent(store) as statements:
        assert await store.prune_messages(ids, T0 + timedelta(days=400)) == BATCH

    [emptying] = [s for s in statements if re.match(r"\s*UPDATE messages\b", s[0])]
    plan = await plan_of(store, emptying)
    if site.backend == "sqlite":
        assert BY_ID.search(plan), plan
        # Found by id, not by status; a later member of its resend family by its own index.
        outer = [line for line in plan.splitlines() if "SEARCH messages" in line]
        assert not any("status" in line for line in outer), plan
        assert "SEARCH later USING INDEX ix_messages_family_root_status_seq" in plan, plan
    else:
        # Run again by EXPLAIN ANALYZE (it prunes nothing more): what it read of messages.
        assert rows_read(plan, "messages") <= 2 * BATCH, plan
    pruned = {m.id for m in await store.get_messages(ids) if m.pruned_at is not None}
    assert pruned == set(ids)
