"""The two hot write transactions on SQLite: accepting events with their messages (after
reading the history of their ZD numbers, when intake asks: ``zd_history``), recording delivery
attempts with their messages' new status; and the history of some ZD numbers alone.

Each is the same statements the store ran through SQLAlchemy (compiled once, see ``prepared``),
run as one transaction in one hand-over to the writer thread (see ``sqlite_writer``). The rows
are built and sealed by the store before; here they only become driver arguments.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement

from integrator.store.attempt_numbers import Given, Renumbered, Taken, in_order, numbered
from integrator.store.compiled_cache import made_once
from integrator.store.engine import set_sqlite_pragmas
from integrator.store.hot_reads import TokenReads, TokenRows
from integrator.store.prepared import Prepared, prepare
from integrator.store.sqlite_writer import SqliteWriter
from integrator.store.zd_history import HistoryRow, JudgedBatch

Row = Mapping[str, Any]

# Column names from ``tables``; the only thing put in is the placeholders: "?, ?, ?".
ZD_HISTORY_SQL = (
    "SELECT zd_number, id, type, action FROM events WHERE zd_number IN ({}) "
    "ORDER BY received_at, id"
)


class SqliteHotWrites:
    """Callers hold the store's write turn around each call, shared with the other hot writes
    (``write_turn``): the one writer thread runs them in the order they were handed over."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        insert_event: ClauseElement,
        insert_messages: ClauseElement,
        update_after_attempt: ClauseElement,
        insert_attempt: ClauseElement,
    ) -> None:
        self._dialect = engine.dialect
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._writer = SqliteWriter(args, kwargs, _set_writer_pragmas)
        # The tokens every API request is authenticated by are read beside the writer, on a
        # connection of their own: a read waiting behind a write held up by another process's
        # lock (the busy timeout) would hold up every request, reads too.
        self._reader = SqliteWriter(
            args, kwargs, set_sqlite_pragmas, name="store-token-reader", checkpoints=False
        )
        self._statements = {
            "event": insert_event,
            "messages": insert_messages,
            "update": update_after_attempt,
            "attempt": insert_attempt,
        }
        self._prepared: dict[tuple[str, tuple[str, ...]], Prepared] = {}
        self._token_reads = TokenReads.for_dialect(engine.dialect)

    async def accept(
        self,
        event_rows: Sequence[Row],
        message_rows: Sequence[tuple[str, Row]],
        judged: JudgedBatch | None = None,
    ) -> set[str]:
        """Insert the events that are new and the messages of those; return the new ids.

        ``message_rows``: (event id, message row), in the order the messages are numbered.
        ``judged``: the history of the batch's ZD numbers is read first, in the transaction,
        and the message rows it notes are inserted as it has them (``zd_history``).
        """
        if not event_rows:
            return set()
        insert_event = self._statement("event", event_rows[0])
        events = [(row["id"], insert_event.args(row)) for row in event_rows]
        messages: list[tuple[str, tuple[Any, ...]]] = []
        message_sql = ""
        if message_rows:
            insert_messages = self._statement("messages", message_rows[0][1])
            message_sql = insert_messages.sql
            message_args = insert_messages.args
            messages = [(event_id, message_args(row)) for event_id, row in message_rows]
        event_sql = insert_event.sql

        def work(conn: sqlite3.Connection) -> set[str]:
            cursor = conn.cursor()
            batch = messages
            if judged is not None:
                noted = judged.noted(_history(cursor, judged.zd_numbers))
                if noted:  # rare: an event that does not fit its number's history
                    batch = [
                        (event_id, message_args(noted[index]) if index in noted else row_args)
                        for index, (event_id, row_args) in enumerate(messages)
                    ]
            # ON CONFLICT DO NOTHING: a row not inserted is an event id stored before. Nearly
            # always every event is new, which one executemany's summed row count shows; only
            # a batch with a duplicate goes back and inserts row by row to learn which. The
            # writer thread holds the GIL for each statement's Python side: a loop of 200
            # executes was about a fifth of its time on the event loop's core.
            cursor.execute("SAVEPOINT accept_events")
            cursor.executemany(event_sql, [args for _, args in events])
            if cursor.rowcount == len(events):
                cursor.execute("RELEASE accept_events")
                inserted = {event_id for event_id, _ in events}
            else:
                cursor.execute("ROLLBACK TO accept_events")
                cursor.execute("RELEASE accept_events")
                inserted = set()
                for event_id, args in events:
                    cursor.execute(event_sql, args)
                    if cursor.rowcount == 1:
                        inserted.add(event_id)
            new = [args for event_id, args in batch if event_id in inserted]
            if new:
                cursor.executemany(message_sql, new)
            return inserted

        return await self._writer.transaction(work)

    async def record(
        self,
        updates: Sequence[Row],
        attempt_rows: Sequence[Row],
        *,
        again: bool = False,
        renumbered: Renumbered,
    ) -> None:
        """Update the messages in order, then insert the attempts (a foreign key each).

        The update of a message whose attempt's number is taken (not above its
        ``attempt_count``: another engine's attempt of it) updates nothing; the transaction is
        then rolled back, and another reads the messages' attempts and writes the batch under
        the numbers ``attempt_numbers`` gives, its rows as ``renumbered`` gives them.
        ``again`` (a try after one that failed) there passes over the attempts stored already;
        it is not needed otherwise: the commit is the writer thread's own, so a transaction
        that failed was rolled back, and none of its rows is stored (unlike PostgreSQL's, whose
        answer can be lost after the commit)."""
        if not updates:
            return
        update = self._statement("update", updates[0])
        insert_attempt = self._statement("attempt", attempt_rows[0])
        update_args = update.all_args(updates)
        attempt_args = insert_attempt.all_args(attempt_rows)

        def work(conn: sqlite3.Connection) -> None:
            cursor = conn.cursor()
            cursor.executemany(update.sql, update_args)
            if cursor.rowcount != len(update_args):  # a number taken: rolled back
                raise Taken
            cursor.executemany(insert_attempt.sql, attempt_args)

        if in_order(attempt_rows):
            try:
                await self._writer.transaction(work)
                return
            except Taken:
                pass
        start = insert_attempt.keys.index("started_at")  # as stored: compared with the column
        given = [
            Given(row["message_id"], row["number"], args[start])
            for row, args in zip(attempt_rows, attempt_args, strict=True)
        ]

        def numbering(conn: sqlite3.Connection) -> None:
            cursor = conn.cursor()
            counts, stored = _numbers_stored(cursor, sorted({g.message_id for g in given}))
            numbers = numbered(given, counts, stored, again=again)
            rows = [renumbered(index, n) for index, n in enumerate(numbers) if n is not None]
            cursor.executemany(update.sql, [update.args(u) for u, _ in rows])
            cursor.executemany(insert_attempt.sql, [insert_attempt.args(a) for _, a in rows])

        await self._writer.transaction(numbering)

    async def zd_history(self, zd_numbers: Sequence[str]) -> list[HistoryRow]:
        """(zd_number, id, type, action) of the events with these ZD numbers, oldest first: a
        search of the ``zd_number`` index, in one hand-over to the writer thread."""
        if not zd_numbers:
            return []

        def work(conn: sqlite3.Connection) -> list[HistoryRow]:
            return _history(conn.cursor(), zd_numbers)

        return await self._writer.read(work)

    async def read_token(self, token_hash: str) -> TokenRows:
        """A token by its hash and its grants, one statement in one hand-over to the reading
        thread (``hot_reads``)."""
        reads = self._token_reads

        def work(conn: sqlite3.Connection) -> TokenRows:
            return reads.split(conn.execute(reads.token.sql, reads.args(token_hash)).fetchall())

        return await self._reader.read(work)

    async def warm_up(
        self, event_row: Row, message_row: Row, update_row: Row, attempt_row: Row
    ) -> None:
        """Build the hot statements for rows shaped like these, and have the writer thread
        open its connection and compile them, writing nothing (``executemany`` of no rows
        compiles a statement and runs it for none): the first batch then costs what the
        next ones do. The rows only give the statements their columns."""
        shapes = (
            ("event", event_row),
            ("messages", message_row),
            ("update", update_row),
            ("attempt", attempt_row),
        )
        statements = [self._statement(name, row).sql for name, row in shapes]

        def work(conn: sqlite3.Connection) -> None:
            cursor = conn.cursor()
            for sql in statements:
                cursor.executemany(sql, [])

        await self._writer.read(work)

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()

    def _statement(self, name: str, row: Row) -> Prepared:
        """The statement for rows shaped like ``row`` (a batch's rows come from one builder).

        Keyed by the row's keys too: an INSERT's column list is the keys its rows carry. Each
        is compiled once per process for stores alike (``compiled_cache.made_once``), at the
        first batch or the warm-up, after the store's first connection.
        """
        keys = tuple(row)
        prepared = self._prepared.get((name, keys))
        if prepared is None:
            statement = self._statements[name]
            prepared = self._prepared[(name, keys)] = made_once(
                self._dialect, statement, lambda: prepare(statement, self._dialect, keys), keys
            )
        return prepared


WRITER_CACHE_KIB = 32 * 1024
"""The writer connection's page cache, in KiB (SQLite's default is 2,000). Every event puts an
entry at a random place in each index keyed by random values (the events' and messages' ids,
the messages' event ids, the BSN hashes, the attempts' message ids); once those outgrew 2 MB,
nearly every entry read its page from the file again. With 32 MiB the writer thread's SQLite
work per event on a store of 100,000 messages is about a sixth less (``bench/bench_sqlite_rows.py``;
bench/results/perf.md, "SQLite's own work per event"). Pages are taken as they are used: a
small store uses little of it. Only the writer's: the other connections keep the default."""


def _set_writer_pragmas(conn: sqlite3.Connection) -> None:
    """The store's settings, and the writer's larger page cache (``WRITER_CACHE_KIB``)."""
    set_sqlite_pragmas(conn)
    conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")


def _numbers_stored(
    cursor: sqlite3.Cursor, message_ids: Sequence[str]
) -> tuple[dict[str, int], list[tuple[str, int, Any]]]:
    """The messages' ``attempt_count`` and their attempts' (message, number, start), a query
    each per ``ZD_CHUNK`` of ids: what ``attempt_numbers.numbered`` numbers a batch by."""
    counts: dict[str, int] = {}
    stored: list[tuple[str, int, Any]] = []
    for first in range(0, len(message_ids), ZD_CHUNK):
        part = tuple(message_ids[first : first + ZD_CHUNK])
        marks = ", ".join("?" * len(part))
        counts.update(
            cursor.execute(
                f"SELECT id, attempt_count FROM messages WHERE id IN ({marks})",  # noqa: S608
                part,
            ).fetchall()
        )
        stored += cursor.execute(
            f"SELECT message_id, number, started_at FROM attempts WHERE message_id IN ({marks})",  # noqa: S608
            part,
        ).fetchall()
    return counts, stored


ZD_CHUNK = 500
"""ZD numbers per history query: one ``IN`` list of at most this many bound variables."""


def _history(cursor: sqlite3.Cursor, zd_numbers: Sequence[str]) -> list[HistoryRow]:
    """The history query's rows for these numbers, a query per ``ZD_CHUNK`` of them."""
    found: list[HistoryRow] = []
    for start in range(0, len(zd_numbers), ZD_CHUNK):
        part = tuple(zd_numbers[start : start + ZD_CHUNK])
        found += cursor.execute(ZD_HISTORY_SQL.format(", ".join("?" * len(part))), part).fetchall()
    return found
