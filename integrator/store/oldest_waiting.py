"""When a destination's oldest waiting message was made: the dashboard's "oldest waiting".

Every open dashboard asks this for each tile every 5 s, so its cost must follow the waiting
messages, not the destination's history. ``pending_messages(dest, limit=1)`` asked for the
first of ``status IN (queued, sending, retrying)`` by ``seq``: SQLite walked the
``(destination_id, seq)`` index from the start, past every delivered message, and read whole
rows (payloads unsealed) to take one time. Here each waiting status is its own ``ORDER BY seq
LIMIT 1`` on the ``(destination_id, status, seq)`` index, the first entry of its range, and
the earliest of those three rows (by ``seq``, the delivery order) is the oldest: one
statement, ``UNION ALL``.

PostgreSQL plans each branch by its estimate of the destination's messages in that status,
taking destination and status as independent: where it expects many, walking ``uq_messages_seq``
to the first match looks as cheap as the status index and may be chosen (seen on a test table
of 6,000 rows, none of them the destination's in that status). Statistics on the pair
(``CREATE STATISTICS … (mcv) ON destination_id, status``) would tell it otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.records import PENDING_STATUSES
from integrator.store.tables import messages


def _first_waiting(destination_id: str, status: str) -> Select[tuple[int, datetime]]:
    """The destination's first message in ``status`` by ``seq``: one index look-up."""
    return (
        select(messages.c.seq, messages.c.created_at)
        .where(messages.c.destination_id == destination_id, messages.c.status == status)
        .order_by(messages.c.seq)
        .limit(1)
    )


class _StoreParts(Protocol):
    _engine: AsyncEngine


class OldestWaitingMixin:
    @guarded("read the oldest waiting message")
    async def oldest_waiting_at(self: _StoreParts, destination_id: str) -> datetime | None:
        """When the first message the destination's delivery still owes (queued, sending,
        retrying; the order ``pending_messages`` gives) was made; None when none waits. One
        statement: each status's first, the earliest of them."""
        firsts = union_all(
            *(
                select(_first_waiting(destination_id, status.value).subquery())
                for status in PENDING_STATUSES
            )
        ).subquery()
        query = select(firsts.c.created_at).order_by(firsts.c.seq).limit(1)
        async with self._engine.connect() as conn:
            found: datetime | None = (await conn.execute(query)).scalar()
        return found
