"""When each destination's oldest waiting message was made: the dashboard's "oldest waiting".

Every open dashboard asks this for every tile every 5 s, so its cost must follow the waiting
messages, not the destinations' history, nor their number: asked a destination at a time it
was a statement a tile, 200 a refresh for 200 destinations; now all the tiles are one
statement, the destinations given as one bound JSON array (``last_attempts`` reads the
listing's last attempts so, and lends its look-ups: ``seq_in_status``, ``message_by_seq``).

The first of ``pending_messages(dest, limit=1)`` asked for the first of ``status IN (queued,
sending, retrying)`` by ``seq``: SQLite walked the ``(destination_id, seq)`` index from the
start, past every delivered message, and read whole rows (payloads unsealed) to take one time.
Here each waiting status is its own ``ORDER BY seq LIMIT 1`` on the ``(destination_id, status,
seq)`` index, the first entry of its range, and the earliest of those three (by ``seq``, the
delivery order) is the oldest, whose row is then looked up by its ``seq``.

PostgreSQL plans each branch by its estimate of the destination's messages in that status, and
takes them as spread evenly over ``seq``: where it expects many, walking ``uq_messages_seq``
until the first match looks cheaper than the status index. They are not spread evenly: one
destination's 30,000 messages waiting behind 60,000 another delivered earlier made that walk
read 60,000 rows, 55-100 ms a tile at every refresh (``EXPLAIN ANALYZE``), and the destination
with none waiting walked all 90,000. Statistics on the pair (``CREATE STATISTICS … (mcv)``)
fixed the second case and not the first, which is about order, not counts. So on PostgreSQL the
status is written as a closed range (``status >= :s AND status <= :s``, the same rows for this
plain text column) and the branch orders by ``status, seq``: against an equality PostgreSQL
drops an ordering column it pins and ``uq_messages_seq`` would give the order ``seq`` alone;
against a range only the status indexes give it (``(destination_id, status, seq)`` with the
destination pinned, or ``(status, seq)``), and walking ``uq_messages_seq`` would need a sort of
every match (``last_attempts.seq_in_status`` writes them so). The destination stays an
equality. Written as a range as well, it bounded no index scan by itself: PostgreSQL took the
``(status, seq)`` index, filtering other destinations' waiting messages out, and for
``retrying`` added every entry of the destination's ``(destination_id, seq)`` index to a
bitmap, a walk of its whole history at every refresh (``EXPLAIN ANALYZE``: 500 entries read for
one row at 100,000 messages over 200 destinations); as an equality each branch is one look-up
on ``(destination_id, status, seq)``. SQLite keeps the equalities: its index takes a range on
the first column only, and it chooses the status index for them already.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.last_attempts import message_by_seq, seq_in_status, wanted_destinations
from integrator.store.records import PENDING_STATUSES

_NONE_WAITING: Final = 2**62
"""A ``seq`` no message has: a status's first when none is in it, so that the least of the
three is a waiting message's, or this one when none waits (``min`` of SQLite answers null
as soon as one of its values is)."""


def _statement(destination_ids: Sequence[str], dialect: str) -> Select[Any]:
    wanted = wanted_destinations(destination_ids, dialect)
    least = func.least if dialect == "postgresql" else func.min
    first_seq = least(
        *(
            func.coalesce(seq_in_status(wanted, status.value, dialect, newest=False), _NONE_WAITING)
            for status in PENDING_STATUSES
        )
    )
    oldest, on = message_by_seq("oldest", first_seq, ("id", "created_at"), dialect)
    return select(wanted.c.value.label("destination_id"), oldest.c.created_at).select_from(
        wanted.outerjoin(oldest, on)
    )


class _StoreParts(Protocol):
    _engine: AsyncEngine


class OldestWaitingMixin:
    @guarded("read the oldest waiting messages")
    async def oldest_waiting(
        self: _StoreParts, destination_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """When the first message each destination's delivery still owes (queued, sending,
        retrying; the order ``pending_messages`` gives) was made; a destination none waits for
        is not in the answer. One statement for them all."""
        if not destination_ids:
            return {}
        query = _statement(destination_ids, self._engine.dialect.name)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {
            str(row.destination_id): row.created_at for row in rows if row.created_at is not None
        }
