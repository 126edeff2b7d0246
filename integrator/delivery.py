"""One destination's delivery loop: take the next message from the transport, deliver, settle.

The engine starts one ``DestinationRunner`` per enabled destination. The runner owns the
destination's MLLP client and worker; the worker owns the per-attempt decisions.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from destinations.client import MllpClient
from destinations.config import DestinationConfig
from destinations.retry import RetryPolicy
from destinations.tls import client_ssl_context
from destinations.worker import AckPolicy, AttemptSink, DeliveryWorker
from integrator.clock import Clock
from integrator.logging import get_logger
from integrator.transport import Transport

log = get_logger("integrator.delivery")


def retry_policy(destination: DestinationConfig) -> RetryPolicy:
    retry = destination.retry
    return RetryPolicy(
        initial=retry.initial,
        multiplier=retry.multiplier,
        max_delay=retry.max_delay,
        max_attempts=retry.max_attempts,
        max_age=retry.max_age,
    )


def mllp_client(destination: DestinationConfig) -> MllpClient:
    tls = destination.tls
    return MllpClient(
        destination.host,
        destination.port,
        connect_timeout=destination.connect_timeout,
        ack_timeout=destination.ack_timeout,
        ssl_context=client_ssl_context(tls) if tls is not None else None,
        server_hostname=tls.server_name if tls is not None else None,
    )


class DestinationRunner:
    def __init__(
        self,
        destination: DestinationConfig,
        *,
        transport: Transport,
        sink: AttemptSink,
        clock: Clock,
    ) -> None:
        self.destination = destination
        self._transport = transport
        self._client = mllp_client(destination)
        self._worker = DeliveryWorker(
            destination.id,
            sender=self._client,
            sink=sink,
            retry=retry_policy(destination),
            ack_policy=AckPolicy(
                on_error=destination.retry.on_error, on_reject=destination.retry.on_reject
            ),
            clock=clock.now,
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"deliver:{self.destination.id}")

    async def stop(self) -> None:
        """Stop between or during attempts; an unfinished attempt leaves the message queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._client.close()

    async def _loop(self) -> None:
        structlog.contextvars.bind_contextvars(destination=self.destination.id)
        while True:
            delivery = await self._transport.receive(self.destination.id)
            message = delivery.message
            with structlog.contextvars.bound_contextvars(
                message_id=message.message_id, control_id=message.control_id
            ):
                status = await self._worker.deliver(message)
                await delivery.settle()
                if status == "delivered":
                    log.debug("message delivered")
                else:
                    log.warning("message dead-lettered")
