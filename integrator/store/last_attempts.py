"""Each destination's last delivery attempt, for many destinations in one statement.

``integrator.last_attempt`` says a destination's last attempt: the newest attempt of its newest
message the receiver was asked for (delivered, dead or retrying). For one destination that is
two reads (the message, then its attempts). A listing of 200 destinations made that 400 round
trips, so here one statement answers for every destination asked about:

- the destinations come in as one JSON array (``json_each`` on SQLite,
  ``json_array_elements_text`` on PostgreSQL): one bound value however many there are, where a
  ``UNION`` of literal rows would meet SQLite's limit of 500 terms;
- each destination's newest answered message is the greatest of three ``ORDER BY seq DESC
  LIMIT 1`` look-ups, one per status, each the last entry of its range of the
  ``(destination_id, status, seq)`` index (one ``status IN (…)`` look-up would read every
  entry of the three ranges to sort them); on PostgreSQL written as ``oldest_waiting`` writes
  them, equalities as closed ranges and ordered by the whole index, so that the planner keeps
  to that index and does not walk ``uq_messages_seq`` backwards past other destinations' rows;
- its last attempt is the first entry of the ``(message_id, number)`` index, backwards.

Only the columns the answer needs are read: never an ACK's bytes, the error opened from its
seal as ``codec.attempt_record`` opens it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    ColumnElement,
    Row,
    ScalarSelect,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.codec import attempt_identity
from integrator.store.failures import guarded
from integrator.store.records import AttemptRecord
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import attempts, messages

ANSWERED = ("delivered", "dead", "retrying")
"""The statuses of a message the receiver was asked for."""


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer


def _newest_seq(destination: ColumnElement[Any], status: str, dialect: str) -> ScalarSelect[Any]:
    """The destination's newest message in ``status`` by ``seq``: the last entry of its
    range of the status index (an alias: the statement reads ``messages`` itself too)."""
    m = messages.alias(f"newest_{status}")
    query = select(m.c.seq).limit(1)
    if dialect != "postgresql":
        query = query.where(m.c.destination_id == destination, m.c.status == status).order_by(
            m.c.seq.desc()
        )
    else:
        query = query.where(
            m.c.destination_id.between(destination, destination),
            m.c.status.between(status, status),
        ).order_by(m.c.destination_id.desc(), m.c.status.desc(), m.c.seq.desc())
    return query.scalar_subquery()


def _wanted(destination_ids: Sequence[str], dialect: str) -> Any:
    """The destinations asked about as a table of one column, ``value``, from one bound
    JSON array."""
    given = json.dumps(list(destination_ids))
    if dialect == "postgresql":
        elements = func.json_array_elements_text(cast(literal(given), JSON))
    else:
        elements = func.json_each(literal(given))
    return elements.table_valued("value").alias("wanted")


class LastAttemptsMixin:
    @guarded("read the destinations' last attempts")
    async def last_attempts(
        self: _StoreParts, destination_ids: Sequence[str]
    ) -> dict[str, AttemptRecord]:
        """Each of ``destination_ids``' last attempt: the newest attempt of its newest
        message in status delivered, dead or retrying (``ack_bytes`` left out). A destination
        with none is not in the answer. One statement for them all (module docstring)."""
        if not destination_ids:
            return {}
        dialect = self._engine.dialect.name
        wanted = _wanted(destination_ids, dialect)
        destination = wanted.c.value
        greatest = func.greatest if dialect == "postgresql" else func.max
        newest = greatest(
            *(func.coalesce(_newest_seq(destination, s, dialect), 0) for s in ANSWERED)
        )
        tried = attempts.alias("tried")
        last = (
            select(tried.c.id)
            .where(tried.c.message_id == messages.c.id)
            .order_by(tried.c.number.desc(), tried.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                destination.label("destination_id"),
                attempts.c.message_id,
                attempts.c.number,
                attempts.c.started_at,
                attempts.c.duration_ms,
                attempts.c.outcome,
                attempts.c.ack_code,
                attempts.c.error,
            )
            .select_from(wanted)
            .join(messages, messages.c.seq == newest)
            .join(attempts, attempts.c.id == last)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(row.destination_id): _attempt(row, self._sealer) for row in rows}


def _attempt(row: Row[Any, Any, Any, Any, Any, Any, Any, Any], sealer: Sealer) -> AttemptRecord:
    """An attempt from its columns, as ``codec.attempt_record`` makes it, without its ACK."""
    identity = attempt_identity(row.message_id, row.number)
    return AttemptRecord(
        message_id=row.message_id,
        number=row.number,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
        ack_code=row.ack_code,
        error=None
        if row.error is None
        else sealer.open_text(row.error, aad("attempts", "error", identity)),
    )
