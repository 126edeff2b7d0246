"""Bytes of message bodies a RabbitMQ consumer may hold in the engine, and the prefetch that keeps
it so.

RabbitMQ bounds a consumer by a *count* of unacked deliveries (``basic.qos`` prefetch), never by
their size: the broker pushes the whole prefetch into the engine whatever the bodies weigh. An
event may carry 50 MiB of attachments (some 67 MiB of base64 JSON, its HL7 message about as
much), so while the store is away (the intake keeps its batches) or a destination is down (a
retry holds its queue) 800 intake deliveries or 200 per destination queue were tens of GB: an
out-of-memory kill. Even everyday 5 MiB referral letters made 800 x 6.7 MiB, 5.4 GB, on the
intake. The embedded transport bounds what it holds by bytes already (``embedded.WINDOW_BYTES``).

One ``ByteBudget`` per consumer kind, with its limit named here:

- ``INTAKE_BUDGET_BYTES`` for the intake queue (``amqp_intake.py``): its consumer is started with
  a prefetch sized by bytes (``prefetch``: the budget's room over the largest body seen
  recently, at least 1, at most the count it had before) and started again, smaller or larger,
  as the bodies change; deliveries beyond the budget that the broker pushed before the smaller
  consumer took over are handed back to it, so the bound holds in a burst too.
- ``DELIVERY_BUDGET_BYTES`` for each destination's delivery queue (``rabbitmq.py``): a queue with
  single active consumer cannot be consumed again without handing the destination to another
  engine while this one holds its head, so its prefetch stays as it is and the payloads beyond
  the budget are not kept: they are read from the store when their turn comes (the store has
  every published message), as the embedded transport does behind its window.

A body larger than the budget is still taken, alone: nothing may be refused for its size here
(the intake's own size rule keeps what is too large as rejected input).
"""

from __future__ import annotations

import asyncio

MIB = 1024 * 1024

#: Event bodies the AMQP intake holds at once: its inbox and the batches in work. Nine events
#: with a 5 MiB PDF; one of the largest an event may be (70.7 MiB) is taken alone.
INTAKE_BUDGET_BYTES = 64 * MIB
#: HL7 payloads one destination's delivery queue holds whole in the engine (prefetched or in a
#: worker's hands), as the embedded transport's window (``embedded.WINDOW_BYTES``).
DELIVERY_BUDGET_BYTES = 32 * MIB
#: "Recently": the largest of the last 200 to 400 bodies (a batch or two) sizes the prefetch.
RECENT = 200
#: A consumer grows at most this many times larger at once (and only once it got its whole
#: prefetch): a queue whose head is small and whose backlog behind it is large is pushed at
#: most four times what the head proved, not the whole count at once.
GROWTH = 4


class ByteBudget:
    """The body bytes one consumer kind holds, and the prefetch to consume with; no I/O, so it
    can be tested on its own.

    ``most``: the prefetch count the consumer had before bytes were counted (never more).
    ``unknown``: the body size assumed before any is seen (the largest one may be).
    """

    __slots__ = ("_before", "_changed", "_count", "_now", "_unknown", "held", "limit", "most")

    def __init__(self, limit: int, *, most: int, unknown: int) -> None:
        if limit < 1 or most < 1 or unknown < 1:
            raise ValueError("a byte budget, its prefetch and its unknown size are at least 1")
        self.limit = limit
        self.most = most
        self.held = 0
        self._unknown = unknown
        # The largest body of the bodies seen in this round of ``RECENT`` and of the round
        # before (0: none seen); ``_count``: bodies seen in this round.
        self._now = 0
        self._before = 0
        self._count = 0
        self._changed = asyncio.Event()

    @property
    def largest(self) -> int:
        """The largest body seen recently (``unknown`` before any)."""
        return max(self._now, self._before) or self._unknown

    def seen(self, size: int) -> None:
        """A body of ``size`` bytes arrived (kept or not): it counts for ``largest``."""
        self._now = max(self._now, size, 1)
        self._count += 1
        if self._count >= RECENT:
            self._before, self._now, self._count = self._now, 0, 0

    def fits(self, size: int) -> bool:
        """Whether a body of ``size`` bytes may be kept now: within the budget, or alone."""
        return self.held == 0 or self.held + size <= self.limit

    def take(self, size: int) -> None:
        self.held += size

    def give(self, size: int) -> None:
        """``size`` bytes taken before are no longer held (settled, dropped or handed back)."""
        if size:
            self.held = max(0, self.held - size)
            self._changed.set()

    def prefetch(self, *, after: int | None = None) -> int:
        """The prefetch for a consumer started now: the room left over the largest body seen
        recently, at least 1, at most ``most``; ``after`` a consumer of that prefetch, at most
        ``GROWTH`` times it."""
        most = self.most if after is None else min(self.most, after * GROWTH)
        return max(1, min(most, (self.limit - self.held) // self.largest))

    def too_large(self, prefetch: int) -> bool:
        """Whether a consumer's prefetch outgrew the budget: that many of the largest body
        seen recently would not fit it (one always does)."""
        return prefetch > 1 and prefetch * self.largest > self.limit

    def grows(self, prefetch: int) -> bool:
        """Whether a consumer of ``prefetch`` that got it whole may be started again at least
        twice as large: its bodies turned out small."""
        return self.prefetch(after=prefetch) >= 2 * prefetch

    def has_room(self) -> bool:
        """Whether a consumer may be started now: the largest body seen recently fits."""
        return self.fits(self.largest)

    async def room(self) -> None:
        """Until ``has_room``: bodies held are settled meanwhile (``give``)."""
        while not self.has_room():
            self._changed.clear()
            await self._changed.wait()
