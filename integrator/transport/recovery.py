"""Who re-publishes the store's pending messages: one engine at a time, the recovery leader.

The store is the outbox: a message committed but never confirmed by the broker (the engine died
between commit and confirm, or the broker went away) is only in the store. Re-publishing all
pending messages from every engine at every start would fill the queues with copies, so the
engines elect a leader with an *exclusive queue*: the broker lets one connection own it, and
frees it when that connection dies. The engine that takes the lock re-publishes; the others try
again every ``interval`` seconds, so when the leader dies (with its unconfirmed work) another
engine takes over and re-publishes within that time. After a broker restart the lock is gone, and
whoever takes it first re-publishes (the broker may have lost unconfirmed publishes).

An engine that is not the leader can die too, or stop with its link to the broker down, with
messages committed and never confirmed: events accepted over HTTP (the caller gets no answer,
and sending again is answered "duplicate"), or owed since its link went. Nothing else would
publish those before the next take-over, so the leader also asks, every ``interval`` seconds,
whether an engine has gone since it last asked (``gone``: the engine's presence rows), and
re-publishes when one has. One that came and went between two asks is not seen.

Copies are harmless, only wasteful: re-published messages carry a header, and the receiving side
checks the store before delivering them (see ``rabbitmq.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aiormq
from aiormq.abc import AbstractConnection

from integrator.eventloop import stop_task
from integrator.logging import get_logger
from integrator.transport.link import BROKER_ERRORS, AmqpLink
from integrator.transport.topology import Topology

log = get_logger("integrator.transport.recovery")

#: How often an engine that does not lead tries to take the lock, and the leader asks whether
#: an engine has gone.
INTERVAL_S = 15.0

Republish = Callable[[], Awaitable[int]]
#: Whether an engine that ran when last asked has gone since (the first ask only looks).
Gone = Callable[[], Awaitable[bool]]


class RecoveryLeader:
    def __init__(
        self,
        link: AmqpLink,
        topology: Topology,
        republish: Republish,
        *,
        interval: float | None = None,
        gone: Gone | None = None,
    ) -> None:
        self._link = link
        self._topology = topology
        self._republish = republish
        self._interval = INTERVAL_S if interval is None else interval
        self._gone = gone
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
            channel = await connection.channel(publisher_confirms=False)
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
        """Re-publish now, and again whenever an engine has gone, for as long as this leads."""
        await self._recover()
        if self._gone is None:
            return
        while True:
            await asyncio.sleep(self._interval)
            try:
                went = await self._gone()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store away: asked again next time
                log.warning(
                    "could not tell whether an engine has gone", error_type=type(exc).__name__
                )
                continue
            if went:
                log.info("an engine has gone; re-publishing pending messages")
                await self._recover()

    async def _recover(self) -> None:
        try:
            count = await self._republish()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged and retried at the next reconnect or take-over
            log.error("re-publishing pending messages failed", error_type=type(exc).__name__)
            return
        if count:
            log.info("re-published pending messages", messages=count)
        self.recovered.set()

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
