"""The store seen as the transport's outbox: what is still owed, rebuilt as outbound messages.

Shared by start/take-over recovery, the AMQP intake (re-publishing a redelivered duplicate) and
the delivery-side duplicate check, so the three agree on what "still pending" means.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime
from typing import Any

from destinations.worker import OutboundMessage
from integrator.store import PENDING_STATUSES, MessageRecord, Store


def outbound_message(message: MessageRecord) -> OutboundMessage:
    return OutboundMessage(
        message_id=message.id,
        destination_id=message.destination_id,
        control_id=message.control_id,
        payload=message.payload,
        created_at=message.created_at,
        attempt_count=message.attempt_count,
        released_at=message.released_at,
    )


def with_its_time(message: MessageRecord) -> OutboundMessage:
    """``outbound_message``, and a retry's ``next_attempt_at`` as its ``not_before``.

    For the embedded transport, which loads from the store what it queued by id (a restart, a
    resumed destination, a message behind its window or given back by a stopped runner), and
    for the RabbitMQ transport's check of a redelivered or re-published message: a retry handed
    back by a stopping runner, or waiting out its backoff when the engine stopped, is then
    attempted at its time, not at once. A time already past holds nothing back
    (``DestinationRunner``).
    """
    found = outbound_message(message)
    if message.status != "retrying" or message.next_attempt_at is None:
        return found
    return dataclasses.replace(found, not_before=message.next_attempt_at)


def as_published(
    loaded: OutboundMessage, attempt_count: int, not_before: datetime | None
) -> OutboundMessage:
    """``loaded`` (the store's message) with what it was published with, where the store may
    lag: the attempt count (the recorder commits behind), and a handed-back retry's time (its
    ``next_attempt_at`` comes with the attempt's record, which may not be written yet). For a
    transport that keeps a message by id and loads it again: the embedded one behind its
    window, RabbitMQ's what the broker did not confirm."""
    changes: dict[str, Any] = {}
    if loaded.attempt_count < attempt_count:
        changes["attempt_count"] = attempt_count
    if not_before is not None and (loaded.not_before is None or loaded.not_before < not_before):
        changes["not_before"] = not_before
    return dataclasses.replace(loaded, **changes) if changes else loaded


RECOVERY_CHUNK = 1000
"""Pending messages loaded at a time when recovery re-publishes them (``Outbox.pending_chunks``)."""


class Outbox:
    def __init__(self, store: Store, destinations: Callable[[], Collection[str]]) -> None:
        self._store = store
        # The destinations whose waiting messages recovery re-publishes (the engine's: those
        # delivering, not paused); asked each time, since destinations change at run time.
        self._destinations = destinations

    async def still_pending(
        self, message_id: str, *, payload: bool = True
    ) -> OutboundMessage | None:
        """The message as the store has it now, a retry with its time (``with_its_time``), or
        None if nothing more is owed for it; ``payload=False``: its HL7 left out (``b""``), for
        who needs only whether it is owed.

        With its time: the broker gives back a fifo retry that a stopping runner left unsettled
        with the headers it was first published with, and a recovery copy has none either; the
        store's ``next_attempt_at`` is then the only record of when it may go out.
        """
        record = await self._store.get_message(message_id, payload=payload)
        if record is None or record.status not in PENDING_STATUSES:
            return None
        return with_its_time(record)

    async def pending(self) -> list[OutboundMessage]:
        """Everything owed to one of ``destinations``, oldest first."""
        return [m async for chunk in self.pending_chunks() for m in chunk]

    async def pending_chunks(
        self, size: int = RECOVERY_CHUNK
    ) -> AsyncIterator[list[OutboundMessage]]:
        """``pending``, ``size`` messages at a time: their ids first (one query, no payload),
        then each chunk's messages as the store has them when it is read.

        What recovery re-publishes after the broker was away is every message accepted
        meanwhile: two hours at 50 events/s are some 360,000 messages, 780 MB loaded at once.
        A chunk at a time, only one chunk's payloads are held; one that stopped being pending
        since its id was read (delivered, cancelled) is left out.
        """
        covered = self._destinations()
        refs = [r for r in await self._store.pending_refs() if r.destination_id in covered]
        for start in range(0, len(refs), size):
            ids = [r.id for r in refs[start : start + size]]
            found = await self._store.pending_messages(ids=ids)
            chunk = [outbound_message(m) for m in found if m.destination_id in covered]
            if chunk:
                yield chunk
