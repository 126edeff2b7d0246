"""One thread with its own SQLite connection that runs a whole write transaction per hand-over.

Through SQLAlchemy and aiosqlite every driver call crosses to aiosqlite's thread and back (a
queue put, a wake-up of the event loop, the GIL changing hands twice): 7 to 8 crossings per hot
write transaction, each costing more than the SQLite work of a small batch. Here the event loop
hands over one function that runs BEGIN IMMEDIATE, the statements and COMMIT, and gets one
answer back.

Checkpoints happen beside it, not in it: a commit that finds the WAL past SQLite's
auto-checkpoint size copies the WAL back into the database and fsyncs both files before it
returns, which held intake and the attempt recorder up for tens to hundreds of milliseconds at a
time. A second thread with a connection of its own runs a passive checkpoint (it never waits for
a lock nor holds one up) shortly after commits, so by the time a commit crosses the
auto-checkpoint size (``engine.SQLITE_PRAGMAS``) almost nothing is left for it to copy and sync;
that commit still ends the WAL's cycle, so the file does not grow without bound under a steady
stream.

Locking is unchanged: the store still queues its writers on its own lock first, and SQLite's
single write lock (taken at BEGIN IMMEDIATE, waiting up to the busy timeout) still orders writers
of different processes. Driver errors come back as SQLAlchemy's ``DBAPIError`` family, wrapping
the same ``sqlite3`` exception SQLAlchemy would, so ``failures.guarded`` classifies them as
before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from queue import SimpleQueue
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Work | None]


class SqliteWriter:
    """Runs transactions on one lazily opened connection, one at a time, in order."""

    def __init__(
        self,
        connect_args: Sequence[Any],
        connect_kwargs: Mapping[str, Any],
        setup: Callable[[sqlite3.Connection], None],
        *,
        name: str = "store-writer",
        checkpoints: bool = True,
    ) -> None:
        """``checkpoints``: False for a connection that only reads (``read``): nothing it
        does grows the WAL, so no thread checkpoints after it."""
        self._name = name
        self._checkpoints = checkpoints
        self._connect_args = tuple(connect_args)
        # Autocommit mode: the transactions below say BEGIN and COMMIT themselves.
        self._connect_kwargs = {**connect_kwargs, "isolation_level": None}
        self._setup = setup
        self._jobs: SimpleQueue[_Job] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._checkpointer: _Checkpointer | None = None

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` between BEGIN IMMEDIATE and COMMIT; roll back if it raises."""
        return await self._submit(_in_transaction(work))  # type: ignore[no-any-return]

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` outside a transaction, in turn with the transactions: for a read on the
        hot path, one hand-over where SQLAlchemy and aiosqlite take five. Each statement sees
        what was committed before it; nothing is written, so no checkpoint follows."""
        return await self._submit(_Read(work))  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Finish the queued work, close the connection and end the thread.

        Like disposing of SQLAlchemy's pool: a later transaction opens a new connection.
        """
        if self._thread is None:
            return
        # Detached first: work submitted meanwhile goes to a new thread, not after the stop.
        jobs, self._jobs, self._thread = self._jobs, SimpleQueue(), None
        checkpointer, self._checkpointer = self._checkpointer, None
        loop = asyncio.get_running_loop()
        stopped: asyncio.Future[Any] = loop.create_future()
        jobs.put((loop, stopped, None))
        await asyncio.shield(stopped)
        if checkpointer is not None:
            await asyncio.to_thread(checkpointer.stop)

    async def _submit(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._thread is None:
            if self._checkpoints:
                self._checkpointer = _Checkpointer(
                    self._connect_args, self._connect_kwargs, self._setup
                )
            self._thread = threading.Thread(
                target=_serve,
                args=(
                    self._jobs,
                    self._connect_args,
                    self._connect_kwargs,
                    self._setup,
                    _nothing if self._checkpointer is None else self._checkpointer.committed,
                ),
                name=self._name,
                daemon=True,
            )
            self._thread.start()
        self._jobs.put((loop, future, work))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The thread finishes the transaction regardless; the caller's write turn must last
            # until it has, or the next writer would meet SQLite's lock instead of its turn.
            if not future.done():
                await asyncio.wait([future])
            if not future.cancelled():
                future.exception()  # seen: not reported as "never retrieved"
            raise
        except sqlite3.Error as error:
            raise _as_sqlalchemy_error(error) from None


def _nothing() -> None:
    pass


class _Read:
    """Work that only reads (``SqliteWriter.read``)."""

    __slots__ = ("work",)

    def __init__(self, work: Work) -> None:
        self.work = work

    def __call__(self, conn: sqlite3.Connection) -> Any:
        return self.work(conn)


def _in_transaction(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    def run(conn: sqlite3.Connection) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return run


def _serve(
    jobs: SimpleQueue[_Job],
    connect_args: tuple[Any, ...],
    connect_kwargs: dict[str, Any],
    setup: Callable[[sqlite3.Connection], None],
    committed: Callable[[], None],
) -> None:
    conn: sqlite3.Connection | None = None
    while True:
        loop, future, work = jobs.get()
        if work is None:
            if conn is not None:
                conn.close()
            _answer(loop, future, None, None)
            return
        try:
            if conn is None:
                conn = sqlite3.connect(*connect_args, **connect_kwargs)
                setup(conn)
            result = work(conn)
        except BaseException as error:  # handed to the awaiting coroutine, not lost
            _answer(loop, future, None, error)
        else:
            _answer(loop, future, result, None)
            if not isinstance(work, _Read):
                committed()


def _answer(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(settle)


def _as_sqlalchemy_error(error: sqlite3.Error) -> sa_exc.DBAPIError:
    """The exception SQLAlchemy would have raised for this driver error (parameters hidden)."""
    wrapped = sa_exc.DBAPIError.instance(None, None, error, sqlite3.Error, hide_parameters=True)
    assert isinstance(wrapped, sa_exc.DBAPIError)
    return wrapped


CHECKPOINT_PAUSE = 0.1
"""Seconds between two background checkpoints: often enough that a commit rarely finds much to
copy, seldom enough that each copies many commits' pages (two fsyncs per checkpoint)."""

CHECKPOINT_PAUSE_NEAR_END = 0.02
"""Seconds between them once the WAL holds ``NEAR_END`` of its cycle (the auto-checkpoint
size). The commit that crosses the size copies back what no checkpoint has yet and syncs it
before it returns, while intake and the recorder wait for it: with 0.1 s between checkpoints
that was up to 0.1 s of writes, 9-21 ms at 1,300 events/s, once every cycle (0.4 s), and the
embedded default's p99. Checkpoints that close together all through the cycle cost a burst a
few per cent of its CPU (hot pages copied back more often); near its end only, they do not."""

NEAR_END = 0.6
"""The share of the auto-checkpoint size from which ``CHECKPOINT_PAUSE_NEAR_END`` applies."""


class _Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` after commits, on its own connection.

    Started with the writer's thread; it sleeps until a commit, checkpoints, then pauses.
    A failed checkpoint is only tried again later: the commit path checkpoints by itself too.
    """

    def __init__(
        self,
        connect_args: tuple[Any, ...],
        connect_kwargs: dict[str, Any],
        setup: Callable[[sqlite3.Connection], None],
    ) -> None:
        self._connect_args = connect_args
        self._connect_kwargs = connect_kwargs
        self._setup = setup
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        cycle = 0  # the auto-checkpoint size, in frames, read from the connection
        try:
            while True:
                self._wanted.wait()
                if self._stopping.is_set():
                    return
                self._wanted.clear()
                pause = CHECKPOINT_PAUSE
                try:
                    if conn is None:
                        conn = sqlite3.connect(*self._connect_args, **self._connect_kwargs)
                        self._setup(conn)
                        (cycle,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
                    _busy, frames, _copied = conn.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    if cycle > 0 and frames >= cycle * NEAR_END:
                        pause = CHECKPOINT_PAUSE_NEAR_END
                except sqlite3.Error:
                    if conn is not None:
                        conn.close()
                    conn = None  # opened again for the next one
                if self._stopping.wait(pause):
                    return
        finally:
            if conn is not None:
                conn.close()
