"""One ``basic.ack`` with ``multiple`` for many deliveries, without acking one too early.

Acking every delivery on its own costs a frame, a socket write in the engine and a settle in
the broker's quorum queue per message. AMQP lets one ack with ``multiple=true`` settle every
outstanding delivery up to a tag, but only if each of them is really done: deliveries are
settled out of order (three intake batches in flight; several connections per destination),
so a plain "ack the highest" could ack a batch whose commit has not happened yet.

``AckWindow`` keeps, per channel, the tags settled so far and answers how far a single
multiple-ack may reach: up to the highest tag below which everything is settled. A delivery
that was *rejected or handed back* (``basic.nack``) counts as settled too: it is no longer
outstanding, so a later multiple-ack passes over it, provided the nack was written first (both
go out on the same channel, in order). The ack never *names* a nacked tag, though: the broker
answers an ack of a tag it no longer holds with a channel error.

Delivery tags start at 1 on every channel and grow by one per delivery, so a new channel (after
a reconnect) needs a new window.

The frames must also *reach the broker* in the order the window decided them. aiormq queues
every frame on a small write queue (ten frames), and a coroutine waiting for room there can be
overtaken by one that arrives just as room is made: two settles racing sent ``ack(20,
multiple)`` before ``ack(10, multiple)``, the broker closed the channel ("unknown delivery tag
10") and the intake took no more events. So ``ChannelAcks`` decides and queues each frame under
one lock per channel: the next decision waits until the previous frame is in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiormq.abc import AbstractChannel

from integrator.transport.link import BROKER_ERRORS


class AckWindow:
    """Settled delivery tags of one channel; no I/O, so it can be tested on its own."""

    __slots__ = ("_acked_upto", "_settled")

    def __init__(self) -> None:
        self._acked_upto = 0  # every tag up to here has been covered by an ack (or nack)
        # Settled tags above it, waiting for the gap to close; True: it wants an ack (not nacked).
        self._settled: dict[int, bool] = {}

    @property
    def acked_upto(self) -> int:
        return self._acked_upto

    @property
    def waiting(self) -> int:
        """Settled deliveries that cannot be acked yet: an earlier one is still in work."""
        return len(self._settled)

    def settle(self, tag: int, *, nacked: bool = False) -> None:
        """The delivery ``tag`` is done: committed, or (``nacked``) already handed back."""
        if tag < 1:
            raise ValueError(f"delivery tags start at 1, not {tag}")
        if tag > self._acked_upto:
            self._settled[tag] = not nacked

    def advance(self) -> int | None:
        """The tag for the next ``basic.ack(multiple=True)``, or None when nothing new is due.

        Calling it means that ack will be sent: the window moves past everything settled
        without a gap, and the returned tag is the highest of those that wants an ack.
        """
        upto = self._acked_upto
        ack: int | None = None
        while (wants_ack := self._settled.pop(upto + 1, None)) is not None:
            upto += 1
            if wants_ack:
                ack = upto
        self._acked_upto = upto
        return ack


class ChannelAcks:
    """A consuming channel and its window: settles deliveries with as few frames as it can."""

    __slots__ = ("_in_order", "channel", "window")

    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel
        self.window = AckWindow()
        self._in_order = asyncio.Lock()  # one frame decided and queued at a time

    async def ack(self, tags: Iterable[int]) -> None:
        """These deliveries are done; ack everything that is now settled without a gap."""
        for tag in tags:
            self.window.settle(tag)
        async with self._in_order:
            upto = self.window.advance()
            if upto is not None:
                await self.channel.basic_ack(upto, multiple=True, wait=False)

    async def give_back(self, tag: int) -> None:
        """Hand one delivery back to the broker (requeued) and count it as settled here."""
        async with self._in_order:
            await self.channel.basic_nack(tag, requeue=True)
            self.window.settle(tag, nacked=True)


async def ack_settled(settled: Iterable[tuple[ChannelAcks, int]]) -> None:
    """Settle deliveries of possibly several channels: one multiple-ack per channel at most.

    A channel that is gone meanwhile is skipped: its deliveries come again from the broker.
    """
    tags: dict[int, tuple[ChannelAcks, list[int]]] = {}
    for acks, tag in settled:
        tags.setdefault(id(acks), (acks, []))[1].append(tag)
    for acks, channel_tags in tags.values():
        with contextlib.suppress(*BROKER_ERRORS):
            await acks.ack(channel_tags)
