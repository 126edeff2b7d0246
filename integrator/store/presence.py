"""The store's side of engine presence: a row per running engine, with a heartbeat.

The store keeps the rows and answers which are fresh; what a fresh one means for a command is
decided in ``integrator.presence``. Nothing here is patient data.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Select, delete, func, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store import keycheck
from integrator.store.advisory import advisory_key
from integrator.store.failures import guarded
from integrator.store.tables import engine_presence, engine_retention

HEARTBEAT_EVERY: Final = 10.0
"""Seconds between heartbeats of a running engine."""

FRESH_FOR: Final = timedelta(seconds=3 * HEARTBEAT_EVERY)
"""A row whose heartbeat is older is a crashed engine's: it no longer blocks anything."""

PRESENCE_SINCE: Final = "0011"
"""The migration that made ``engine_presence``: a store older than it cannot say who runs."""


@dataclass(frozen=True, slots=True)
class EnginePresence:
    """One running engine: who (``id``, ``host``, ``pid``), its HTTP API, and when last seen.

    ``http_address`` is ``host:port`` as the engine was configured to serve it, or None when it
    runs without its HTTP API (``--no-http``).
    """

    id: str
    host: str
    pid: int
    http_address: str | None
    started_at: datetime
    heartbeat_at: datetime
    pid_namespace: str | None = None
    """Whose pids ``pid`` is one of (Linux: ``pid:[4026531836]``); None where unknown."""
    data_keys: str | None = None
    """The ids of the data keys it runs with, comma-separated, the sealing key first; empty:
    none; None: unknown (an engine from before this was recorded)."""
    transport: str | None = None
    """What it delivers through: ``embedded``, or ``rabbitmq HOST:PORT vhost=V prefix=P`` (no
    credentials; ``integrator.presence.transport_of``); None: unknown (before 0021)."""
    retention: str | None = None
    """The retention periods it prunes with, as JSON (``Retention.to_json``); None: unknown
    (before 0029, or a row made by a tool). ``integrator.lifecycle.agreement`` reads it."""

    @property
    def key_ids(self) -> tuple[str, ...] | None:
        """``data_keys`` as ids; None when unknown."""
        if self.data_keys is None:
            return None
        return tuple(kid for kid in self.data_keys.split(",") if kid)


Admit = Callable[[list[EnginePresence]], None]
"""Judges the other fresh engines at registration; raises to refuse (nothing is registered)."""

_SQLITE_PRESENCE_TURN = text("UPDATE engine_presence SET id = id WHERE 0")
"""Writes nothing, but as a write it takes SQLite's one write lock (waiting its turn)."""


async def presence_turn(conn: AsyncConnection, schema: str | None) -> None:
    """Take the turn that registering an engine takes, as the transaction's first statement,
    and hold it to the commit: a registration waits for this transaction, and what this
    transaction reads next already holds every registration before it.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write (its single write lock;
    a registration's insert is the first statement of its own transaction).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(advisory_key("presence", schema))))
    else:
        await conn.execute(_SQLITE_PRESENCE_TURN)


def _fresh(since: datetime | None) -> Select[Any]:
    """The engines whose heartbeat is at or after ``since`` (None: every one), the most
    recently seen first."""
    query = select(engine_presence)
    if since is not None:
        query = query.where(engine_presence.c.heartbeat_at >= since)
    return query.order_by(engine_presence.c.heartbeat_at.desc(), engine_presence.c.id)


async def running_at(conn: AsyncConnection, now: datetime) -> list[EnginePresence]:
    """The engines running at ``now``, the most recently seen first: fresh rows, less those of
    engines that crashed on this machine (``crashed_here``). At head only (every column read)."""
    rows = await conn.execute(_fresh(now - FRESH_FOR))
    found = [EnginePresence(**row._mapping) for row in rows]
    return [e for e in found if not crashed_here(e.host, e.pid, e.pid_namespace)]


async def engines_running_at(
    conn: AsyncConnection, now: datetime, *, revision: str = PRESENCE_SINCE
) -> list[str]:
    """The engines with a fresh heartbeat, each as a person finds it (``host`` pid ``pid``,
    its HTTP address); read with the columns every revision since ``PRESENCE_SINCE`` has, and
    from ``NAMESPACE_SINCE`` on without one that crashed on this machine (``crashed_here``):
    the README promises a crashed engine's row stops counting at once on its own machine."""
    namespaced = revision >= NAMESPACE_SINCE
    namespace = engine_presence.c.pid_namespace if namespaced else literal(None)
    rows = await conn.execute(
        select(
            engine_presence.c.host,
            engine_presence.c.pid,
            engine_presence.c.http_address,
            namespace,
        )
        .where(engine_presence.c.heartbeat_at >= now - FRESH_FOR)
        .order_by(engine_presence.c.heartbeat_at.desc())
    )
    return [
        f"{host} pid {pid}" + (f", HTTP at {address}" if address else "")
        for host, pid, address, pid_ns in rows
        if not crashed_here(host, pid, pid_ns)
    ]


async def _record_retention(conn: AsyncConnection, presence: EnginePresence) -> None:
    """Keep ``presence``'s periods as the last started engine's (``engine_retention``)."""
    values = {
        "id": 1,
        "retention": presence.retention,
        "host": presence.host,
        "pid": presence.pid,
        "recorded_at": presence.started_at,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(engine_retention).values(**values)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[engine_retention.c.id],
            set_={k: v for k, v in values.items() if k != "id"},
            # An engine that registers again (its row was removed behind it) started earlier
            # than one recorded since: it does not overwrite that one's periods.
            where=engine_retention.c.recorded_at <= presence.started_at,
        )
    )


NAMESPACE_SINCE: Final = "0012"
"""The revision that added ``engine_presence.pid_namespace``."""


def pid_namespace() -> str | None:
    """This process's pid namespace (Linux: ``pid:[4026531836]``); None where there is none."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def crashed_here(host: str, pid: int, namespace: str | None) -> bool:
    """True when the engine of ``host`` and ``pid`` ran on this machine, among the pids this
    process sees, and its process is gone.

    Only a process that is certainly not there counts (``ProcessLookupError``): one of
    another user (``PermissionError``) is alive, and a pid taken again by another process
    keeps the row until it is stale, as before. The host name alone does not say that the pids
    are the same: a container on the host's network has the host's name and pids of its own,
    so a live engine there would look gone from outside. So the pid namespace must match too;
    a row without one (an engine of before, or a system without namespaces) waits until stale.
    """
    if host != socket.gethostname() or pid <= 0:
        return False
    if namespace is None or namespace != pid_namespace():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def schema(self) -> str | None: ...

    def _transaction(
        self, *, grows: bool = True
    ) -> AbstractAsyncContextManager[AsyncConnection]: ...


class PresenceMixin:
    @guarded("register the engine")
    async def register_engine(
        self: _StoreParts,
        presence: EnginePresence,
        *,
        admit: Admit | None = None,
        since: datetime | None = None,
    ) -> None:
        """Add the engine's row; with ``admit``, only if it admits the others that are fresh.

        ``admit`` is given, in the same transaction and after the insert, every other engine
        whose heartbeat is at or after ``since``; what it raises rolls the insert back and is
        raised here. Check and registration are one step, so two engines starting at the same
        moment cannot both miss each other: on SQLite the insert (the transaction's first
        statement, see ``Store._transaction``) takes the single write lock to the commit; on
        PostgreSQL a transaction-scoped advisory lock is taken first, so the second engine
        waits for the first's commit and then reads its row (READ COMMITTED: each statement
        sees what was committed before it began).

        An engine that names its keys is refused (``DataKeyError``, nothing registered) when
        its sealing key is retired by now. ``keys rotate`` retires under the same turn
        (``presence_turn``) after asking which running engines still seal with an old key, so
        an engine that opened the store before a retirement is either among those it asks
        about or, registering after it, refused here: never running unseen with a retired key.
        """
        async with self._transaction() as conn:
            if conn.dialect.name == "postgresql":
                await presence_turn(conn, self.schema)
            # The row is the record, column for field (a test holds the two to each other).
            await conn.execute(insert(engine_presence).values(**dataclasses.asdict(presence)))
            if presence.retention is not None:
                await _record_retention(conn, presence)
            sealing = presence.key_ids[0] if presence.key_ids else None
            if sealing is not None:
                keycheck.refuse_retired(await keycheck.known_keys(conn), sealing)
            if admit is not None:  # its own row among them: ``admit`` passes over it
                rows = await conn.execute(_fresh(since))
                admit([EnginePresence(**row._mapping) for row in rows])

    @guarded("read the last engine's retention")
    async def last_engine_retention(self: _StoreParts) -> EnginePresence | None:
        """The periods of the last engine that started on the store (kept after it stopped),
        as a presence row of it that is not fresh (its ``heartbeat_at`` when it recorded
        them); None when no engine recorded any."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(engine_retention))).first()
        if row is None:
            return None
        return EnginePresence(
            id="last-started",
            host=row.host,
            pid=row.pid,
            http_address=None,
            started_at=row.recorded_at,
            heartbeat_at=row.recorded_at,
            retention=row.retention,
        )

    @guarded("refresh the engine's heartbeat")
    async def beat_engine(self: _StoreParts, engine_id: str, at: datetime) -> bool:
        """Refresh the heartbeat; False when the row is gone (then the caller registers again)."""
        async with self._transaction(grows=False) as conn:
            result = await conn.execute(
                update(engine_presence)
                .where(engine_presence.c.id == engine_id)
                .values(heartbeat_at=at)
            )
        return bool(result.rowcount)

    @guarded("remove the engine's presence")
    async def remove_engine(self: _StoreParts, engine_id: str) -> None:
        async with self._transaction() as conn:
            await conn.execute(delete(engine_presence).where(engine_presence.c.id == engine_id))

    @guarded("mark the engine's presence as left")
    async def leave_engine(self: _StoreParts, presence: EnginePresence, at: datetime) -> None:
        """Keep the engine's row with ``at`` for its heartbeat (a time that no longer counts as
        fresh): no command counts it as running, and it stays until the RabbitMQ recovery
        leader has re-published what it may have left (``forget_engines``). Its row again if
        it was removed meanwhile."""
        async with self._transaction() as conn:
            result = await conn.execute(
                update(engine_presence)
                .where(engine_presence.c.id == presence.id)
                .values(heartbeat_at=at)
            )
            if not result.rowcount:
                row = dataclasses.replace(presence, heartbeat_at=at)
                await conn.execute(insert(engine_presence).values(**dataclasses.asdict(row)))

    @guarded("list the engines")
    async def all_engines(self: _StoreParts) -> list[EnginePresence]:
        """Every row, fresh or not, the most recently seen first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(_fresh(None))
            return [EnginePresence(**row._mapping) for row in rows]

    @guarded("forget the engines that left")
    async def forget_engines(self: _StoreParts, engines: Sequence[EnginePresence]) -> None:
        """Delete these rows, each only while its heartbeat is no later than the one read: an
        engine that beat since runs (again), and keeps its row."""
        if not engines:
            return
        async with self._transaction() as conn:
            for engine in engines:
                await conn.execute(
                    delete(engine_presence).where(
                        engine_presence.c.id == engine.id,
                        engine_presence.c.heartbeat_at <= engine.heartbeat_at,
                    )
                )

    @guarded("list the running engines")
    async def running_engines(self: _StoreParts, now: datetime) -> list[EnginePresence]:
        """The engines running at ``now`` (``running_at``), the most recently seen first."""
        async with self._engine.connect() as conn:
            return await running_at(conn, now)

    @guarded("list the running engines")
    async def fresh_engines(self: _StoreParts, since: datetime) -> list[EnginePresence]:
        """The engines whose heartbeat is at or after ``since``, the most recently seen first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(_fresh(since))
            return [EnginePresence(**row._mapping) for row in rows]
