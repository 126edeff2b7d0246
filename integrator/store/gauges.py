"""What the metrics and ``/readyz`` ask the store: is it there, and what waits per destination.

Asked when Prometheus scrapes (or a probe calls), never per message: a grouped query over the
messages that are not finished, and the ids of the dead ones (to leave out dead letters a later
resend resolved), both served by the ``(status, seq)`` index, so their cost follows the backlog
and not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import guarded
from integrator.store.records import PENDING_STATUSES, MessageStatus
from integrator.store.tables import messages

#: Statuses the gauges count: waiting to be sent, held at a sunset, or given up on.
UNFINISHED: tuple[str, ...] = (
    *(s.value for s in PENDING_STATUSES),
    MessageStatus.HELD.value,
    MessageStatus.DEAD.value,
)


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

    @guarded("list the dead letters")
    async def dead_messages(
        self: _StoreParts,
        *,
        died_since: datetime | None = None,
        died_until: datetime | None = None,
    ) -> list[tuple[str, str]]:
        """(message id, destination id) of every dead message, to tell resolved ones apart.

        ``died_since`` and ``died_until`` (aware; inclusive, exclusive): only those that died
        in that period (their last change of status), as ``list_dead_letters`` narrows."""
        query = select(messages.c.id, messages.c.destination_id).where(
            messages.c.status == MessageStatus.DEAD.value
        )
        if died_since is not None:
            query = query.where(messages.c.updated_at >= _aware(died_since))
        if died_until is not None:
            query = query.where(messages.c.updated_at < _aware(died_until))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(m, d) for m, d in rows]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a period's bound must be a timezone-aware datetime")
    return moment
