"""How many messages each of many destinations has in each status, in one statement.

The destinations listing (``integrator destinations list``, ``GET /api/v1/destinations``, the
console's destinations page) shows every row's counts by status. Asked one destination at a
time (``Store.count_by_status``) that was one round trip a destination, 200 for 200
destinations, on every listing. Here one grouped statement counts them all, the destinations
given as one bound JSON array (``last_attempts.wanted_destinations``), each counted from its
entries of the ``(destination_id, status, seq)`` index: the same rows, the same counts.

The dashboard (its figures asked every 5 s by every open one) shows only what waits and what is
held: asked for those statuses alone, the statement reads their index entries only, not a
destination's whole delivered history (a million entries on a year-old store, 0.25-0.6 s on
PostgreSQL at every poll before).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.last_attempts import wanted_destinations
from integrator.store.records import MessageStatus
from integrator.store.tables import messages


class _StoreParts(Protocol):
    _engine: AsyncEngine


class StatusCountsMixin:
    @guarded("count messages")
    async def counts_by_status(
        self: _StoreParts,
        destination_ids: Sequence[str],
        statuses: Collection[MessageStatus] | None = None,
    ) -> dict[str, dict[str, int]]:
        """``count_by_status`` of each of ``destination_ids``: every status a key, zero
        included, also for a destination without messages. One statement for them all.

        ``statuses``: only these counted and keyed (every status when None)."""
        counted = list(MessageStatus) if statuses is None else list(statuses)
        counts = {d: {status.value: 0 for status in counted} for d in destination_ids}
        if not counts or not counted:
            return counts
        wanted = wanted_destinations(list(counts), self._engine.dialect.name)
        query = (
            select(messages.c.destination_id, messages.c.status, func.count())
            .where(messages.c.destination_id.in_(select(wanted.c.value)))
            .group_by(messages.c.destination_id, messages.c.status)
        )
        if statuses is not None:
            query = query.where(messages.c.status.in_([status.value for status in counted]))
        async with self._engine.connect() as conn:
            for destination_id, status, count in await conn.execute(query):
                counts[destination_id][status] = count
        return counts
