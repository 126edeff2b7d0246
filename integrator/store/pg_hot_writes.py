"""The two hot write transactions on PostgreSQL, each in one round trip.

Through SQLAlchemy a hot transaction took BEGIN, one executemany per table and COMMIT (four
round trips), plus SQLAlchemy's per-statement and per-row work in this process. Here each is
sent straight to the pooled asyncpg connection outside a transaction block, where the server
makes it a transaction of its own, so all of it commits or none of it does, as before:

- accepting: ``WITH new_events AS (INSERT … ON CONFLICT DO NOTHING RETURNING id)`` inserts the
  events, then the messages of the events that are new, in the order given (which is the order
  of their ``seq``), and returns the new ids; the rows come as one array per column
  (``unnest``);
- recording: the attempts as arrays too (``unnest``); ``UPDATE messages … FROM`` the last
  attempt of each message in the batch (an attempt sets its message's columns to values, not by
  increments, so the last one decides, as when they were applied one by one), and ``INSERT INTO
  attempts`` all of them in the order given. One statement instead of asyncpg's ``executemany``
  of one statement per attempt, which the server executed one by one: measured, 0.55-0.75 of
  the server's CPU per recorded attempt (batches of 10 and 100; bench/results/perf.md, the
  thirteenth round). It fails, writing nothing, when a number it gives is taken (another
  engine's attempt of the same message); the batch is then numbered and written in a
  transaction of its own (``attempt_numbers``).

The history of a batch's ZD numbers (``zd_history``), which intake has read before each accept,
goes the same way: one statement with the numbers as one array, on one of the connections kept
for reading (``READERS``), as a request's token does.

Values go through the bind processors SQLAlchemy applies (``UTCDateTime``: aware UTC) and are
cast to the columns' types, so the rows are the same as before. Driver errors come back as
SQLAlchemy's ``DBAPIError`` family around the asyncpg exception, so ``failures.guarded`` sees
the same SQLSTATE and constraint as before.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.attempt_numbers import Given, Renumbered, in_order, numbered
from integrator.store.hot_reads import TokenReads, TokenRows
from integrator.store.late_records import GUARDED_COLUMNS, still_open
from integrator.store.tables import attempts, events, messages
from integrator.store.zd_history import HistoryRow, JudgedBatch

Row = Mapping[str, Any]
Processor = Callable[[Any], Any] | None

_LENGTH = re.compile(r"\(\d+\)")

# The messages columns an attempt sets (the store's update rows carry them as ``b_`` keys).
UPDATE_COLUMNS = ("id", "status", "attempt_count", "updated_at", "next_attempt_at", "last_error")


class _Held:
    """A pooled connection kept checked out by one hot path, and the turn to use it."""

    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.conn: AsyncConnection | None = None
        self.raw: Any = None  # its asyncpg connection


#: Kept connections for the hot reads (a request's token, a batch's ZD history). Every API
#: request reads its token, so concurrent requests overlapped on a single kept connection, and
#: each that found it in use took one from the pool, with its pre-ping: with 8 clients posting,
#: about a tenth of the engine's CPU (bench/results/perf.md, thirteenth session). A read waits
#: for one of these instead; each is one statement on an index.
READERS = 3


class PostgresHotWrites:
    """Each hot path keeps pooled connections checked out: taking one from SQLAlchemy's pool
    and giving it back cost more of this process's CPU than the statement itself (measured:
    ~450 µs of ~1 ms per ``record_attempts``). A write that finds its connection in use (two
    accepts at once) takes one from the pool as before; a read waits for one of the
    ``READERS`` kept for reading. A kept connection the driver knows closed (the server or the
    network ended it while it was idle) is dropped before the call, which takes a fresh one;
    one that breaks during a call is dropped after it, and that call fails."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._sql: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}
        self._processors: dict[tuple[str, str], Processor] = {}
        self._accepting = _Held()
        self._recording = _Held()
        self._readers = [_Held() for _ in range(READERS)]
        # Last in, first out: the one just used is open; another opens only when reads overlap.
        self._free_readers: asyncio.LifoQueue[_Held] = asyncio.LifoQueue()
        for reader in self._readers:
            self._free_readers.put_nowait(reader)
        self._token_reads = TokenReads.for_dialect(engine.dialect)

    async def accept(
        self,
        event_rows: Sequence[Row],
        message_rows: Sequence[tuple[str, Row]],
        judged: JudgedBatch | None = None,
    ) -> set[str]:
        """Insert the events that are new and the messages of those; return the new ids.

        ``judged``: the history of the batch's ZD numbers is read first, in a statement of its
        own, and the message rows it notes are inserted as it has them (``zd_history``).
        """
        if not event_rows:
            return set()
        if judged is not None:
            noted = judged.noted(await self.zd_history(judged.zd_numbers))
            if noted:  # rare: an event that does not fit its number's history
                message_rows = [
                    (event_id, noted.get(index, row))
                    for index, (event_id, row) in enumerate(message_rows)
                ]
        event_keys = tuple(event_rows[0])
        message_keys = tuple(message_rows[0][1]) if message_rows else ()
        sql = self._statement("accept", event_keys, message_keys)
        args = self._columns(events, event_keys, event_rows)
        if message_keys:
            args += self._columns(messages, message_keys, [row for _, row in message_rows])
        returned = await self._run(self._accepting, lambda conn: conn.fetch(sql, *args))
        return {record[0] for record in returned}

    async def record(
        self,
        updates: Sequence[Row],
        attempt_rows: Sequence[Row],
        *,
        again: bool = False,
        renumbered: Renumbered,
    ) -> None:
        """Per attempt: update its message and insert it; as if in order, all or nothing.

        ``again``: a try after one that failed, which may have committed before its answer was
        lost: attempts stored already are passed over (``_record_sql``). An attempt whose
        number is taken is stored under the next free one (``attempt_numbers``): the batch is
        then written in a transaction that reads the messages' attempts first, its rows as
        ``renumbered`` gives them."""
        if not updates:
            return
        attempt_keys = tuple(attempt_rows[0])
        sql = self._statement("record again" if again else "record", UPDATE_COLUMNS, attempt_keys)
        args = self._arguments(updates, attempt_rows)

        async def call(conn: Any) -> None:
            if in_order(attempt_rows):
                try:
                    await conn.fetchval(sql, *args)
                    return
                except asyncpg.InvalidTextRepresentationError as exc:
                    if NUMBER_TAKEN not in str(exc):
                        raise
            given = [Given(a["message_id"], a["number"], a["started_at"]) for a in attempt_rows]
            async with conn.transaction():
                ids = sorted({attempt.message_id for attempt in given})
                counts = dict(await conn.fetch(_HOLD_MESSAGES_SQL, ids))
                stored = await conn.fetch(_STORED_ATTEMPTS_SQL, ids)
                numbers = numbered(given, counts, stored, again=again)
                rows = [renumbered(index, n) for index, n in enumerate(numbers) if n is not None]
                if not rows:
                    return
                plain = self._statement("record", UPDATE_COLUMNS, attempt_keys)
                written = self._arguments([u for u, _ in rows], [a for _, a in rows])
                await conn.fetchval(plain, *written)  # the rows are held: no number is taken

        await self._run(self._recording, call)

    def _arguments(self, updates: Sequence[Row], attempt_rows: Sequence[Row]) -> list[Any]:
        """The record statement's arrays: the messages' columns, then the attempts'."""
        args = list(self._columns(messages, UPDATE_COLUMNS, updates, prefix="b_"))
        args += self._columns(attempts, tuple(attempt_rows[0]), attempt_rows)
        return args

    async def zd_history(self, zd_numbers: Sequence[str]) -> list[HistoryRow]:
        """(zd_number, id, type, action) of the events with these ZD numbers, oldest first:
        one statement, the numbers as one array however many."""
        if not zd_numbers:
            return []
        numbers = list(dict.fromkeys(zd_numbers))  # each once: a number's events once
        found = await self._read(lambda conn: conn.fetch(ZD_HISTORY_SQL, numbers))
        return [(r[0], r[1], r[2], r[3]) for r in found]

    async def read_token(self, token_hash: str) -> TokenRows:
        """A token by its hash and its grants: one statement on a reading connection
        (``hot_reads``)."""
        reads = self._token_reads

        async def call(conn: Any) -> TokenRows:
            return reads.split(await conn.fetch(reads.token.sql, *reads.args(token_hash)))

        rows: TokenRows = await self._read(call)
        return rows

    async def warm_up(
        self, event_row: Row, message_row: Row, update_row: Row, attempt_row: Row
    ) -> None:
        """Open the kept connections and have the server prepare the hot statements on them,
        writing nothing: each runs once with no rows (empty arrays). The rows only shape the
        statements (their keys), as a batch's first row does.

        Without this, the first batch after a start paid for opening each connection and for
        preparing its statement while events queued behind it: on RabbitMQ at 550 events/s
        the first 100 ms held most of a run's slowest percent (bench/results/perf.md,
        twenty-fourth session). One reading connection is opened; the others as reads overlap.
        """
        accept = self._statement("accept", tuple(event_row), tuple(message_row))
        record = self._statement("record", UPDATE_COLUMNS, tuple(attempt_row))
        no_rows: list[Any] = []
        accept_args = [no_rows] * (len(event_row) + len(message_row))
        record_args = [no_rows] * (len(UPDATE_COLUMNS) + len(attempt_row))
        await self._run(self._accepting, lambda conn: conn.fetch(accept, *accept_args))
        await self._run(self._recording, lambda conn: conn.fetchval(record, *record_args))
        reads = self._token_reads

        async def reading(conn: Any) -> None:
            await conn.fetch(ZD_HISTORY_SQL, no_rows)
            await conn.fetch(reads.token.sql, *reads.args(""))  # no token's hash is empty

        await self._read(reading)

    async def close(self) -> None:
        """Give the kept connections back to the pool."""
        for held in (self._accepting, self._recording, *self._readers):
            async with held.turn:
                conn, held.conn, held.raw = held.conn, None, None
                if conn is not None:
                    await conn.close()

    async def _read(self, call: Callable[[Any], Awaitable[Any]]) -> Any:
        """``call`` on a kept reading connection, once one is free."""
        reader = await self._free_readers.get()
        try:
            return await self._run(reader, call)
        finally:
            self._free_readers.put_nowait(reader)

    async def _run(self, held: _Held, call: Callable[[Any], Awaitable[Any]]) -> Any:
        if held.turn.locked():
            async with self._engine.connect() as conn:
                return await _call(conn, await _driver(conn), call)
        async with held.turn:
            if held.conn is not None and (held.conn.invalidated or held.raw.is_closed()):
                # Closed while kept (the server restarted, the network cut it): asyncpg saw the
                # socket close, so this costs no round trip, and the call below gets a fresh
                # connection instead of failing. The pool's pre-ping does not see kept ones.
                conn, held.conn, held.raw = held.conn, None, None
                await _drop(conn)
            if held.conn is None:
                conn = await self._engine.connect()
                try:
                    held.raw = await _driver(conn)
                except BaseException:
                    await conn.close()
                    raise
                held.conn = conn
            try:
                return await _call(held.conn, held.raw, call)
            except BaseException:
                if held.conn.invalidated or held.raw.is_closed():
                    conn, held.conn, held.raw = held.conn, None, None
                    await conn.close()
                raise

    def _columns(
        self, table: Table, keys: Sequence[str], rows: Sequence[Row], prefix: str = ""
    ) -> tuple[list[Any], ...]:
        """One list per column (the row key: ``prefix`` + column), through its bind processor."""
        out = []
        for key in keys:
            processor = self._processor(table, key)
            values = [row[prefix + key] for row in rows]
            if processor is not None:
                values = [None if value is None else processor(value) for value in values]
            out.append(values)
        return tuple(out)

    def _processor(self, table: Table, key: str) -> Processor:
        try:
            return self._processors[(table.name, key)]
        except KeyError:
            impl = table.c[key].type.dialect_impl(self._dialect)
            processor = self._processors[(table.name, key)] = impl.bind_processor(self._dialect)
            return processor

    def _statement(self, name: str, first: tuple[str, ...], second: tuple[str, ...]) -> str:
        key = (name, first, second)
        sql = self._sql.get(key)
        if sql is None:
            if name == "accept":
                sql = _accept_sql(first, second, self._dialect)
            else:
                sql = _record_sql(first, second, self._dialect, again=name == "record again")
            self._sql[key] = sql
        return sql


# The SQL below is put together from column names of ``tables`` (``table.c[key]`` refuses any
# other name) and numbered placeholders: no value is ever part of the text (hence the noqa S608).

# One look-up on the ``zd_number`` index per number, whatever the planner knows of the table;
# one text for any number of numbers, so asyncpg prepares it once. ``zd_number = ANY($1)``
# left the choice to the planner, which before autovacuum's first ``ANALYZE`` of ``events`` (a
# new store's first minutes, every benchmark's database) scanned every event and compared it
# with every number of the batch: 2 ms for 20 numbers at 8,000 events, ten times the look-ups,
# and growing with the table (bench/results/perf.md, twenty-first session). ``OFFSET 0`` keeps
# the planner from turning the look-ups back into that join. The numbers must be distinct
# (``zd_history``): each is looked up once.
ZD_HISTORY_SQL = (
    "SELECT e.zd_number, e.id, e.type, e.action FROM unnest($1::VARCHAR[]) AS asked(zd_number) "
    "CROSS JOIN LATERAL (SELECT zd_number, id, type, action, received_at FROM events "
    "WHERE events.zd_number = asked.zd_number OFFSET 0) AS e "
    "ORDER BY e.received_at, e.id"
)


def _accept_sql(event_keys: Sequence[str], message_keys: Sequence[str], dialect: Dialect) -> str:
    # Events in the order given (the store sorts them by id: rows are locked in one order).
    new_events = (
        f"INSERT INTO events ({', '.join(event_keys)}) "  # noqa: S608
        f"SELECT {', '.join(event_keys)} FROM {_unnest(events, event_keys, 1, dialect)} "
        f"ORDER BY ord ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    if not message_keys:
        return f"WITH new_events AS ({new_events}) SELECT id FROM new_events"  # noqa: S608
    given = _unnest(messages, message_keys, len(event_keys) + 1, dialect)
    new_messages = (
        f"INSERT INTO messages ({', '.join(message_keys)}) "  # noqa: S608
        f"SELECT {', '.join(message_keys)} FROM {given} "
        f"WHERE event_id IN (SELECT id FROM new_events) ORDER BY ord"
    )
    return (
        f"WITH new_events AS ({new_events}), new_messages AS ({new_messages}) "  # noqa: S608
        f"SELECT id FROM new_events"
    )


#: In the error of a record statement that found a number taken (``_record_sql``): the words
#: cannot be read as an integer, which is the error (no value of the batch is in it).
NUMBER_TAKEN = "attempt number taken; messages updated:"

# The slow path of ``record`` (``attempt_numbers``): the batch's messages held in the order of
# their ids (as the record statement holds them: two engines' writes do not deadlock), then
# their attempts, read after the hold, so with every attempt another engine committed.
_HOLD_MESSAGES_SQL = (
    "SELECT id, attempt_count FROM messages WHERE id = ANY($1::VARCHAR[]) "
    "ORDER BY id FOR NO KEY UPDATE"
)
_STORED_ATTEMPTS_SQL = (
    "SELECT message_id, number, started_at FROM attempts WHERE message_id = ANY($1::VARCHAR[])"
)


def _record_sql(
    update_keys: Sequence[str],
    attempt_keys: Sequence[str],
    dialect: Dialect,
    *,
    again: bool = False,
) -> str:
    """The attempts as rows (``u_`` their message's new state, ``a_`` the attempt row): each
    message updated once, by its last attempt; every attempt inserted, in the order given.

    A message is updated only while its first number in the batch is above its
    ``attempt_count`` (the numbers of one message rise along a batch, which the caller checks):
    the update waits for another engine's write of the same message and then judges the row as
    that one committed it (PostgreSQL reads a row updated meanwhile again), where a look at the
    attempts table would miss a row committed while this statement ran. A message not updated
    so has a number taken (``attempt_numbers``; one that is not there at all is left to the
    attempts' foreign key, which refuses the batch), and the statement then fails, all undone,
    with an error that names ``NUMBER_TAKEN``: a statement cannot roll itself back otherwise,
    and one that holds the rows first to decide (``FOR NO KEY UPDATE``) cost the server 0.3 more
    of its CPU per event (bench/results/perf.md, thirty-fourth session).

    ``again``: rows whose attempt is stored already (its message and start, under its number or
    one it was moved up to: one attempt of a message has one start) are left out, from the
    update as from the insert. A try after a failed one needs it: the connection broke between
    the server's commit and its answer (a cut proxy, a failover), the recorder wrote the same
    batch again, and each attempt stood twice in its message's history. Not on the first try:
    a look-up per attempt that only a try again can need."""
    arrays = [f"${n}::{_cast(messages, key, dialect)}[]" for n, key in enumerate(update_keys, 1)]
    arrays += [
        f"${n}::{_cast(attempts, key, dialect)}[]"
        for n, key in enumerate(attempt_keys, len(update_keys) + 1)
    ]
    names = [f"u_{key}" for key in update_keys] + [f"a_{key}" for key in attempt_keys]
    settings = ", ".join(_setting(key) for key in update_keys if key != "id")
    stored = (
        " WHERE NOT EXISTS (SELECT 1 FROM attempts WHERE attempts.message_id = given.a_message_id"
        " AND attempts.number >= given.a_number AND attempts.started_at = given.a_started_at)"
        if again
        else ""
    )
    return (
        f"WITH given AS (SELECT * FROM unnest({', '.join(arrays)}) "  # noqa: S608
        f"WITH ORDINALITY AS given({', '.join(names)}, ord){stored}), "
        "last AS (SELECT DISTINCT ON (u_id) *, min(a_number) OVER (PARTITION BY u_id) AS first "
        "FROM given ORDER BY u_id, ord DESC), "
        f"updated AS (UPDATE messages SET {settings} FROM last "
        "WHERE messages.id = last.u_id AND messages.attempt_count < last.first "
        "RETURNING messages.id), "
        f"inserted AS (INSERT INTO attempts ({', '.join(attempt_keys)}) "
        f"SELECT {', '.join(f'a_{key}' for key in attempt_keys)} FROM given ORDER BY ord) "
        "SELECT CASE WHEN (SELECT count(*) FROM updated) = (SELECT count(*) FROM last) "
        "OR NOT EXISTS (SELECT 1 FROM last JOIN messages ON messages.id = last.u_id "
        "WHERE last.u_id NOT IN (SELECT id FROM updated)) "
        f"THEN true ELSE CAST('{NUMBER_TAKEN} ' || (SELECT count(*) FROM updated) AS integer) > 0 "
        "END"
    )


def _setting(key: str) -> str:
    """``key = last.u_key``; for a column a late attempt must not undo, only while the message
    is open to attempts (``late_records``)."""
    if key not in GUARDED_COLUMNS:
        return f"{key} = last.u_{key}"
    guard = still_open("messages.status", "last.u_status")
    return f"{key} = CASE WHEN {guard} THEN last.u_{key} ELSE messages.{key} END"


def _unnest(table: Table, keys: Sequence[str], first: int, dialect: Dialect) -> str:
    """``unnest($1::TYPE[], …) WITH ORDINALITY AS given(key, …, ord)``: rows from arrays."""
    arrays = ", ".join(
        f"${first + index}::{_cast(table, key, dialect)}[]" for index, key in enumerate(keys)
    )
    return f"unnest({arrays}) WITH ORDINALITY AS given({', '.join(keys)}, ord)"


def _cast(table: Table, key: str, dialect: Dialect) -> str:
    """The column's type without a length, as SQLAlchemy casts its parameters: an explicit
    cast to ``VARCHAR(n)`` would silently cut a longer value, where storing it is refused."""
    return _LENGTH.sub("", table.c[key].type.compile(dialect))


async def _drop(conn: AsyncConnection) -> None:
    """Give back a connection found closed, so the pool does not hand it out again."""
    if not conn.invalidated:
        await conn.invalidate()
    await conn.close()


async def _driver(conn: AsyncConnection) -> Any:
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    return raw


async def _call(conn: AsyncConnection, raw: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    """``call`` on the asyncpg connection, its errors as SQLAlchemy would raise them."""
    failure: sa_exc.DBAPIError
    try:
        return await call(raw)
    except asyncpg.PostgresError as error:
        failure = _wrapped(error)
        if raw.is_closed():  # e.g. the server ended the session
            await conn.invalidate()
    except (asyncpg.InterfaceError, asyncpg.InternalClientError) as error:
        # The connection is gone, or out of step with the server (the server ended it while it
        # was idle: its last message came before the socket closed, and the next call meets
        # asyncpg still reading it): unavailable, and not to be used again. Both are a
        # connection the server closed (``failures.diagnose`` says so), not a wrong call.
        lost = raw.is_closed() or isinstance(error, asyncpg.InternalClientError)
        failure = sa_exc.InterfaceError(
            None, None, error, hide_parameters=True, connection_invalidated=lost
        )
        await conn.invalidate()
    except BaseException:
        # Cancelled or failed mid-call: the connection's state is unknown; the pool must not
        # hand it out again.
        await conn.invalidate()
        raise
    raise failure


def _wrapped(error: asyncpg.PostgresError) -> sa_exc.DBAPIError:
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return sa_exc.IntegrityError(None, None, error, hide_parameters=True)
    return sa_exc.DBAPIError(None, None, error, hide_parameters=True)
