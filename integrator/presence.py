"""Engine presence: a running engine says so in the store, and the store fallback listens.

Commands that hand work to the running engine (``submit``, ``resend``, ``deadletter resend``,
``events route``) find it at the CLI's ``INTEGRATOR_HTTP_HOST``/``PORT``. When nothing answers
there they used to write into the store directly, "to be sent when the engine runs". If an
engine *was* running on that store, only elsewhere (another port, or ``--no-http``), that
silently bypassed its token check and left the work unsent until its next restart, while the
command reported success. So each engine keeps a row in the store (``Presence``) with its
HTTP address and a heartbeat, and ``engine_way`` refuses the store fallback while a fresh row
is there: the user is told where the engine is instead.

A crashed engine cannot delete its row; once its heartbeat is older than ``FRESH_FOR`` it no
longer counts, and the fallback works as before. On the engine's own machine that wait is not
needed: a row whose ``host`` is this machine's name and whose ``pid`` no process has is a
crashed engine's at once, and the command deletes it (``_crashed_here``); a row of another
machine cannot be checked so and counts until it is stale. Heartbeats use the wall clock, not
the engine's injectable clock: the reader is another process comparing against its own "now".

The row also says what the engine delivers through (``transport_of``). At its start an engine
re-queues (embedded) or re-publishes (RabbitMQ) every message the store lists as waiting; a
second engine doing so on the same store through other queues delivers each of them a second
time. So registering is refused (``EngineDisagrees``, before anything is resumed or sent) when
the two would not share the queues: see ``refuse_disagreeing``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from yarl import URL

from integrator.counting import counted
from integrator.engine_api import engine_running, engine_url
from integrator.errors import IntegratorError
from integrator.eventloop import stop_task
from integrator.log_throttle import Clock, LogThrottle, tell_ended, tell_failed
from integrator.logging import get_logger
from integrator.settings import Settings
from integrator.store import EnginePresence, Store, StoreError
from integrator.store.presence import FRESH_FOR, HEARTBEAT_EVERY, crashed_here, pid_namespace

log = get_logger("integrator.presence")


def http_address(settings: Settings, *, http: bool) -> str | None:
    """Where the engine serves its API (``host:port`` as configured, ``[::1]:8080`` for an IPv6
    address); None with ``--no-http``."""
    return settings.http_authority if http else None


def _now() -> datetime:
    return datetime.now(UTC)


EMBEDDED: Final = "embedded"
"""``transport_of`` for the embedded transport: in-memory queues inside one engine."""

_RABBITMQ: Final = "rabbitmq "
_AMQP_PORTS: Final = {"amqp": 5672, "amqps": 5671}


def transport_of(settings: Settings) -> str:
    """What an engine with ``settings`` delivers through, as its presence row records it.

    ``embedded``, or ``rabbitmq HOST:PORT vhost=VHOST prefix=PREFIX``: the broker as the AMQP
    library reads ``INTEGRATOR_AMQP_URL`` (default port by scheme, vhost ``/`` when none is
    given, host in lower case), without user or password, and ``INTEGRATOR_AMQP_PREFIX``. Two
    engines share their queues exactly when these are equal. The host is compared as written:
    engines reaching one broker under two names (an IP address and a DNS name) are refused as
    if on two brokers, which errs on the side of no double delivery.
    """
    if not settings.amqp_url:
        return EMBEDDED
    url = URL(settings.amqp_url)
    host = (url.host or "").lower()
    if ":" in host:  # IPv6: as in a URL
        host = f"[{host}]"
    port = url.port or _AMQP_PORTS.get(url.scheme.lower(), 5672)
    vhost = "/" if url.path in ("", "/") else url.path[1:].replace("%2F", "/")
    return f"{_RABBITMQ}{host}:{port} vhost={vhost} prefix={settings.amqp_prefix}"


def describe_transport(transport: str | None) -> str:
    """A recorded transport in words, for error texts (it holds no credentials)."""
    if transport is None:
        return "a transport it did not record (an engine of a version from before that)"
    if transport == EMBEDDED:
        return "the embedded transport"
    if transport.startswith(_RABBITMQ):
        return "RabbitMQ at " + transport.removeprefix(_RABBITMQ)
    return transport


class Presence:
    """The engine's own row: registered at start, refreshed every ``every`` s, removed at stop."""

    def __init__(
        self,
        store: Store,
        address: str | None,
        *,
        data_keys: Sequence[str] = (),
        transport: str | None = None,
        retention: str | None = None,
        every: float = HEARTBEAT_EVERY,
        log_clock: Clock = time.monotonic,
    ) -> None:
        """``transport``: ``transport_of`` the engine's settings; given, ``start`` refuses to
        register beside an engine it disagrees with (``refuse_disagreeing``). None (a row made
        by a test or a tool): registered as unknown, unchecked. ``log_clock``: the clock of
        the heartbeat's outage lines (``integrator.log_throttle``), a test's to move."""
        now = _now()
        self.row = EnginePresence(
            id=str(uuid.uuid4()),
            host=socket.gethostname(),
            pid=os.getpid(),
            http_address=address,
            started_at=now,
            heartbeat_at=now,
            pid_namespace=pid_namespace(),
            data_keys=",".join(data_keys),
            transport=transport,
            retention=retention,
        )
        self._store = store
        self._every = every
        self._task: asyncio.Task[None] | None = None
        # A store away for a minute failed every beat of every engine, each in a line of its
        # own: told by the first, then once a minute, then once when a beat works again.
        self._failing = LogThrottle(first=1, clock=log_clock)

    async def start(self) -> None:
        """Register, and beat from now on; ``EngineDisagrees`` (nothing registered) when an
        engine already on the store would deliver the same messages through other queues."""
        if self.row.transport is None:
            await self._store.register_engine(self.row)
        else:
            now = _now()
            own = self.row

            def admit(others: list[EnginePresence]) -> None:
                refuse_disagreeing(own, others, now=now)

            await self._store.register_engine(own, admit=admit, since=now - FRESH_FOR)
        self._task = asyncio.create_task(self._loop(), name="engine-presence")

    async def stop(self) -> None:
        """Stop beating, and no longer count as running; a failure is logged (the row then
        goes stale).

        The row of an engine on RabbitMQ stays, no longer fresh, for the recovery leader: what
        the engine committed and never had confirmed is published by nothing else, and the
        leader re-publishes the store's pending messages before it removes the row
        (``departures``). Any other row is removed."""
        await stop_task(self._task)
        self._task = None
        await self._leave(for_recovery=_left_for_recovery(self.row))

    async def left_owing(self) -> None:
        """Leave the row for the recovery leader once more, at the end of a stop that leaves
        messages unpublished: a leader may have taken the row away since ``stop``, having
        re-published before these were committed or refused."""
        await self._leave(for_recovery=True)

    async def _leave(self, *, for_recovery: bool) -> None:
        """Leave the row, no longer fresh (``for_recovery``), or remove it; a failure is
        logged, and the row then goes stale."""
        try:
            if for_recovery:
                await self._store.leave_engine(self.row, _left_at(_now()))
            else:
                await self._store.remove_engine(self.row.id)
        except Exception as exc:
            log.warning("engine presence not removed", error_type=type(exc).__name__)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                if not await self._store.beat_engine(self.row.id, _now()):
                    # Deleted behind our back (a restore, a hand clean-up): be present again.
                    await self._store.register_engine(self.row)
            except Exception as exc:  # the store may be down for a while; beat again later
                tell_failed(
                    self._failing,
                    log,
                    "engine heartbeat failed",
                    "engine heartbeat still failing",
                    error_type=type(exc).__name__,
                    # The store's errors name its code and cause, never a value.
                    **({"error": str(exc)} if isinstance(exc, StoreError) else {}),
                )
            else:
                tell_ended(self._failing, log, "engine heartbeat works again")


BUSY_ENGINE_S: Final = 10.0
"""How long the second look waits for an engine that the store says runs with its HTTP API
(``engine_way``): one answering ``/healthz`` later than the first look's second is busy, not
elsewhere, and a command refused for it ("none answers at …") told support to change settings
that were right."""


class EngineElsewhere(IntegratorError):
    """An engine runs on this store but not where the CLI looks: nothing may be done behind it."""

    exit_code = 2

    def __init__(self, engine: EnginePresence, looked_at: str, *, now: datetime) -> None:
        who = _seen(engine, now)
        if engine.http_address is None:
            text = (
                f"an engine is running on this store without its HTTP API ({who}), and this "
                "command needs that API: run the engine with HTTP (without --no-http) and "
                f"point INTEGRATOR_HTTP_HOST/INTEGRATOR_HTTP_PORT at it; nothing was done"
            )
        else:
            text = (
                f"an engine is running on this store (HTTP at {engine.http_address}, {who}) but "
                f"none answers at {looked_at}: set INTEGRATOR_HTTP_HOST/INTEGRATOR_HTTP_PORT to "
                "its address; nothing was done"
            )
        super().__init__(text)
        self.engine = engine


async def refuse_if_engine_present(settings: Settings, store: Store) -> None:
    """Raise ``EngineElsewhere`` when the store lists a fresh engine (the most recent one).

    A fresh row of an engine that crashed on this machine is deleted instead: it would have
    blocked every command for up to ``FRESH_FOR`` after the crash.
    """
    now = _now()
    for engine in await store.fresh_engines(now - FRESH_FOR):
        if _crashed_here(engine):
            if _left_for_recovery(engine):  # kept, no longer fresh, for the recovery leader
                await store.leave_engine(engine, _left_at(now))
            else:
                await store.remove_engine(engine.id)
            log.info("crashed engine's presence no longer counts", engine_pid=engine.pid)
            continue
        raise EngineElsewhere(engine, engine_url(settings), now=now)


class EngineDisagrees(IntegratorError):
    """Another engine runs on this store through queues this one does not share.

    Both would re-queue or re-publish the messages the store lists as waiting, each into its
    own queues, and deliver them: every waiting message twice, under the same MSH-10. So the
    engine that starts second does not start, before it resumes or sends anything.
    """

    exit_code = 2

    def __init__(self, own: str, other: EnginePresence, *, now: datetime) -> None:
        if own == EMBEDDED:
            todo = (
                "The embedded transport delivers from one engine per store: stop the other "
                "engine first, or run every engine with one broker and one prefix "
                "(INTEGRATOR_AMQP_URL, INTEGRATOR_AMQP_PREFIX) on PostgreSQL"
            )
        elif other.transport == EMBEDDED:
            todo = (
                "An engine on the embedded transport must be the only one on its store: stop "
                "it first, or restart it with this engine's INTEGRATOR_AMQP_URL and "
                "INTEGRATOR_AMQP_PREFIX"
            )
        else:
            todo = (
                "Engines on one store must share one broker and one prefix: set "
                "INTEGRATOR_AMQP_URL (host, port, virtual host) and INTEGRATOR_AMQP_PREFIX as "
                "the running engine has them, or stop it first"
            )
        super().__init__(
            f"another engine is running on this store ({_who(other, now)}) with "
            f"{describe_transport(other.transport)}, and this one would use "
            f"{describe_transport(own)}: both would deliver the messages waiting in the store, "
            f"each of them twice. {todo}. This engine did not start and sent nothing."
        )
        self.other = other


def refuse_disagreeing(
    own: EnginePresence, others: Sequence[EnginePresence], *, now: datetime
) -> None:
    """Raise ``EngineDisagrees`` when ``own`` may not run beside one of the fresh ``others``.

    - ``own`` on the embedded transport: any other engine refuses it. Its queues are in its
      memory, so the store's waiting messages would be queued by both, whatever the database
      and whatever the other uses; an engine that did not record its transport too.
    - ``own`` on RabbitMQ: an engine on the embedded transport, or on another broker, virtual
      host or prefix, refuses it. Engines with the same broker and prefix share the queues
      (one consumer per destination queue, one recovery leader) and may run together.
      An engine that did not record its transport (None: started by a version from before
      0021) does not: during a rolling upgrade the engines still on the old version are the
      same deployment, and refusing them would make every upgrade a full stop. A RabbitMQ
      engine of another deployment on an old version is not caught; it is once upgraded.

    A row of an engine that crashed on this machine (``_crashed_here``) is left out, as a stale
    row is (``others`` are the fresh ones): a crashed engine delivers nothing.
    """
    transport = own.transport
    for other in others:
        if other.id == own.id or _crashed_here(other):
            continue
        if transport == EMBEDDED:
            raise EngineDisagrees(transport, other, now=now)
        if other.transport is None or other.transport == transport:
            continue
        assert transport is not None
        raise EngineDisagrees(transport, other, now=now)


class EngineLacksKey(IntegratorError):
    """A running engine does not seal with the data key the store is about to be sealed with.

    Sealing anyway would leave one without the key unable to open what it must send, resend or
    show (its reads of those values fail until it is restarted with the key), so the rotation
    is refused. One that has the key but not first goes on sealing new values with its own
    first key: the rotation would then retire a key that still seals, so it is refused too.
    """

    exit_code = 2

    def __init__(self, kid: str, engines: Sequence[EnginePresence], *, now: datetime) -> None:
        listed = "; ".join(_who(engine, now) for engine in engines)
        one = len(engines) == 1
        super().__init__(
            f"{counted(len(engines), 'running engine')} on this store "
            f"{'does' if one else 'do'} not have data key {kid!r} first, so "
            f"{'it does' if one else 'they do'} not seal with it ({listed}): restart "
            f"{'it' if one else 'each'} with {kid} first in "
            "INTEGRATOR_DATA_KEYS, keeping the older keys after it, then rotate; nothing was "
            "sealed"
        )
        self.engines = tuple(engines)


def seals_with(engine: EnginePresence, kid: str) -> bool | None:
    """Whether ``engine`` seals new values with data key ``kid``: its first recorded key is
    ``kid``; None when it did not record its keys. An engine that has ``kid`` only after
    another key seals with that other one: the presence row keeps the ids in the order of
    its setting, the sealing key first."""
    kids = engine.key_ids
    if kids is None:
        return None
    return bool(kids) and kids[0] == kid


async def engines_not_sealing_with(store: Store, kid: str) -> list[EnginePresence]:
    """The running engines that recorded their keys and do not seal with ``kid`` (without it,
    or with another key first): what keeps ``keys rotate`` from retiring the other keys."""
    return [e for e in await running_engines(store) if seals_with(e, kid) is False]


async def engines_unsure_of_key(store: Store, kid: str) -> list[EnginePresence]:
    """Raise ``EngineLacksKey`` when a fresh engine runs without data key ``kid`` as its first
    (sealing) key; return the fresh engines that did not say which keys they have (started by a
    version from before that was recorded), for the caller to warn about.
    """
    now = _now()
    lacking: list[EnginePresence] = []
    unknown: list[EnginePresence] = []
    for engine in await running_engines(store):
        sealing = seals_with(engine, kid)
        if sealing is None:
            unknown.append(engine)
        elif not sealing:
            lacking.append(engine)
    if lacking:
        raise EngineLacksKey(kid, lacking, now=now)
    return unknown


async def running_engines(store: Store) -> list[EnginePresence]:
    """The engines running on ``store`` now, newest first: fresh rows, less those of engines
    that crashed on this machine (``integrator.store.presence.running_at``)."""
    return await store.running_engines(_now())


@dataclass(frozen=True, slots=True)
class EnginesSeen:
    """The engines on a store as one look at its presence rows found them: ``running``, those
    with a fresh row (seen at or after ``seen_since``) less ``crashed``, the fresh rows of
    processes gone from this machine (``_crashed_here``). Any other engine is gone: its row
    was removed, or went stale."""

    seen_since: datetime
    running: frozenset[str]
    crashed: frozenset[str]

    def gone(self, engine_id: str) -> bool:
        return engine_id not in self.running


async def engines_seen(store: Store) -> EnginesSeen:
    """The engines running on ``store`` now and those known dead (``running_engines``): what
    tells a job left ``running`` by an engine that is gone (``integrator.jobs``)."""
    since = _now() - FRESH_FOR
    fresh = await store.fresh_engines(since)
    crashed = frozenset(e.id for e in fresh if _crashed_here(e))
    return EnginesSeen(since, frozenset(e.id for e in fresh) - crashed, crashed)


def _left_at(now: datetime) -> datetime:
    """The heartbeat of a row left behind at ``now``: one that no longer counts as fresh."""
    return now - FRESH_FOR - timedelta(seconds=1)


def _left_for_recovery(engine: EnginePresence) -> bool:
    """Whether ``engine``'s row outlives it for the RabbitMQ recovery leader: that of an engine
    on RabbitMQ (``transport_of``); an embedded engine's messages are queued again by the next
    start, and a row of unknown transport is a tool's or a test's."""
    return engine.transport is not None and engine.transport != EMBEDDED


class Departures:
    """The engines that left a store, for the RabbitMQ recovery leader
    (``integrator.transport.recovery``): every row but ``own``'s that is no longer fresh (an
    engine stopped, or crashed and no longer beating) or is a crashed engine's on this machine.

    Such an engine may have committed messages it never had confirmed: an event accepted over
    HTTP (its sender's retry is answered "duplicate"), or owed since its link went. The leader
    re-publishes the store's pending messages, then ``forget``s the rows it saw: kept until
    then, a departure is seen however briefly the engine ran, and one whose re-publish failed
    is seen again.

    ``own`` is the engine's presence id, remembered once given: the engine's goes None as its
    stop begins (its jobs no longer name it), while the leader goes on asking until the stop
    closes the transport. Its row, left no longer fresh at that moment for *another* leader,
    then counted as a departure to itself: a stopping leader re-published every pending
    message (the one still on the wire too) and deleted its own row."""

    def __init__(self, store: Store, own: Callable[[], str | None]) -> None:
        self._store = store
        self._own = own
        self._own_id = own()

    def _own_row(self) -> str | None:
        """The engine's presence id: as it is now, or as it was before its stop began."""
        own = self._own()
        if own is not None:
            self._own_id = own
        return self._own_id

    async def seen(self) -> list[EnginePresence]:
        since = _now() - FRESH_FOR
        own = self._own_row()
        return [
            e
            for e in await self._store.all_engines()
            if e.id != own and (e.heartbeat_at < since or _crashed_here(e))
        ]

    async def forget(self, engines: Sequence[EnginePresence]) -> None:
        await self._store.forget_engines(engines)


def describe_engine(engine: EnginePresence, now: datetime | None = None) -> str:
    """One engine as a person can find it: its HTTP address, pid, host and last heartbeat."""
    return _who(engine, now or _now())


def _who(engine: EnginePresence, now: datetime) -> str:
    where = f"HTTP at {engine.http_address}, " if engine.http_address else ""
    return where + _seen(engine, now)


def _seen(engine: EnginePresence, now: datetime) -> str:
    seen = max(0, int((now - engine.heartbeat_at).total_seconds()))
    return f"pid {engine.pid} on host {engine.host}, last seen {seen} s ago"


def _crashed_here(engine: EnginePresence) -> bool:
    """True when ``engine`` ran on this machine and its process is gone (``crashed_here``)."""
    return crashed_here(engine.host, engine.pid, engine.pid_namespace)


async def engine_way(settings: Settings, store: Store) -> bool:
    """True: hand the work to the engine's API. False: no engine runs; work in ``store``.

    Call it before writing anything. An engine that runs on this store but does not answer at
    the configured address raises ``EngineElsewhere`` (exit 2), so the command does nothing.
    """
    if await engine_running(settings):
        return True
    try:
        await refuse_if_engine_present(settings, store)
    except EngineElsewhere as elsewhere:
        # One the store says runs with its API may be busy (a burst, a loaded machine) and
        # slower than the first look's second to answer: looked at again, longer, before the
        # command is refused. One that is elsewhere refuses the connection at once.
        if elsewhere.engine.http_address is None:
            raise
        if not await engine_running(settings, timeout=BUSY_ENGINE_S):
            raise
        return True
    return False
