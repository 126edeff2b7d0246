"""The embedded transport: one in-process FIFO queue per destination.

Its state lives in memory only; that is safe because every message is committed to the store
before it is published, and the engine re-publishes the store's pending messages at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from destinations.worker import OutboundMessage


@dataclass(frozen=True)
class EmbeddedDelivery:
    message: OutboundMessage

    async def settle(self) -> None:
        return None


class EmbeddedTransport:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[OutboundMessage]] = {}
        self._queued: dict[str, set[str]] = {}

    def _queue(self, destination_id: str) -> asyncio.Queue[OutboundMessage]:
        queue = self._queues.get(destination_id)
        if queue is None:
            queue = self._queues[destination_id] = asyncio.Queue()
            self._queued[destination_id] = set()
        return queue

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        for message in messages:
            queue = self._queue(message.destination_id)
            seen = self._queued[message.destination_id]
            if message.message_id in seen:
                continue  # already waiting: re-publishing after a restart must not send twice
            seen.add(message.message_id)
            queue.put_nowait(message)

    async def republish(self, messages: Sequence[OutboundMessage]) -> None:
        await self.publish(messages)  # publish already skips what is still waiting

    async def release(self, destination_id: str) -> None:
        return None  # the queue stays; nobody else could take it over

    async def receive(self, destination_id: str) -> EmbeddedDelivery:
        message = await self._queue(destination_id).get()
        self._queued[destination_id].discard(message.message_id)
        return EmbeddedDelivery(message)

    def pending(self, destination_id: str) -> int:
        queue = self._queues.get(destination_id)
        return 0 if queue is None else queue.qsize()

    async def close(self) -> None:
        self._queues.clear()
        self._queued.clear()
