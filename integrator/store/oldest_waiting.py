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
and takes them as spread evenly over ``seq``: where it expects many, walking ``uq_messages_seq``
until the first match looks cheaper than the status index. They are not spread evenly: one
destination's 30,000 messages waiting behind 60,000 another delivered earlier made that walk
read 60,000 rows, 55-100 ms a tile at every refresh (``EXPLAIN ANALYZE``), and the destination
with none waiting walked all 90,000. Statistics on the pair (``CREATE STATISTICS … (mcv)``) fixed
the second case and not the first, which is about order, not counts. So on PostgreSQL the
status is written as a closed range (``status >= :s AND status <= :s``, the same rows for this
plain text column) and the branch orders by ``status, seq``: against an equality PostgreSQL
drops an ordering column it pins and ``uq_messages_seq`` would give the order ``seq`` alone;
against a range only the status indexes give it (``(destination_id, status, seq)`` with the
destination pinned, or ``(status, seq)``), and walking ``uq_messages_seq`` would need a sort of
every match. The destination stays an equality
(``last_attempts._in_status`` writes it so too). Written as a range as well, it bounded no
index scan by itself: PostgreSQL took the ``(status, seq)`` index, filtering other
destinations' waiting messages out, and for ``retrying`` added every entry of the
destination's ``(destination_id, seq)`` index to a bitmap, a walk of its whole history at every
refresh (``EXPLAIN ANALYZE``: 500 entries read for one row at 100,000 messages over 200
destinations); as an equality each branch is one look-up on ``(destination_id, status, seq)``.
SQLite keeps the equalities: its index takes a range on the first column only, and it chooses
the status index for them already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.records import PENDING_STATUSES
from integrator.store.tables import messages


def _first_waiting(destination_id: str, status: str, dialect: str) -> Select[tuple[int, datetime]]:
    """The destination's first message in ``status`` by ``seq``: one index look-up."""
    query = select(messages.c.seq, messages.c.created_at).limit(1)
    if dialect != "postgresql":
        return query.where(
            messages.c.destination_id == destination_id, messages.c.status == status
        ).order_by(messages.c.seq)
    return query.where(
        messages.c.destination_id == destination_id, messages.c.status.between(status, status)
    ).order_by(messages.c.status, messages.c.seq)


class _StoreParts(Protocol):
    _engine: AsyncEngine


class OldestWaitingMixin:
    @guarded("read the oldest waiting message")
    async def oldest_waiting_at(self: _StoreParts, destination_id: str) -> datetime | None:
        """When the first message the destination's delivery still owes (queued, sending,
        retrying; the order ``pending_messages`` gives) was made; None when none waits. One
        statement: each status's first, the earliest of them."""
        dialect = self._engine.dialect.name
        firsts = union_all(
            *(
                select(_first_waiting(destination_id, status.value, dialect).subquery())
                for status in PENDING_STATUSES
            )
        ).subquery()
        query = select(firsts.c.created_at).order_by(firsts.c.seq).limit(1)
        async with self._engine.connect() as conn:
            found: datetime | None = (await conn.execute(query)).scalar()
        return found
