"""The engine: store, catalog, transport, intake and one delivery loop per destination, wired.

This is the only place that knows all the parts. ``start`` re-publishes whatever the store still
lists as pending, so a restart (or a crash) resumes where the last run stopped; ``stop`` lets
in-flight attempts finish recording and leaves unsent messages queued in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date

import structlog

from destinations.client import MllpClient
from destinations.config import DestinationConfig
from destinations.retry import RetryPolicy
from destinations.tls import client_ssl_context
from destinations.worker import AckPolicy, DeliveryWorker, OutboundMessage
from integrator.catalog import Catalog, load_catalog
from integrator.clock import Clock, SystemClock
from integrator.intake import Intake
from integrator.logging import get_logger
from integrator.recorder import AttemptRecorder
from integrator.settings import Settings
from integrator.store import MessageRecord, Store
from integrator.transport import EmbeddedTransport, Transport

log = get_logger("integrator.engine")

ACTIVE_STATUSES = ("queued", "sending", "retrying")


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._catalog_override = catalog
        self._store: Store | None = None
        self._transport: Transport | None = None
        self._intake: Intake | None = None
        self._recorder: AttemptRecorder | None = None
        self._clients: dict[str, MllpClient] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    # -- parts -------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("engine not started")
        return self._store

    @property
    def intake(self) -> Intake:
        if self._intake is None:
            raise RuntimeError("engine not started")
        return self._intake

    @property
    def catalog(self) -> Catalog:
        return self.intake.catalog

    def today(self) -> date:
        return self.clock.now().astimezone(self.settings.zone).date()

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._store = await Store.open(self.settings.database_url, clock=self.clock.now)
        catalog = self._catalog_override or load_catalog(
            self.settings.destinations_dir, today=self.today()
        )
        for error in catalog.errors:
            log.error("destination file refused", problem=str(error))
        for warning in catalog.warnings:
            log.warning("deprecated message version", detail=warning)
        self._transport = EmbeddedTransport()
        self._recorder = AttemptRecorder(self._store)
        self._recorder.start()
        self._intake = Intake(
            store=self._store,
            transport=self._transport,
            catalog=catalog,
            settings=self.settings,
            clock=self.clock,
        )
        await self._recover(catalog)
        for destination in catalog.destinations.values():
            if destination.enabled:
                self._start_destination(destination)
            else:
                log.info("destination paused", destination=destination.id)
        log.info(
            "engine started",
            destinations=len(catalog.destinations),
            store=self.settings.database_url.split(":", 1)[0],
        )

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._recorder is not None:
            await self._recorder.close()
        if self._transport is not None:
            await self._transport.close()
        if self._store is not None:
            await self._store.close()
        self._store = self._transport = self._intake = self._recorder = None
        log.info("engine stopped")

    async def drain(self) -> None:
        """Wait until every attempt made so far is committed to the store."""
        if self._recorder is not None:
            await self._recorder.drain()

    async def wait_settled(self, *, timeout: float, poll: float = 0.05) -> bool:
        """Wait until no message is queued, sending or retrying; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.drain()
            counts = await self.store.count_by_status()
            if not any(counts.get(s, 0) for s in ACTIVE_STATUSES):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(poll)

    # -- delivery ----------------------------------------------------------------------------
    async def _recover(self, catalog: Catalog) -> None:
        assert self._store is not None and self._transport is not None
        pending = await self._store.pending_messages()
        unknown = {m.destination_id for m in pending} - set(catalog.destinations)
        for destination_id in sorted(unknown):
            log.warning(
                "pending messages for a destination that is not configured",
                destination=destination_id,
            )
        outbound = [_outbound(m) for m in pending if m.destination_id in catalog.destinations]
        if outbound:
            log.info("resuming pending messages", messages=len(outbound))
            await self._transport.publish(outbound)

    def _start_destination(self, destination: DestinationConfig) -> None:
        assert self._recorder is not None
        tls = destination.tls
        client = MllpClient(
            destination.host,
            destination.port,
            connect_timeout=destination.connect_timeout,
            ack_timeout=destination.ack_timeout,
            ssl_context=client_ssl_context(tls) if tls is not None else None,
            server_hostname=tls.server_name if tls is not None else None,
        )
        retry = destination.retry
        worker = DeliveryWorker(
            destination.id,
            sender=client,
            sink=self._recorder,
            retry=RetryPolicy(
                initial=retry.initial,
                multiplier=retry.multiplier,
                max_delay=retry.max_delay,
                max_attempts=retry.max_attempts,
                max_age=retry.max_age,
            ),
            ack_policy=AckPolicy(on_error=retry.on_error, on_reject=retry.on_reject),
            clock=self.clock.now,
        )
        self._clients[destination.id] = client
        self._tasks[destination.id] = asyncio.create_task(
            self._deliver_loop(destination.id, worker), name=f"deliver:{destination.id}"
        )

    async def _deliver_loop(self, destination_id: str, worker: DeliveryWorker) -> None:
        assert self._transport is not None
        structlog.contextvars.bind_contextvars(destination=destination_id)
        while True:
            delivery = await self._transport.receive(destination_id)
            message = delivery.message
            with structlog.contextvars.bound_contextvars(
                message_id=message.message_id, control_id=message.control_id
            ):
                status = await worker.deliver(message)
                await delivery.settle()
                if status == "delivered":
                    log.debug("message delivered")
                else:
                    log.warning("message dead-lettered")


def _outbound(message: MessageRecord) -> OutboundMessage:
    return OutboundMessage(
        message_id=message.id,
        destination_id=message.destination_id,
        control_id=message.control_id,
        payload=message.payload,
        created_at=message.created_at,
        attempt_count=message.attempt_count,
    )
