"""What the metrics and ``/readyz`` ask the store: is it there, and what waits per destination.

Asked when Prometheus scrapes (or a probe calls), never per message: a grouped query over the
messages still to be sent (waiting or held), and one over the dead ones that leaves out those a
later resend resolved (``integrator.store.families``), served by the ``(status, seq)``, dead
and family indexes, so their cost follows the backlog and not the history. The first read the
dead messages' rows too (to count them and find the oldest, which no caller used: the gauges
take the open dead letters from the second), 30,000 rows at every scrape of a store with a
million messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.families import no_later_member_delivered
from integrator.store.records import PENDING_STATUSES, MessageStatus
from integrator.store.tables import messages

#: Statuses ``backlog`` counts: waiting to be sent, or held at a sunset.
UNFINISHED: tuple[str, ...] = (*(s.value for s in PENDING_STATUSES), MessageStatus.HELD.value)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Unfinished messages of one destination in one status, and when the oldest was made."""

    destination_id: str
    status: str
    count: int
    oldest: datetime


class _StoreParts(Protocol):
    _engine: AsyncEngine


class GaugesMixin:
    @guarded("count the unfinished messages")
    async def backlog(self: _StoreParts) -> list[Backlog]:
        query = (
            select(
                messages.c.destination_id,
                messages.c.status,
                func.count(),
                func.min(messages.c.created_at),
            )
            .where(messages.c.status.in_(UNFINISHED))
            .group_by(messages.c.destination_id, messages.c.status)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Backlog(d, s, n, oldest) for d, s, n, oldest in rows]

    @guarded("count the open dead letters")
    async def open_dead_letter_counts(
        self: _StoreParts,
        *,
        died_since: datetime | None = None,
        died_until: datetime | None = None,
    ) -> dict[str, int]:
        """Per destination, the dead messages that no later resend of theirs settled by being
        delivered (``deadletter.count_open_dead_letters``); destinations with none left out.

        One grouped query: the ``(status, seq)`` index finds the dead ones and the family index
        answers "delivered later?" for each, so a resolved history costs a look-up per row
        and never a read of its family. ``died_since`` and ``died_until`` (aware; inclusive,
        exclusive): only those that died in that period (their last change of status), as
        ``list_dead_letters`` narrows."""
        # The status written into the statement: SQLite uses the partial index over the dead
        # messages (0033) only for a term it can see implies the index's, never a parameter.
        dead = literal(MessageStatus.DEAD.value, literal_execute=True)
        query = select(messages.c.destination_id, func.count()).where(
            messages.c.status == dead, no_later_member_delivered()
        )
        if died_since is not None:
            query = query.where(messages.c.updated_at >= _aware(died_since))
        if died_until is not None:
            query = query.where(messages.c.updated_at < _aware(died_until))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.group_by(messages.c.destination_id))).all()
        return {destination_id: count for destination_id, count in rows}


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a period's bound must be a timezone-aware datetime")
    return moment
