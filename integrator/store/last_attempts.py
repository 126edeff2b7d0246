"""Each destination's last delivery attempt, for many destinations in one statement.

``integrator.last_attempt`` says a destination's last attempt: the newest attempt of its newest
message the receiver was asked for (delivered, dead, retrying or cancelled, and attempted: one
a removal made dead without an attempt was never asked for), and, beside it, its messages
still retrying and the oldest of them with its own last attempt (with ``ordering: rotate`` a
later message delivered hides an older one that keeps failing). For one destination the first
was two reads (the message, then its attempts); a listing of 200 destinations made that 400
round trips. Here one statement answers for every destination asked about:

- the destinations come in as one JSON array (``json_each`` on SQLite,
  ``json_array_elements_text`` on PostgreSQL): one bound value however many there are, where a
  ``UNION`` of literal rows would meet SQLite's limit of 500 terms;
- each destination's newest answered message is the greatest of four ``ORDER BY seq DESC
  LIMIT 1`` look-ups, one per status, each the last entry of its range of the
  ``(destination_id, status, seq)`` index (one ``status IN (…)`` look-up would read every
  entry of the three ranges to sort them); its oldest retrying message the first entry of its
  range, and their number that range counted in the index (on PostgreSQL the status written
  as a closed range: ``_in_status``);
- a message's last attempt is the first entry of the ``(message_id, number)`` index, backwards.

Each row picked (a message by its ``seq``, an attempt) is joined as the first row of its
look-up. On PostgreSQL that is a ``LATERAL`` subquery: a join on a correlated subquery's value
let the planner hash the whole ``messages`` and ``attempts`` tables (sequential scans that
grow with the history) rather than look the 200 rows up. SQLite has no ``LATERAL``, and
always joins by nested loops: there the row is found by its key, which the subquery gives.

Only the columns the answer needs are read: never a payload or an ACK's bytes, the error
opened from its seal as ``codec.attempt_record`` opens it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    ColumnElement,
    FromClause,
    Row,
    ScalarSelect,
    Select,
    Table,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.codec import attempt_identity
from integrator.store.failures import guarded
from integrator.store.records import AttemptRecord
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import attempts, messages

ANSWERED = ("delivered", "dead", "retrying", "cancelled", "held", "queued")
"""The statuses of a message the receiver was asked for (those with an attempt): a dead letter
support discarded is ``cancelled``, and its attempts were the destination's last all the same
(left out, a receiver answering AR to everything read "never tried" once its letters were
discarded, or an older message's attempt as the last). A message tried and then held (its
version reached its sunset while it retried) or queued again (a resume) counts too: left out,
the attempts of an older message that had died were said while the newest, held, were the
ones that failed (found by an operator audit). Each status is one look-up of the status
index, and only messages with an attempt count (``seq_in_status``'s ``tried``)."""

_ATTEMPT_COLUMNS = ("message_id", "number", "started_at", "duration_ms", "outcome", "ack_code")


@dataclass(frozen=True, slots=True)
class DestinationAttempts:
    """What ``Store.last_attempts`` reads of one destination.

    ``last``: the last attempt of its newest answered message that had one (None: none had
    one; a message made dead by a removal without an attempt is passed over). ``retrying``:
    how many of its messages are in status retrying; ``oldest_retrying``: the first of them by
    ``seq`` (the id, when it was made, its last attempt), None when none is."""

    last: AttemptRecord | None
    retrying: int
    oldest_retrying: tuple[str, datetime, AttemptRecord | None] | None


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer


def _in_status(
    m: FromClause, destination: ColumnElement[Any], status: str, dialect: str
) -> list[ColumnElement[bool]]:
    """``m``'s rows of ``destination`` in ``status``, as the status index is searched. On
    PostgreSQL the status is a closed range, so that ordered by ``status, seq`` only the
    status index gives the order (against an equality the planner drops ``status`` from the
    order and may walk ``uq_messages_seq`` instead); the destination stays an equality: a
    range there too (``oldest_waiting``'s way) bounds the index scan by the destination alone,
    and a status that is rare was looked for through every entry of the destination, 1 ms a
    destination at 500 messages each (``EXPLAIN ANALYZE``)."""
    if dialect != "postgresql":
        return [m.c.destination_id == destination, m.c.status == status]
    return [m.c.destination_id == destination, m.c.status.between(status, status)]


def seq_in_status(
    wanted: FromClause, status: str, dialect: str, *, newest: bool, tried: bool = False
) -> ScalarSelect[Any]:
    """The ``seq`` of the destination's newest (or oldest) message in ``status``: the last
    (or first) entry of its range of the status index, read from the index alone. Correlated
    to ``wanted`` by name, as it may sit a level deeper than the statement that reads it.

    ``tried``: of the messages that had an attempt only. A forced removal makes every message
    still waiting dead without one, and the newest of those would hide the last attempt there
    was (``destinations show`` said ``last attempt: -`` after a removal and a rollback). The
    index is walked back past them, each row read for its ``attempt_count``: as many rows as
    the removal dead-lettered, at most, and none where there was no such removal."""
    destination = wanted.c.value
    m: FromClause = messages.alias(f"{'newest' if newest else 'oldest'}_{status}")
    order = [m.c.status, m.c.seq] if dialect == "postgresql" else [m.c.seq]
    query = select(m.c.seq).where(*_in_status(m, destination, status, dialect))
    if tried:
        query = query.where(m.c.attempt_count > 0)
    ordered = query.order_by(*(c.desc() if newest else c for c in order)).limit(1)
    return ordered.correlate(wanted).scalar_subquery()


Where = Callable[[FromClause], ColumnElement[bool]]
Order = Callable[[FromClause], list[ColumnElement[Any]]]


def first_row(
    table: Table, name: str, where: Where, order: Order, columns: Sequence[str], dialect: str
) -> tuple[FromClause, ColumnElement[bool]]:
    """For each row of the statement, the first row of ``table`` by ``order`` among those
    ``where`` says (its ``columns`` by their names, all null when there is none), and the
    condition it is outer-joined on: a ``LATERAL`` on PostgreSQL, joined to every row;
    elsewhere the row whose key the same look-up gives."""
    inner = table.alias(f"{name}_first")
    if dialect == "postgresql":
        first = select(*(inner.c[c] for c in columns)).where(where(inner))
        return first.order_by(*order(inner)).limit(1).lateral(name), true()
    picked = table.alias(name)
    key = select(inner.c.id).where(where(inner)).order_by(*order(inner)).limit(1)
    return picked, picked.c.id == key.scalar_subquery()


def wanted_destinations(destination_ids: Sequence[str], dialect: str) -> Any:
    """The destinations asked about as a table of one column, ``value``, from one bound
    JSON array (``Store.counts_by_status`` and ``Store.last_destination_revisions`` ask so
    too)."""
    given = json.dumps(list(destination_ids))
    if dialect == "postgresql":
        elements = func.json_array_elements_text(cast(literal(given), JSON))
    else:
        elements = func.json_each(literal(given))
    return elements.table_valued("value").alias("wanted")


def message_by_seq(
    name: str, seq: ColumnElement[Any], columns: Sequence[str], dialect: str
) -> tuple[FromClause, ColumnElement[bool]]:
    """``first_row`` of the message whose ``seq`` is ``seq`` (one row at most: no order)."""
    return first_row(messages, name, lambda m: m.c.seq == seq, lambda m: [], columns, dialect)


def _statement(destination_ids: Sequence[str], dialect: str) -> Select[Any]:
    wanted = wanted_destinations(destination_ids, dialect)
    destination = wanted.c.value
    greatest = func.greatest if dialect == "postgresql" else func.max
    newest_seq = greatest(
        *(
            func.coalesce(seq_in_status(wanted, s, dialect, newest=True, tried=True), 0)
            for s in ANSWERED
        )
    )
    oldest_seq = seq_in_status(wanted, "retrying", dialect, newest=False)

    def last_of(message: FromClause) -> Where:
        return lambda a: a.c.message_id == message.c.id

    def newest_first(a: FromClause) -> list[ColumnElement[Any]]:
        return [a.c.number.desc(), a.c.id.desc()]

    said = (*_ATTEMPT_COLUMNS, "error")
    made = ("id", "created_at")
    newest, on_newest = message_by_seq("newest", newest_seq, made, dialect)
    last, on_last = first_row(attempts, "last", last_of(newest), newest_first, said, dialect)
    oldest, on_oldest = message_by_seq("oldest", oldest_seq, made, dialect)
    oldest_last, on_oldest_last = first_row(
        attempts, "oldest_last", last_of(oldest), newest_first, said, dialect
    )
    counted: FromClause = messages.alias("counted")
    retrying = (
        select(func.count())
        .select_from(counted)
        .where(*_in_status(counted, destination, "retrying", dialect))
        .scalar_subquery()
    )
    joined = wanted
    for picked, on in (
        (newest, on_newest),
        (last, on_last),
        (oldest, on_oldest),
        (oldest_last, on_oldest_last),
    ):
        joined = joined.outerjoin(picked, on)
    return select(
        destination.label("destination_id"),
        *(last.c[name].label(f"last_{name}") for name in said),
        oldest.c.id.label("oldest_id"),
        oldest.c.created_at.label("oldest_created_at"),
        *(oldest_last.c[name].label(f"oldest_{name}") for name in said),
        retrying.label("retrying"),
    ).select_from(joined)


class LastAttemptsMixin:
    @guarded("read the destinations' last attempts")
    async def last_attempts(
        self: _StoreParts, destination_ids: Sequence[str]
    ) -> dict[str, DestinationAttempts]:
        """Each of ``destination_ids``' last attempt and retrying messages
        (``DestinationAttempts``; ``ack_bytes`` left out); a destination with neither is not in
        the answer. One statement for them all (module docstring)."""
        if not destination_ids:
            return {}
        query = _statement(destination_ids, self._engine.dialect.name)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = {}
        for row in rows:
            last = _attempt(row, "last_", self._sealer)
            oldest = (
                None
                if row.oldest_id is None
                else (row.oldest_id, row.oldest_created_at, _attempt(row, "oldest_", self._sealer))
            )
            if last is not None or oldest is not None:
                found[str(row.destination_id)] = DestinationAttempts(last, row.retrying, oldest)
        return found


def _attempt(row: Row[Any], prefix: str, sealer: Sealer) -> AttemptRecord | None:
    """The attempt in ``row``'s columns named ``prefix…``, as ``codec.attempt_record`` makes
    it without its ACK; None when the row has none."""
    values = {name: getattr(row, prefix + name) for name in (*_ATTEMPT_COLUMNS, "error")}
    if values["message_id"] is None:
        return None
    error = values.pop("error")
    identity = attempt_identity(values["message_id"], values["number"])
    return AttemptRecord(
        **values,
        error=None
        if error is None
        else sealer.open_text(error, aad("attempts", "error", identity)),
    )
