"""Who re-publishes the store's pending messages: one engine at a time, the recovery leader.

The store is the outbox: a message committed but never confirmed by the broker (the engine died
between commit and confirm, or the broker went away) is only in the store. Re-publishing all
pending messages from every engine at every start would fill the queues with copies, so the
engines elect a leader with an *exclusive queue*: the broker lets one connection own it, and
frees it when that connection dies. The engine that takes the lock re-publishes; the others try
again every ``interval`` seconds, so when the leader dies (with its unconfirmed work) another
engine takes over and re-publishes within that time. After a broker restart the lock is gone, and
whoever takes it first re-publishes (the broker may have lost unconfirmed publishes).

An engine that is not the leader can die too, or stop with its own link to the broker down,
with messages committed and never confirmed: events accepted over HTTP (the caller gets no
answer, and sending again is answered "duplicate"), or owed since its link went. Nothing else
would publish those before the next take-over, so such an engine leaves its presence row
behind, no longer fresh, and the leader asks every ``interval`` seconds which engines have left
(``departures``): when one has, it re-publishes, and only then forgets those rows. So a
departure is seen however briefly the engine ran, and one whose re-publish failed is seen
again at the next ask.

Copies are harmless, only wasteful: re-published messages carry a header, and the receiving side
checks the store before delivering them (see ``rabbitmq.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiormq
from aiormq.abc import AbstractConnection

from integrator.eventloop import stop_task
from integrator.log_throttle import Clock, LogThrottle, tell_ended, tell_failed
from integrator.logging import get_logger
from integrator.store import StoreError
from integrator.transport.link import BROKER_ERRORS, AmqpLink, open_channel
from integrator.transport.topology import Topology

log = get_logger("integrator.transport.recovery")

#: How often an engine that does not lead tries to take the lock, and the leader asks whether
#: an engine has left.
INTERVAL_S = 15.0

Republish = Callable[[], Awaitable[int]]


class Departures(Protocol):
    """The engines that left the store, as the leader learns and forgets them
    (``integrator.presence.Departures``)."""

    async def seen(self) -> Sequence[object]:
        """The engines that have left and are not forgotten yet."""
        ...

    async def forget(self, engines: Sequence[Any]) -> None:
        """Forget ``engines`` (some of what ``seen`` gave): what they left is re-published."""
        ...


class RecoveryLeader:
    def __init__(
        self,
        link: AmqpLink,
        topology: Topology,
        republish: Republish,
        *,
        interval: float | None = None,
        departures: Departures | None = None,
        log_clock: Clock = time.monotonic,
    ) -> None:
        """``log_clock``: the clock of the lines of a store that cannot say who left
        (``integrator.log_throttle``), a test's to move."""
        self._link = link
        self._topology = topology
        self._republish = republish
        self._interval = INTERVAL_S if interval is None else interval
        self._departures = departures
        # Asked every ``interval`` s: a store away for a minute would be told four times.
        self._unanswered = LogThrottle(first=1, clock=log_clock)
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.recovered = asyncio.Event()  # set after each completed re-publish (for tests)
        link.on_connect(self._connected)
        link.on_disconnect(self._disconnected)

    async def _connected(self, connection: AbstractConnection) -> None:
        self.is_leader = False
        if self._task is not None:
            self._task.cancel()
        if not await self._try_lock(connection):
            # Someone else leads; the broker still has what they confirmed. Keep trying, so
            # that we take over if they die.
            self._task = asyncio.create_task(self._campaign(connection), name="recovery-lock")
            return
        self._task = asyncio.create_task(self._lead(), name="recovery")

    def _disconnected(self) -> None:
        self.is_leader = False
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _try_lock(self, connection: AbstractConnection) -> bool:
        try:
            channel = await open_channel(connection, publisher_confirms=False)
            await channel.queue_declare(self._topology.recovery_lock, exclusive=True)
        except aiormq.exceptions.ChannelLockedResource:
            return False
        self.is_leader = True
        self._link.watch(channel, "recovery-lock")  # the lock is this channel's queue
        log.info("recovery lock taken")
        return True

    async def _campaign(self, connection: AbstractConnection) -> None:
        while not connection.is_closed:
            await asyncio.sleep(self._interval)
            with contextlib.suppress(*BROKER_ERRORS):
                if await self._try_lock(connection):
                    await self._lead()
                    return

    async def _lead(self) -> None:
        """Re-publish now, and again whenever an engine has left, for as long as this leads."""
        await self._recover_for(await self._left())
        if self._departures is None:
            return
        while True:
            await asyncio.sleep(self._interval)
            left = await self._left()
            if left:
                log.info("an engine has left; re-publishing pending messages", engines=len(left))
                await self._recover_for(left)

    async def _recover_for(self, left: Sequence[object]) -> None:
        """Re-publish, then forget the engines ``left`` (seen before it): only once the
        re-publish went through, so that one that failed is made again at the next ask."""
        if await self._recover() and left:
            await self._forget(left)

    async def _left(self) -> Sequence[object]:
        """The engines that have left (``Departures.seen``); none when the store cannot say
        (asked again next time)."""
        if self._departures is None:
            return ()
        try:
            left = await self._departures.seen()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            tell_failed(
                self._unanswered,
                log,
                "could not tell whether an engine has left",
                "still cannot tell whether an engine has left",
                error_type=type(exc).__name__,
                **({"error": str(exc)} if isinstance(exc, StoreError) else {}),
            )
            return ()
        tell_ended(self._unanswered, log, "can tell again whether an engine has left")
        return left

    async def _forget(self, left: Sequence[object]) -> None:
        assert self._departures is not None
        try:
            await self._departures.forget(left)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # seen again next time: one more re-publish, nothing lost
            log.warning("could not forget the engines that left", error_type=type(exc).__name__)

    async def _recover(self) -> bool:
        """Re-publish the store's pending messages; whether that went through."""
        try:
            count = await self._republish()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged and retried at the next reconnect, take-over or ask
            log.error("re-publishing pending messages failed", error_type=type(exc).__name__)
            return False
        if count:
            log.info("re-published pending messages", messages=count)
        self.recovered.set()
        return True

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
