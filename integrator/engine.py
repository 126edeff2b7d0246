"""The engine: store, catalog, transport, intake and one delivery loop per destination, wired.

This is the only place that knows all the parts. ``start`` re-publishes whatever the store still
lists as pending, so a restart (or a crash) resumes where the last run stopped; ``stop`` lets
in-flight attempts finish recording and leaves unsent messages queued in the store.
"""

from __future__ import annotations

import asyncio
from datetime import date

from destinations.config import DestinationConfig
from destinations.worker import OutboundMessage
from integrator.catalog import Catalog, load_catalog
from integrator.clock import Clock, SystemClock
from integrator.delivery import DestinationRunner
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
        self._runners: dict[str, DestinationRunner] = {}

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
        for runner in self._runners.values():
            await runner.stop()
        self._runners.clear()
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
        assert self._recorder is not None and self._transport is not None
        runner = DestinationRunner(
            destination, transport=self._transport, sink=self._recorder, clock=self.clock
        )
        self._runners[destination.id] = runner
        runner.start()


def _outbound(message: MessageRecord) -> OutboundMessage:
    return OutboundMessage(
        message_id=message.id,
        destination_id=message.destination_id,
        control_id=message.control_id,
        payload=message.payload,
        created_at=message.created_at,
        attempt_count=message.attempt_count,
    )
