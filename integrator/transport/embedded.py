"""The embedded transport: one in-process FIFO queue per destination.

Its state lives in memory only; that is safe because every message is committed to the store
before it is published, and the engine re-publishes the store's pending messages at start.

Only the first ``WINDOW`` messages of a destination, and no more than ``WINDOW_BYTES`` of their
payloads, are held whole. Behind them the queue keeps message ids (and sizes) only, and loads those
messages from the store (``load``) as the queue drains: a destination that is paused or down for a
day may pile up 100,000 messages, and their payloads belong in the store, not in the engine's
memory (2.5 KB each for a referral without attachments, megabytes with one: counting messages
alone would let 10,000 referrals with a 5 MiB PDF take 70 GB). At a restart the engine queues the
store's pending messages by reference only (``requeue``), so even then no more than a window of
payloads is loaded at once. A retry keeps its time either way: the ``not_before`` it was
published with (a stopping runner's hand-back) is kept beside its id, and the engine's loader
gives a ``retrying`` message its ``next_attempt_at`` (``outbox.with_its_time``).

A message received and not settled when its runner stopped (a fifo retry waiting out its
backoff) is given back at the head of the queue by ``release``, not queued again at its end by
the new runner's ``requeue``: in fifo order nothing behind it may overtake it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from destinations.worker import OutboundMessage
from integrator.logging import get_logger
from integrator.transport.outbox import as_published

log = get_logger("integrator.transport.embedded")

#: Messages held whole per destination; the rest wait as ids. Large enough that a burst is
#: delivered from memory (loading from the store costs CPU per message: a window of 1,000 made
#: a burst of 5,000 events 10 % dearer per event), small enough for 25 MB of referrals.
WINDOW = 10_000
#: Payload bytes held whole per destination: 10,000 referrals without attachments fit, a dozen
#: with a 2 MiB PDF do. One message larger than this is still held, alone.
WINDOW_BYTES = 32 * 1024 * 1024
#: Seconds before loading queued messages is tried again when the store did not answer.
RELOAD_PAUSE = 1.0

Loader = Callable[[Sequence[str]], Awaitable[list[OutboundMessage]]]
"""The pending messages among these ids, as the store has them now (others are left out)."""


class Ref(Protocol):
    """A pending message without its payload (``integrator.store.PendingRef``)."""

    @property
    def id(self) -> str: ...
    @property
    def destination_id(self) -> str: ...
    @property
    def attempt_count(self) -> int: ...
    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class EmbeddedDelivery:
    message: OutboundMessage
    _unsettled: dict[str, OutboundMessage] | None = field(default=None, repr=False, compare=False)
    """The destination's messages received and not yet settled (``release`` gives them back)."""

    async def settle(self) -> None:
        if self._unsettled is not None:
            self._unsettled.pop(self.message.message_id, None)

    def in_doubt(self) -> bool:
        return False  # in this process only: nobody else can be given it

    async def confirm(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class _Behind:
    """A message queued behind the window: its id, and what it was published with.

    Slotted: a paused destination may have 100,000 of these, no bigger than the tuples they
    replaced by more than their ``not_before``."""

    id: str
    attempt_count: int
    size: int
    not_before: datetime | None = None
    """A retry handed back by a stopping runner: not attempted before this (``delivery.py``)."""

    def kept(self, loaded: OutboundMessage) -> OutboundMessage:
        """``loaded`` with what this was published with (``outbox.as_published``)."""
        return as_published(loaded, self.attempt_count, self.not_before)


class EmbeddedTransport:
    def __init__(
        self,
        *,
        load: Loader | None = None,
        window: int | None = None,
        window_bytes: int | None = None,
    ) -> None:
        self._queues: dict[str, asyncio.Queue[OutboundMessage]] = {}
        self._queued: dict[str, set[str]] = {}
        # Behind the window, in publish order: what a message is loaded by, and what it was
        # published with that the store may not have yet (``_Behind``).
        self._behind: dict[str, deque[_Behind]] = {}
        self._held_bytes: dict[str, int] = {}
        self._refilling: dict[str, asyncio.Lock] = {}
        # Received and not settled, in the order received: what a stopped runner left (a fifo
        # retry waiting out its backoff, a message taken as it stopped), for ``release``.
        self._unsettled: dict[str, dict[str, OutboundMessage]] = {}
        # Given back by ``release``: delivered before anything else, in the order received.
        self._returned: dict[str, deque[OutboundMessage]] = {}
        self._load = load
        # Read when made, not when defined: a test can make the engine's window small.
        self._window = WINDOW if window is None else window
        self._window_bytes = WINDOW_BYTES if window_bytes is None else window_bytes

    def configure(self, *, load: Loader) -> None:
        self._load = load

    def _queue(self, destination_id: str) -> asyncio.Queue[OutboundMessage]:
        queue = self._queues.get(destination_id)
        if queue is None:
            queue = self._queues[destination_id] = asyncio.Queue()
            self._queued[destination_id] = set()
            self._behind[destination_id] = deque()
            self._held_bytes[destination_id] = 0
            self._refilling[destination_id] = asyncio.Lock()
            self._unsettled[destination_id] = {}
            self._returned[destination_id] = deque()
        return queue

    async def publish(
        self, messages: Sequence[OutboundMessage], *, written: Callable[[], None] | None = None
    ) -> None:
        for message in messages:
            queue = self._queue(message.destination_id)
            seen = self._queued[message.destination_id]
            if message.message_id in seen:
                continue  # already waiting: re-publishing after a restart must not send twice
            seen.add(message.message_id)
            behind = self._behind[message.destination_id]
            size = len(message.payload)
            if self._load is not None and (
                behind or not self._has_room(message.destination_id, queue, size)
            ):
                behind.append(
                    _Behind(message.message_id, message.attempt_count, size, message.not_before)
                )
            else:
                self._hold(queue, message)
        if written is not None:  # queued within the call: nothing published after comes first
            written()

    def _has_room(
        self, destination_id: str, queue: asyncio.Queue[OutboundMessage], size: int
    ) -> bool:
        """Whether one more message of ``size`` bytes fits the window (one always fits alone)."""
        held = self._held_bytes[destination_id]
        if queue.qsize() >= self._window:
            return False
        return held == 0 or held + size <= self._window_bytes

    def _hold(self, queue: asyncio.Queue[OutboundMessage], message: OutboundMessage) -> None:
        self._held_bytes[message.destination_id] += len(message.payload)
        queue.put_nowait(message)

    def _half_empty(self, destination_id: str, queue: asyncio.Queue[OutboundMessage]) -> bool:
        """Time to load more: the window is at most half full, by count and by bytes."""
        return (
            queue.qsize() <= self._window // 2
            and self._held_bytes[destination_id] <= self._window_bytes // 2
        )

    async def republish(self, messages: Sequence[OutboundMessage]) -> None:
        await self.publish(messages)  # publish already skips what is still waiting

    def requeue(self, refs: Iterable[Ref]) -> None:
        """Queue pending messages by reference, in the order given, behind what waits already.

        Their payloads are loaded as the queue drains, a window at a time, like any message
        behind the window; a message still waiting is skipped, as ``publish`` does.
        """
        if self._load is None:
            raise RuntimeError("messages can only be queued by reference with a loader")
        for ref in refs:
            self._queue(ref.destination_id)
            seen = self._queued[ref.destination_id]
            if ref.id in seen:
                continue
            seen.add(ref.id)
            self._behind[ref.destination_id].append(_Behind(ref.id, ref.attempt_count, ref.size))

    async def release(self, destination_id: str) -> None:
        """The queue stays (nobody else could take it over); what the stopped runner received
        and did not settle goes back to its head, in the order it was received.

        At its head, not its end: a fifo message waiting out its backoff holds the ones behind
        it, and a runner stopped then (paused, resumed, changed) must not let them overtake it.
        It is loaded from the store again when received (``_next_returned``), so it comes with
        the attempt count and ``next_attempt_at`` of the attempts made meanwhile.
        """
        if destination_id not in self._queues:
            return
        unsettled = self._unsettled[destination_id]
        returned = self._returned[destination_id]
        returned.extend(unsettled.values())
        seen = self._queued[destination_id]
        seen.update(unsettled)  # waiting again: requeue and publish skip them
        unsettled.clear()

    async def receive(self, destination_id: str) -> EmbeddedDelivery:
        queue = self._queue(destination_id)
        message = await self._next_returned(destination_id)
        if message is None:
            if self._behind[destination_id] and self._half_empty(destination_id, queue):
                await self._refill(destination_id, queue)
            message = await queue.get()
            self._held_bytes[destination_id] -= len(message.payload)
        self._queued[destination_id].discard(message.message_id)
        unsettled = self._unsettled[destination_id]
        unsettled[message.message_id] = message
        return EmbeddedDelivery(message, unsettled)

    async def _next_returned(self, destination_id: str) -> OutboundMessage | None:
        """The first message ``release`` gave back that is still pending, as the store has it
        now (with its time); None when there is none."""
        returned = self._returned[destination_id]
        while returned:
            given = returned.popleft()  # now: another worker of the destination takes the next
            if self._load is None:
                return given
            try:
                loaded = await self._load([given.message_id])
            except asyncio.CancelledError:
                returned.appendleft(given)
                raise
            except Exception as exc:  # the store is away: it waits in it, and here at the head
                returned.appendleft(given)
                log.warning(
                    "could not load a queued message; trying again",
                    destination=destination_id,
                    error_type=type(exc).__name__,
                )
                await asyncio.sleep(RELOAD_PAUSE)
                continue
            if loaded:
                was = _Behind(
                    given.message_id, given.attempt_count, len(given.payload), given.not_before
                )
                return was.kept(loaded[0])
            self._queued[destination_id].discard(given.message_id)  # no longer pending
        return None

    async def _refill(self, destination_id: str, queue: asyncio.Queue[OutboundMessage]) -> None:
        """Load the next ids behind the window, in publish order (one refill at a time)."""
        assert self._load is not None
        async with self._refilling[destination_id]:
            behind = self._behind[destination_id]
            room = self._window - queue.qsize()
            held = self._held_bytes[destination_id]
            chunk: list[_Behind] = []
            while behind and len(chunk) < room:
                size = behind[0].size
                if held and held + size > self._window_bytes:
                    break
                held += size
                chunk.append(behind.popleft())
            if not chunk:
                return
            while True:
                try:
                    loaded = {m.message_id: m for m in await self._load([b.id for b in chunk])}
                    break
                except asyncio.CancelledError:
                    behind.extendleft(reversed(chunk))
                    raise
                except Exception as exc:  # the store is away: the messages wait in it
                    log.warning(
                        "could not load queued messages; trying again",
                        destination=destination_id,
                        error_type=type(exc).__name__,
                    )
                    await asyncio.sleep(RELOAD_PAUSE)
            seen = self._queued[destination_id]
            for waiting in chunk:
                message = loaded.get(waiting.id)
                if message is None:  # no longer pending (cancelled, removed): nothing owed
                    seen.discard(waiting.id)
                    continue
                self._hold(queue, waiting.kept(message))

    def forget(self, destination_id: str) -> None:
        """Drop a destination's queue: it left service. What it held is in the store, and what
        is still pending there is queued again by reference if it comes back. Held here, a
        message the removal dead-lettered (``remove --force``) stayed loaded, and a rollback
        or a resume delivered it as if it had never died."""
        for held in (
            self._queues,
            self._queued,
            self._behind,
            self._held_bytes,
            self._refilling,
            self._unsettled,
            self._returned,
        ):
            held.pop(destination_id, None)

    def pending(self, destination_id: str) -> int:
        queue = self._queues.get(destination_id)
        if queue is None:
            return 0
        return (
            len(self._returned[destination_id]) + queue.qsize() + len(self._behind[destination_id])
        )

    async def close(self) -> None:
        self._queues.clear()
        self._queued.clear()
        self._behind.clear()
        self._held_bytes.clear()
        self._refilling.clear()
        self._unsettled.clear()
        self._returned.clear()
