"""The RabbitMQ transport: one durable quorum queue per destination, behind ``AmqpLink``.

Publishing: every outbound message becomes a persistent message on the delivery exchange with the
destination id as routing key. Many publishes are in flight at once and their confirms are awaited
together (one-at-a-time confirms ran at ~570/s); a chunk of them goes out in a few writes
(``publisher.py``), each message still with its own delivery tag and confirm. A publish that is not
confirmed raises ``TransportUnavailable``/``PublishRefused`` *and* is remembered: it is re-published
after the next reconnect, or before the next publish when that comes first, or after
``OWED_PAUSE`` while the connection stays up (a nack), because the store already committed it
(the store is the outbox). Remembered by id only (``_Owed``), never with its
payload, which the store has: two hours of the broker away at 50 events/s are some 360,000 messages,
780 MB held whole (2.2 KB a referral, 177 KB with a 128 KiB PDF attached) and 63 MB by id (175
bytes). At the reconnect they are loaded from the store (``load``, the engine's) and published again
a chunk at a time, in the order they were first remembered, and what is published meanwhile goes
behind them (a cancel must not overtake its referral); one the store no longer lists as pending
(delivered by another engine meanwhile, cancelled, discarded) is not published, and one confirmed
meanwhile (published again by someone else) is not published again. Publishes are ``mandatory``: a
delivery queue deleted under us would otherwise let the broker confirm and drop them; returned ones
are published again after declaring the queue.

Receiving: one channel per destination with a bounded prefetch, consuming a queue with
``x-single-active-consumer``, so of all engine processes exactly one delivers to a destination
at a time, in queue order. ``settle`` does not ack at once: acks are batched per destination and
sent only after ``barrier`` (the attempt recorder's drain) has returned, so the broker forgets a
message only once its attempt is committed. The broker's ``basic.cancel`` (the queue was
deleted) is noticed (``cancel.py``, shared with the intake consumer): the queue is declared again
and consumed on the same channel, and until then ``not_consuming`` names the destination for
readiness. The prefetch bounds the deliveries by count, whatever they weigh: the payloads kept
whole are bounded by bytes too (``budget.DELIVERY_BUDGET_BYTES`` per destination), and a delivery
beyond that is kept without its payload, which is read from the store when its turn comes (the
same bytes, so the same MSH-10). Consuming again with a smaller prefetch, as the intake does,
would make another engine's consumer active behind the messages this one still holds.

Duplicates: any delivery of a message a worker here holds right now (another engine re-published it
while it was on the wire), or is checking against the store, is acked and skipped. A message the
broker *redelivers*, or one that recovery re-published, may already be done: for those (a store
read, so not for every delivery) ``still_pending`` is asked first; a message that is delivered,
dead, cancelled or held is acked and skipped. So is a message's first publish that comes behind a
re-published copy of it (``_Copies``): a re-publish reads what the store lists as pending, which
includes what its committer has not published yet. So is every message that was already waiting in
the queue when a consumer started (``_Waiting``): a ``destinations remove --force`` dead-letters
what waits in the store but leaves its copies in the broker, and the copies no consumer had been
handed came back unchecked when the destination returned (a rollback, its file added again), turning
dead letters support may have resent meanwhile into a second delivery. ``release`` hands a queue on
only after this engine's attempts are committed, since the engine taking it over waits only for its
own. The message a worker gets is rebuilt from the store, so it has the stored payload (same MSH-10)
and attempt count, and is not attempted before the later of the ``not_before`` header of a retry a
stopping runner handed back (``delivery.py``) and a ``retrying`` message's ``next_attempt_at``: a
fifo retry that a stopping runner left unsettled comes back at the head of the queue, but with the
headers it was first published with (a requeue cannot change them, and a new publish would go to the
back, behind the messages it must hold)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import aiormq
from aiormq.abc import AbstractChannel, AbstractConnection, ConsumerCallback, DeliveredMessage
from pamqp.commands import Basic

from destinations.worker import OutboundMessage
from integrator.logging import get_logger
from integrator.transport import budget as budgets
from integrator.transport.acks import ChannelAcks, ack_settled
from integrator.transport.budget import ByteBudget
from integrator.transport.cancel import DELIVERY, ConsumeAgain
from integrator.transport.errors import PublishRefused, TransportUnavailable
from integrator.transport.link import (
    BROKER_ERRORS,
    AmqpLink,
    cancelled_elsewhere,
    delivery_tag,
    open_channel,
    redelivered,
)
from integrator.transport.outbox import as_published
from integrator.transport.publisher import Outgoing, can_batch, publish_batch
from integrator.transport.skipped import SkippedCopies
from integrator.transport.stalls import LoopStalls, held
from integrator.transport.topology import (
    HL7_CONTENT_TYPE,
    MIN_BROKER_VERSION,
    Topology,
    broker_version,
)

log = get_logger("integrator.transport.rabbitmq")


class StillPending(Protocol):
    """The message as the store has it now, or None when nothing more is owed for it
    (``Outbox.still_pending``); ``payload=False``: only whether it is, its HL7 left out (a
    message that only waited in the queue goes out as published, and a restart behind a
    backlog reads each of those once: its payload, an attachment's megabytes, is not needed)."""

    def __call__(
        self, message_id: str, *, payload: bool = True
    ) -> Awaitable[OutboundMessage | None]: ...


Barrier = Callable[[], Awaitable[None]]
Load = Callable[[Sequence[str]], Awaitable[list[OutboundMessage]]]
"""The pending messages among these ids, as the store has them now (others are left out)."""

REPUBLISHED = "x-integrator-republished"
NOT_BEFORE = "not_before"
PUBLISH_CHUNK = 1000
GONE: tuple[type[BaseException], ...] = (*BROKER_ERRORS, TransportUnavailable)
PENDING_REFRESH_S = 0.25
#: Re-published copies whose ids a destination's consumer keeps (``_Copies``): about 1 MB.
COPIES_KEPT = 10_000
#: How long ``release`` waits for this engine's attempts to be committed (the store away).
RELEASE_COMMIT_S = 5.0
#: Seconds before unconfirmed messages are loaded again when the store did not answer; the
#: first wait before a payload that was not kept is read again (``_stored``), doubling up to
#: the second.
RELOAD_PAUSE = 1.0
UNREAD_PAUSE_MAX = 30.0
#: Seconds a message owed a publish waits, the connection up and nothing else publishing it,
#: before it is published again (``_publish_owed_while_up``); doubled while the broker keeps
#: refusing, up to the second.
OWED_PAUSE = 5.0
OWED_PAUSE_MAX = 60.0


class _CheckFailed(Exception):
    """The store did not answer a check; the delivery goes out as the broker brought it."""


@dataclass(frozen=True, slots=True)
class _Owed:
    """A message whose publish was not confirmed: what publishing it again needs beside the
    store's copy. Slotted and without the payload: an outage of hours leaves millions of these.

    ``whole`` is the message itself only when the transport has no ``load`` (built alone, with
    no store behind it): it has nowhere else to find it again then, and dropping it would lose
    a message the caller was told is kept (``Transport.publish``). The engine always hands in
    ``load``.
    """

    destination_id: str
    attempt_count: int
    not_before: datetime | None
    whole: OutboundMessage | None = None

    def kept(self, loaded: OutboundMessage) -> OutboundMessage:
        """``loaded`` with what this was published with (``outbox.as_published``)."""
        return as_published(loaded, self.attempt_count, self.not_before)


@dataclass
class _Inbound:
    generation: int
    acks: ChannelAcks
    tag: int
    message: OutboundMessage
    #: Redelivered, re-published, or the first publish behind a re-published copy
    #: (``_Copies``): maybe attempted already, so checked after ``barrier``.
    check: bool
    #: Never delivered before, but waiting in the queue when the consumer started
    #: (``_Waiting``): checked against the store, without the barrier.
    waiting: bool = False
    #: Its payload was not kept (``DELIVERY_BUDGET_BYTES``): read from the store when its turn
    #: comes.
    unread: bool = False
    #: The payload bytes it holds in its consumer's budget (0 once let go).
    size: int = 0
    #: When it came (loop time), or was last confirmed still ours (``RabbitDelivery.confirm``).
    received_at: float = 0.0


@dataclass
class _Waiting:
    """How many of a consumer's first never-delivered deliveries are checked against the
    store: the queue's ready count when it subscribed.

    Why: ``destinations remove --force`` stops the destination's runner, releases its queue and
    dead-letters in the store what waited, but the copies stay in the broker. Those a consumer
    had prefetched come back ``redelivered`` and were checked; the others have never been
    delivered, carry no flag, and the runner that started when the destination came back (a
    rollback, its file added again, an engine started meanwhile) sent them, and their attempts
    turned ``dead`` into ``delivered``: the referral twice at the hospital when support had
    resent the dead letters. Any message cancelled or dead-lettered while no runner here
    consumed the queue is the same case.

    Why this and not purging the queue at the removal: other engines share the broker and may
    still publish pending messages to it (their catalog not yet reloaded, a re-publish of what
    was owed), and a later revision's messages may be there by the time a purge ran; a purge
    drops whatever is in the queue, the store cannot tell it which, and a message dropped
    while pending is lost until a recovery re-publishes it. A check drops nothing: what the store
    still lists as pending is handed out as before. The ready count bounds the check to what
    was in the queue before this consumer: the queue hands out never-delivered messages in the
    order they came, so the first ``left`` never-delivered deliveries include every one that
    was waiting; what is published later is not checked (steady state: one integer test per
    delivery), and what was prefetched elsewhere comes back ``redelivered`` (checked anyway).
    Taken again at every subscribe (a reconnect, a consume after the broker's cancel): what a
    lost channel had prefetched comes back flagged, the rest is counted anew. The cost is one
    passive declare per subscribe and one store read per message that was waiting then, the
    first time it is delivered: after a restart behind a backlog, as its redelivered or
    re-published copies already cost. No barrier for these: a copy never delivered has no
    attempt in flight to wait for (unless a re-published copy of it came first: then it is
    checked as that copy was, ``_Copies``); and one still pending goes out as it was published (its
    headers are current), not rebuilt from the store.
    """

    left: int = 0


class _Copies:
    """The ids of the re-published copies a consumer was delivered lately, so that the
    message's first publish, coming behind one, is checked as the copy was.

    Why: a re-publish (the recovery leader's, of every message the store lists as pending)
    also copies a message its committer (the intake, here or in another engine) has committed
    and not yet published; that publish then reaches the queue behind the copy. The copy is
    checked, finds the message pending and goes out; the first publish, never delivered and
    flagged by nothing, went out again: after a broker restart mid-stream, 18 messages sent
    twice to one receiver, each with two attempts recorded, in a block right behind their
    copies. A first publish whose id is here is checked after the barrier, as a redelivery is:
    the copy's attempt is committed by then, and the store says it is done. One ahead of its
    copy needs nothing: the copy is checked when it comes.

    Kept to ``kept`` ids, the oldest let go first: a re-publish after an outage of hours is
    hundreds of thousands of copies. A first publish that trails its copy is published a
    moment after it (by whoever committed it just before the re-publish read the store), so
    between the two come only the rest of the copy's chunk and what was published behind the
    re-publish meanwhile: ten thousand is over a second of a re-publish at the ~7,000 messages
    a second measured. Beyond that a trailing first publish goes out unchecked, as all did
    before. The steady state has no copies: one test of an empty dict per delivery.
    """

    __slots__ = ("_ids", "_kept")

    def __init__(self, kept: int = COPIES_KEPT) -> None:
        self._kept = kept
        self._ids: dict[str, None] = {}  # oldest first

    def seen(self, message_id: str) -> None:
        """A re-published copy of ``message_id`` was delivered."""
        self._ids.pop(message_id, None)
        self._ids[message_id] = None
        if len(self._ids) > self._kept:
            del self._ids[next(iter(self._ids))]

    def trails(self, message_id: str) -> bool:
        """Whether a copy of ``message_id`` came before this, its first publish (forgotten
        then: it comes once)."""
        if message_id not in self._ids:
            return False
        del self._ids[message_id]
        return True


@dataclass
class RabbitDelivery:
    message: OutboundMessage
    _consumer: _Consumer
    _item: _Inbound
    _transport: RabbitMQTransport

    async def settle(self) -> None:
        self._consumer.in_hand.pop(self.message.message_id, None)
        self._consumer.let_go(self._item)
        self._consumer.acks.append(self._item)
        self._consumer.ack_wanted.set()

    def in_doubt(self) -> bool:
        return self._transport.in_doubt(self._item)

    async def confirm(self) -> bool:
        return await self._transport.confirm(self._consumer, self._item)


@dataclass
class _Consumer:
    destination_id: str
    #: The broker's cancel (the queue was deleted): ``again.cancelled`` while not consuming.
    again: ConsumeAgain
    #: Its duplicate copies skipped, for the log: counted, not a line each.
    skipped: SkippedCopies
    queue: asyncio.Queue[_Inbound] = field(default_factory=asyncio.Queue)
    channel: AbstractChannel | None = None
    generation: int = -1
    acks: list[_Inbound] = field(default_factory=list)
    ack_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    ack_task: asyncio.Task[None] | None = None
    #: Message ids handed to a worker (or being checked for one: ``receive``) and not yet
    #: settled, with their channel's generation.
    in_hand: dict[str, int] = field(default_factory=dict)
    #: Re-published copies delivered lately, across reconnects (``_Copies``).
    copies: _Copies = field(default_factory=_Copies)
    #: The payloads it holds whole: prefetched, or in a worker's hands (``_Inbound.unread``).
    budget: ByteBudget = field(
        default_factory=lambda: ByteBudget(budgets.DELIVERY_BUDGET_BYTES, most=1, unknown=1)
    )

    def let_go(self, item: _Inbound) -> None:
        """``item``'s payload is no longer held here (settled, skipped or dropped)."""
        self.budget.give(item.size)
        item.size = 0

    def drop_prefetched(self) -> None:
        """Forget what was prefetched and not handed out: the broker gives it again."""
        while not self.queue.empty():
            self.let_go(self.queue.get_nowait())

    @property
    def starting(self) -> asyncio.Lock:
        """Held while the consumer is started (several workers of one destination may ask at
        once) or consumed again after a cancel."""
        return self.again.lock


class RabbitMQTransport:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "integrator",
        prefetch: int = 200,
        still_pending: StillPending | None = None,
        barrier: Barrier | None = None,
        load: Load | None = None,
    ) -> None:
        self.topology = Topology(prefix)
        self.link = AmqpLink(url)
        self._prefetch = prefetch
        self._still_pending = still_pending
        self._barrier = barrier
        self._load = load
        self._publisher: AbstractChannel | None = None
        self._admin: AbstractChannel | None = None
        self._declared: set[str] = set()
        self._consumers: dict[str, _Consumer] = {}
        # By message id, in the order first remembered (a dict keeps a key's first place).
        self._unconfirmed: dict[str, _Owed] = {}
        # One re-publish of them at a time: a second reconnect's finds what the first left.
        self._republishing = asyncio.Lock()
        # Re-publishes under way that new publishes must not pass (``publish``): a reconnect's
        # of what it owes, the recovery leader's of the store's pending messages.
        self._behind = 0
        # Set and cleared at once whenever owed messages went out or a re-publish ended:
        # wakes the publishes waiting behind one (``_published_behind``).
        self._moved = asyncio.Event()
        self._ready: dict[str, tuple[float, int]] = {}
        self._refreshing: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        #: How a destination's skipped copies are told (a test's, with its own clock and timer).
        self.skipped_copies: Callable[[str], SkippedCopies] = SkippedCopies
        self.link.on_connect(self._connected)
        self.link.on_disconnect(self._disconnected)
        self._stalls = LoopStalls()

    def configure(
        self,
        *,
        still_pending: StillPending | None = None,
        barrier: Barrier | None = None,
        load: Load | None = None,
    ) -> None:
        """Hand in the store-side checks once the engine has built them; with ``load``,
        unconfirmed messages are remembered by id only (``_Owed``)."""
        if still_pending is not None:
            self._still_pending = still_pending
        if barrier is not None:
            self._barrier = barrier
        if load is not None:
            self._load = load

    async def start(self, *, timeout: float = 10.0) -> None:
        self._stalls.start()
        await self.link.start(timeout=timeout)
        self._spawn(self._publish_owed_while_up())

    # -- connection life cycle ---------------------------------------------------------------
    async def _connected(self, connection: AbstractConnection) -> None:
        version = broker_version(getattr(connection, "server_properties", None))
        if version is not None and version < MIN_BROKER_VERSION:
            raise PublishRefused(  # permanent: nothing to retry until the broker is upgraded
                f"RabbitMQ {'.'.join(map(str, version))} has no quorum queues with single "
                f"active consumer; {'.'.join(map(str, MIN_BROKER_VERSION))} or newer is needed"
            )
        self._declared.clear()
        # From the moment there is a publisher channel until what is owed is published again
        # (``_catch_up``), a new publish must not pass it.
        self._behind += 1
        try:
            self._publisher = await open_channel(connection, publisher_confirms=True)
            await self.topology.declare_common(self._publisher)  # refused: the link retries
            self.link.watch(self._publisher, "publisher")
            self._admin = None
            for consumer in self._consumers.values():
                await self._consume(consumer, connection)
        except BaseException:
            self._behind -= 1
            raise
        self._spawn(self._catch_up())

    def _disconnected(self) -> None:
        self._publisher = self._admin = None
        self._wake()
        for consumer in self._consumers.values():
            consumer.channel = None
            consumer.again.cancelled = False  # a new channel consumes anew; "disconnected" says why
            consumer.in_hand.clear()  # unsettled, they come again from the broker: checked then
            # Prefetched but not handed out: the broker gives them again to the next consumer.
            consumer.drop_prefetched()
            consumer.acks.clear()

    async def _catch_up(self) -> None:
        """The reconnect's re-publish, new messages owed behind it meanwhile (``publish``)."""
        try:
            if self._unconfirmed:
                await self._publish_unconfirmed()
        finally:
            self._behind -= 1
            self._wake()

    async def _publish_owed_while_up(self) -> None:
        """Publish again what is owed while the connection stays up, every ``OWED_PAUSE``.

        A reconnect publishes what is owed, and so does the next publish; but a publish can
        fail without the connection going (the broker's nack, a channel's error), and on an
        engine that then gets no other event its messages waited, stored and queued nowhere,
        until the next event or restart: hours on a quiet night. Each round that leaves them
        owed (refused again) doubles the pause, up to ``OWED_PAUSE_MAX``, and says so.
        """
        pause = OWED_PAUSE
        while True:
            await asyncio.sleep(pause)
            if not self._unconfirmed:
                pause = OWED_PAUSE
                continue
            if self._behind or self._publisher is None or not self.link.connected:
                continue  # a re-publish under way, or the reconnect's, publishes them
            try:
                await self._publish_unconfirmed()
            except Exception as exc:  # this loop must outlive any one round
                log.error("publishing owed messages failed", error_type=type(exc).__name__)
            if not self._unconfirmed:
                pause = OWED_PAUSE
                continue
            if self.link.connected:
                pause = min(pause * 2, OWED_PAUSE_MAX)
                log.warning(
                    "messages owed a publish were not confirmed by the broker; trying again",
                    messages=len(self._unconfirmed),
                    retry_in_s=round(pause),
                )

    def owed(self) -> int:
        """How many messages are owed a publish (``_unconfirmed``), for the metrics."""
        return len(self._unconfirmed)

    def _wake(self) -> None:
        self._moved.set()
        self._moved.clear()

    @contextlib.asynccontextmanager
    async def ahead_of_new_publishes(self) -> AsyncIterator[None]:
        """Whatever is re-published inside goes out before what is published meanwhile.

        For the recovery leader's re-publish of the store's pending messages: after a crash
        between commit and publish, the referral is pending in the store only, and its cancel,
        redelivered from the intake queue with it, was published before the re-publish
        reached it. New messages are owed behind it meanwhile and published as it ends. The
        hold begins when this is entered, before its first wait.
        """
        self._behind += 1
        try:
            yield
        finally:
            try:
                if self._unconfirmed and self.link.connected:
                    await self._publish_unconfirmed()
            finally:
                self._behind -= 1
                self._wake()

    async def _publish_unconfirmed(self) -> None:
        """Publish again what was not confirmed, a chunk at a time, oldest first.

        Each chunk is taken from the head of ``_unconfirmed`` as it is now and loaded from the
        store; what was confirmed while it loaded (a concurrent publish of the same message) is
        left out, and so is what the store no longer lists as pending, which is forgotten. The
        next chunk goes out only once this one is confirmed, and it is popped from
        ``_unconfirmed`` then (``_publish_once``), so the loop ends: the link lost or a refusal
        ends it early, and the next reconnect starts again from what is left.
        """
        published = 0
        async with self._republishing:
            try:
                while self._unconfirmed and self.link.connected:
                    ids = list(itertools.islice(self._unconfirmed, PUBLISH_CHUNK))
                    messages = await self._owed_messages(ids)
                    if messages is None:  # the store is away: they wait in it
                        await asyncio.sleep(RELOAD_PAUSE)
                        continue
                    await self.republish(messages)
                    published += len(messages)
            except (TransportUnavailable, PublishRefused):
                pass
        if published:
            log.info("re-published unconfirmed messages", messages=published)

    async def _owed_messages(self, ids: Sequence[str]) -> list[OutboundMessage] | None:
        """The messages of ``ids`` still owed, in that order; those no longer pending in the
        store are forgotten. None when the store did not answer."""
        to_load = {
            i for i in ids if (owed := self._unconfirmed.get(i)) is not None and owed.whole is None
        }
        loaded: dict[str, OutboundMessage] = {}
        if to_load:
            assert self._load is not None  # entries without ``whole`` are made only with it
            try:
                loaded = {
                    m.message_id: m for m in await self._load([i for i in ids if i in to_load])
                }
            except Exception as exc:
                log.warning(
                    "could not load unconfirmed messages; trying again",
                    messages=len(to_load),
                    error_type=type(exc).__name__,
                )
                return None
        messages: list[OutboundMessage] = []
        for message_id in ids:
            owed = self._unconfirmed.get(message_id)
            if owed is None:
                continue  # confirmed meanwhile: published by someone else
            if owed.whole is not None:
                messages.append(owed.whole)
            elif (found := loaded.get(message_id)) is not None:
                messages.append(owed.kept(found))
            elif message_id in to_load:
                del self._unconfirmed[message_id]  # nothing owed: delivered, cancelled, ...
            # else remembered again while loading, as an entry to load: the next chunk has it
        return messages

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- publishing --------------------------------------------------------------------------
    async def publish(
        self, messages: Sequence[OutboundMessage], *, written: Callable[[], None] | None = None
    ) -> None:
        """Publish newly committed ``messages``, after what is still owed from before.

        A cancel accepted just after the broker came back was published at once, while its
        referral, accepted during the outage, waited for the reconnect's re-publish, and
        reached the hospital first. So while a re-publish runs (the reconnect's, the recovery
        leader's), new messages are owed behind what it publishes and it publishes them in
        turn: ``written`` is called at once (what is published next goes behind them), and
        the call returns once they are confirmed, as any publish, so an AMQP intake batch is
        acked only then (after a long outage that takes a while: some 7,000 messages a second
        here). Owed otherwise (a nack left some), those are published first, here. Not
        connected, the publish fails at once and its messages are owed after the others.
        """
        if self._behind and self.link.connected:
            self._remember(messages)
            if written is not None:
                written()
            await self._published_behind([m.message_id for m in messages])
            return
        if self._unconfirmed and self._publisher is not None and self.link.connected:
            await self._publish_unconfirmed()
        await self._publish(messages, republished=False, written=written)

    async def _published_behind(self, ids: list[str]) -> None:
        """Until the re-publish under way has published ``ids``; when it ends without (the
        link lost, a nack), they are owed still, and this fails as their publish would: as
        the broker away (``committed.py``: stored work, published later), since they stay
        owed and are tried again (``_publish_owed_while_up``)."""
        while any(i in self._unconfirmed for i in ids):
            if not self.link.connected:
                raise TransportUnavailable("no connection to the message broker")
            if not self._behind:
                await self._publish_unconfirmed()  # once more, in order; then it is said
                if not any(i in self._unconfirmed for i in ids):
                    return
                if not self.link.connected:
                    raise TransportUnavailable("no connection to the message broker")
                raise TransportUnavailable(
                    "the message broker did not take the messages published again (nack)"
                )
            await self._moved.wait()

    async def republish(self, messages: Sequence[OutboundMessage]) -> None:
        """Publish again what the store lists as pending; receivers check these first."""
        await self._publish(messages, republished=True)

    async def _publish(
        self,
        messages: Sequence[OutboundMessage],
        *,
        republished: bool,
        written: Callable[[], None] | None = None,
    ) -> None:
        if not messages:
            return
        try:
            returned = await self._publish_once(messages, republished, written)
            if returned:
                # Publishes are mandatory: the broker hands back (basic.return) what no queue
                # is bound for, where it would otherwise confirm and drop it. The delivery
                # queue was deleted under us: declare it (and its binding) again and publish
                # what came back once more.
                destinations = sorted({m.destination_id for m in returned})
                log.error(
                    "message broker returned messages: no delivery queue bound; declaring it again",
                    destinations=destinations,
                    messages=len(returned),
                )
                self._declared.difference_update(destinations)
                returned = await self._publish_once(returned, republished)
                if returned:
                    raise PublishRefused(
                        f"the broker routed {len(returned)} messages to no delivery queue"
                    )
        except BROKER_ERRORS as exc:
            self._remember(messages)
            raise TransportUnavailable(
                f"publishing to the message broker failed ({type(exc).__name__})"
            ) from None
        except (TransportUnavailable, PublishRefused):
            self._remember(messages)
            raise

    async def _publish_once(
        self,
        messages: Sequence[OutboundMessage],
        republished: bool,
        written: Callable[[], None] | None = None,
    ) -> list[OutboundMessage]:
        """Publish ``messages``; those the broker returned as unroutable (none bound).

        With ``written`` they are written in one go and it is called before any confirm is
        awaited (``Transport.publish``): one publisher channel, whose frames aiormq queues in
        the order of the calls, so what is published after reaches every queue after them.
        Without it a chunk's confirms are awaited before the next chunk is written, which
        bounds what a large re-publish keeps in flight.
        """
        channel = self._publisher
        if channel is None or not self.link.connected:
            raise TransportUnavailable("no connection to the message broker")
        for destination_id in {m.destination_id for m in messages} - self._declared:
            await self.topology.declare_destination(channel, destination_id)
            self._declared.add(destination_id)
        returned: list[OutboundMessage] = []
        size = len(messages) if written is not None else PUBLISH_CHUNK
        for start in range(0, len(messages), size):
            chunk = messages[start : start + size]
            confirming = await self._send_chunk(channel, chunk, republished)
            if written is not None:
                written()
            confirms = await confirming
            refused = 0
            for message, confirm in zip(chunk, confirms, strict=True):
                if isinstance(confirm, aiormq.exceptions.PublishError):
                    returned.append(message)
                elif isinstance(confirm, asyncio.CancelledError):
                    # aiormq ends the confirms a connection it gave up on still owed (its
                    # heartbeat ran out: gone half-open) as cancelled. The connection went, not
                    # this task: raised as it is, it ended an intake worker as if stopped, its
                    # message owed to no one, and a request with a bare 500.
                    raise ConnectionError("the broker connection went before its confirm")
                elif isinstance(confirm, aiormq.exceptions.DeliveryError):
                    refused += 1  # the broker's nack, which aiormq sets as this error
                elif isinstance(confirm, BaseException):
                    raise confirm  # the channel or connection went: the first such error
            if refused:
                # Not taken: owed like a publish the broker's going cut short, and so for
                # the callers (``committed.py``) stored work to be sent later, not an
                # operation to try again: the owed are tried again while the connection
                # stays up (``_publish_owed_while_up``).
                raise TransportUnavailable(
                    f"the message broker refused {refused} of {len(chunk)} messages (nack)"
                )
            for m in chunk:
                self._unconfirmed.pop(m.message_id, None)
            self._wake()
        self._remember(returned)  # not confirmed after all; the caller publishes them again
        return returned

    def _remember(self, messages: Sequence[OutboundMessage]) -> None:
        """Owe ``messages`` a publish (``publish``, ``_publish_unconfirmed``); by id only with a
        ``load``."""
        keep_whole = self._load is None
        for m in messages:
            self._unconfirmed[m.message_id] = _Owed(
                m.destination_id, m.attempt_count, m.not_before, m if keep_whole else None
            )

    async def _send_chunk(
        self, channel: AbstractChannel, chunk: Sequence[OutboundMessage], republished: bool
    ) -> asyncio.Future[list[object]]:
        """Publish ``chunk``; returns once its frames are queued (or, publishing one by one,
        its publishes are started in order) with what resolves to every message's confirm,
        each outcome in order: the broker's ack or nack, or the error that settled it
        (``PublishError`` for a return)."""
        exchange = self.topology.delivery_exchange
        if can_batch(channel):
            futures = await publish_batch(
                channel,
                [
                    Outgoing(
                        exchange,
                        m.destination_id,
                        _properties(m, republished),
                        m.payload,
                        mandatory=True,
                    )
                    for m in chunk
                ],
            )
            return asyncio.gather(*futures, return_exceptions=True)
        # Each a task from here on, started in this order: each takes the channel's lock (a
        # queue, first come first served) and queues its frames before any later publish can.
        return asyncio.gather(
            *(
                channel.basic_publish(
                    m.payload,
                    exchange=exchange,
                    routing_key=m.destination_id,
                    properties=_properties(m, republished),
                    mandatory=True,
                    # Not "wait until written": aiormq holds the channel lock across that wait,
                    # so the publishes of a chunk would go out one event-loop turn apiece.
                    # (aiormq's Channel takes ``wait``; its abstract base does not declare it.)
                    wait=False,  # type: ignore[call-arg]
                )
                for m in chunk
            ),
            return_exceptions=True,
        )

    # -- receiving ---------------------------------------------------------------------------
    def _consumer(self, destination_id: str) -> _Consumer:
        consumer = self._consumers.get(destination_id)
        if consumer is None:
            again = ConsumeAgain(DELIVERY, self._spawn, destination=destination_id)
            consumer = self._consumers[destination_id] = _Consumer(
                destination_id, again, self.skipped_copies(destination_id)
            )
            consumer.ack_task = asyncio.create_task(
                self._ack_loop(consumer), name=f"ack:{destination_id}"
            )
        return consumer

    async def receive(self, destination_id: str) -> RabbitDelivery:
        consumer = self._consumer(destination_id)
        while True:
            if consumer.channel is None and self.link.connected:
                with contextlib.suppress(*GONE):
                    await self._consume(consumer, self.link.connection)
            item = await consumer.queue.get()
            if item.generation != self.link.generation:
                consumer.let_go(item)
                continue  # its channel is gone; the broker redelivers it
            if consumer.in_hand.get(item.message.message_id) == item.generation:
                # A copy (re-published by another engine, say; or the first publish, overtaken
                # by a copy) of a message a worker of ours is sending now: the store still lists
                # it as pending, so the check below would send it a second time. The one in hand
                # stays unsettled until its outcome, and goes back to the queue if it gets none;
                # this one is not needed. (A retry is published again only after its settle.)
                self._skip(consumer, item, "in hand")
                continue
            if (item.check or item.waiting or item.unread) and self._still_pending is not None:
                # In hand while it is checked: the waits below let another worker of this
                # destination (``connections`` above 1) take the next delivery, and a copy of
                # this message taken meanwhile is skipped as in hand; checked too, both found
                # it pending and both were sent.
                message_id = item.message.message_id
                consumer.in_hand[message_id] = item.generation
                try:
                    send = await self._checked(consumer, item)
                except BaseException:
                    _out_of_hand(consumer, item)
                    raise
                if not send:
                    _out_of_hand(consumer, item)
                    continue
            return self._hand_out(consumer, item)

    async def _checked(self, consumer: _Consumer, item: _Inbound) -> bool:
        """Whether ``item`` is still to be sent, by the store (after the barrier for one that
        may have been attempted): made ready to hand out when it is, skipped when not."""
        if item.check and self._barrier is not None:
            await self._barrier()  # the previous attempts are committed before we look
        try:
            current = await self._stored(consumer, item)
        except _CheckFailed:  # store away: sending again keeps the MSH-10
            return True
        if current is None:
            self._skip(consumer, item, "done" if item.check else "no longer pending")
            return False
        if item.check:
            # The store's copy, not before its next_attempt_at (a fifo retry a stopped runner
            # left unsettled comes back with the headers it was first published with) nor the
            # time it was handed back with.
            item.message = _not_before(current, item.message.not_before)
        elif item.unread:
            # As published, as any first delivery (its headers are current; the store may lag
            # them), with its payload: the same bytes, so the same MSH-10.
            item.message = dataclasses.replace(item.message, payload=current.payload)
        # One that only waited is sent as it was published, as any first delivery: its headers
        # are current (the recorder was not waited for; the store may lag them).
        if item.unread:  # in a worker's hands now: held until settled
            item.size = len(item.message.payload)
            consumer.budget.take(item.size)
        return True

    async def _stored(self, consumer: _Consumer, item: _Inbound) -> OutboundMessage | None:
        """``item``'s message as the store has it (``StillPending``), or None when nothing is
        owed for it any more.

        A store that does not answer fails the check (``_CheckFailed``: the delivery goes out
        as the broker brought it), unless the payload was not kept: that one is only in the
        store, so it is asked again, backing off, and the queue waits for it in its order.
        """
        assert self._still_pending is not None
        wait = RELOAD_PAUSE
        while True:
            try:
                return await self._still_pending(
                    item.message.message_id, payload=item.check or item.unread
                )
            except Exception as exc:
                if not item.unread:
                    log.warning(
                        "could not check a message against the store; delivering it",
                        destination=consumer.destination_id,
                        message_id=item.message.message_id,
                        error_type=type(exc).__name__,
                    )
                    raise _CheckFailed from None
                log.warning(
                    "could not read a message's payload from the store; trying again",
                    destination=consumer.destination_id,
                    message_id=item.message.message_id,
                    error_type=type(exc).__name__,
                    retry_in_s=wait,
                )
            await asyncio.sleep(wait)
            wait = min(wait * 2, UNREAD_PAUSE_MAX)

    def _hand_out(self, consumer: _Consumer, item: _Inbound) -> RabbitDelivery:
        consumer.in_hand[item.message.message_id] = item.generation
        return RabbitDelivery(item.message, consumer, item, self)

    def in_doubt(self, item: _Inbound) -> bool:
        """Whether the broker may have given ``item`` to another engine since it came: its
        connection is gone, or it was held, or came around a stall of the loop, long enough for
        the broker to have closed that connection unnoticed (``integrator.transport.stalls``)."""
        if item.generation != self.link.generation:
            return True
        return self._stalls.in_doubt(item.received_at, held(self.link.heartbeat))

    async def confirm(self, consumer: _Consumer, item: _Inbound) -> bool:
        """Whether ``item`` is still this engine's to send, asked of the broker: a round trip
        on its channel (a ``basic.qos`` as at the start, which changes nothing) answered means
        the channel is open, so its unacked deliveries are given to no one else. Otherwise it
        is let go, unsent and unacked: the broker gives it again, to this engine or another,
        and the store is read then (it is redelivered). A half-open network answers nothing:
        the call ends when the connection's heartbeat ends the connection."""
        channel = item.acks.channel
        if item.generation == self.link.generation and not channel.is_closed:
            try:
                await channel.basic_qos(prefetch_count=self._prefetch)
            except asyncio.CancelledError:
                if not cancelled_elsewhere():
                    raise
            except GONE:
                pass
            else:
                if item.generation == self.link.generation and not channel.is_closed:
                    item.received_at = asyncio.get_running_loop().time()
                    return True
        _out_of_hand(consumer, item)
        consumer.let_go(item)
        log.warning(
            "a message held while the broker connection was lost is not sent; "
            "the broker gives it again",
            destination=consumer.destination_id,
            message_id=item.message.message_id,
        )
        return False

    def _skip(self, consumer: _Consumer, item: _Inbound, why: str) -> None:
        """Ack a delivery that is not to be sent: done already, or in a worker's hands."""
        consumer.let_go(item)
        consumer.acks.append(item)
        consumer.ack_wanted.set()
        consumer.skipped.skipped(item.message.message_id, why)

    async def _consume(self, consumer: _Consumer, connection: AbstractConnection) -> None:
        async with consumer.starting:  # several workers of one destination may ask at once
            if consumer.channel is not None and consumer.generation == self.link.generation:
                return
            await self._start_consumer(consumer, connection)

    async def _start_consumer(self, consumer: _Consumer, connection: AbstractConnection) -> None:
        generation = self.link.generation
        consumer.generation = generation
        channel = await open_channel(connection, publisher_confirms=False)
        consumer.channel = channel
        await channel.basic_qos(prefetch_count=self._prefetch)
        destination_id = consumer.destination_id
        acks = ChannelAcks(channel)

        waiting = _Waiting()
        loop = asyncio.get_running_loop()

        async def on_message(delivered: DeliveredMessage) -> None:
            size = len(delivered.body)
            # Beyond the budget the payload is not kept: the store has every message published,
            # and the queue's order is kept by the delivery, not by its body.
            keep = self._still_pending is None or consumer.budget.fits(size)
            message = _decode(delivered, destination_id, keep=keep)
            headers = delivered.header.properties.headers or {}
            republished = bool(headers.get(REPUBLISHED))
            check = redelivered(delivered) or republished
            was_waiting = False
            if not check and waiting.left:  # called in delivery order, without a wait
                waiting.left -= 1
                was_waiting = True
            if republished:
                consumer.copies.seen(message.message_id)
            elif not check and consumer.copies.trails(message.message_id):
                check = True  # its first publish, behind a copy that may have gone out
            item = _Inbound(
                generation,
                acks,
                delivery_tag(delivered),
                message,
                check,
                was_waiting,
                received_at=loop.time(),
            )
            if keep:
                item.size = size
                consumer.budget.take(size)
            else:
                item.unread = True
            consumer.queue.put_nowait(item)

        def current() -> bool:
            """Still this consumer's channel: not replaced by a reconnect, not released."""
            return (
                consumer.channel is channel
                and not channel.is_closed
                and self._consumers.get(destination_id) is consumer
            )

        # The broker's basic.cancel: the queue was deleted (or the broker gave up on it). The
        # channel stays open and the engine connected, so without this the destination would
        # silently get nothing more until a restart.
        consumer.again.watch(
            channel,
            current=current,
            subscribe=lambda: self._subscribe(channel, destination_id, on_message, waiting=waiting),
        )
        await self._subscribe(channel, destination_id, on_message, waiting=waiting)
        consumer.again.cancelled = False
        self.link.watch(channel, f"delivery:{destination_id}")

    async def _subscribe(
        self,
        channel: AbstractChannel,
        destination_id: str,
        on_message: ConsumerCallback,
        *,
        waiting: _Waiting | None = None,
    ) -> None:
        """Declare the destination's queue and binding (as at start) and consume it; with
        ``waiting``, the messages ready in it now are checked as they come (``_Waiting``)."""
        generation = self.link.generation
        await self.topology.declare_destination(channel, destination_id)
        if waiting is not None:
            ready = await channel.queue_declare(
                self.topology.delivery_queue(destination_id), passive=True
            )
            waiting.left = ready.message_count or 0
        if generation == self.link.generation:
            # Declared on this connection: the first publish there need not declare it again.
            # It did, a destination at a time, two round trips each on the publisher channel,
            # while a new engine's first events waited (bench/results/perf.md, twenty-fourth
            # session). Deleted later, it is declared again when a publish comes back.
            self._declared.add(destination_id)
        await channel.basic_consume(self.topology.delivery_queue(destination_id), on_message)

    def not_consuming(self) -> list[str]:
        """Destinations whose consumer the broker cancelled and that are not consumed again yet
        (readiness and ``integrator_transport_up`` say so)."""
        return sorted(d for d, c in self._consumers.items() if c.again.cancelled)

    async def _ack_loop(self, consumer: _Consumer) -> None:
        while True:
            await consumer.ack_wanted.wait()
            await self._flush_acks(consumer)

    async def _flush_acks(self, consumer: _Consumer) -> None:
        consumer.ack_wanted.clear()
        items, consumer.acks = consumer.acks, []
        if not items:
            return
        if self._barrier is not None:
            try:
                await self._barrier()
            except asyncio.CancelledError:
                # Cancelled while waiting (``release``): still to be acked by whoever flushes
                # next. Dropped here, they would be handed back to the broker uncommitted.
                consumer.acks[:0] = items
                raise
        # Workers of one destination settle out of delivery order (several connections), so
        # the window decides how far one multiple-ack may reach.
        generation = self.link.generation
        await ack_settled((i.acks, i.tag) for i in items if i.generation == generation)

    async def release(self, destination_id: str) -> None:
        """Stop consuming a destination's queue (paused, removed or changed here).

        Its channel is closed, so the broker hands what this engine held (unacked) to another
        engine's consumer, and single-active-consumer passes to it; nothing is lost. A changed
        destination's new runner consumes again on a fresh channel with a fresh ack window.

        Not before every attempt this engine made is committed: the engine that takes the queue
        over reads the store for a redelivered message, and waits only for its *own* commits.
        Closed earlier, a message whose attempt was still on its way to the store went out a
        second time (same MSH-10) from the other engine, to the destination's new address.
        """
        consumer = self._consumers.pop(destination_id, None)
        if consumer is None:
            return
        consumer.skipped.close()
        if consumer.ack_task is not None:
            consumer.ack_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer.ack_task
        if self._barrier is not None:
            try:  # the store first, whether or not anything is left to ack
                await asyncio.wait_for(self._barrier(), RELEASE_COMMIT_S)
            except TimeoutError:  # the store is away: the other engine cannot read it either
                log.warning(
                    "handing a destination's queue back before its attempts are committed",
                    destination=destination_id,
                    waited_s=RELEASE_COMMIT_S,
                )
        with contextlib.suppress(*GONE):
            await asyncio.wait_for(self._flush_acks(consumer), 5.0)
        channel, consumer.channel = consumer.channel, None
        consumer.drop_prefetched()
        if channel is not None:
            with contextlib.suppress(*GONE):
                await channel.close()

    def pending(self, destination_id: str) -> int:
        consumer = self._consumers.get(destination_id)
        local = consumer.queue.qsize() if consumer is not None else 0
        seen_at, ready = self._ready.get(destination_id, (0.0, 0))
        if (
            time.monotonic() - seen_at > PENDING_REFRESH_S
            and destination_id not in self._refreshing
        ):
            self._refreshing.add(destination_id)
            self._spawn(self._refresh_ready(destination_id))
        return local + ready

    async def _refresh_ready(self, destination_id: str) -> None:
        try:
            if self._admin is None or self._admin.is_closed:
                self._admin = await open_channel(self.link.connection, publisher_confirms=False)
            ok = await self._admin.queue_declare(
                self.topology.delivery_queue(destination_id),
                durable=True,
                arguments=self.topology.delivery_arguments(),
            )
            self._ready[destination_id] = (time.monotonic(), ok.message_count or 0)
        except GONE:
            pass
        finally:
            self._refreshing.discard(destination_id)

    async def dead_count(self) -> int:
        """Messages in the dead queue (``Topology.dead_queue``), asked of the broker now."""
        if self._admin is None or self._admin.is_closed:
            self._admin = await open_channel(self.link.connection, publisher_confirms=False)
        ok = await self._admin.queue_declare(self.topology.dead_queue, passive=True)
        return ok.message_count or 0

    async def ready_count(self, destination_id: str) -> int:
        """Messages waiting in the broker plus those prefetched here (fresh, not cached)."""
        await self._refresh_ready(destination_id)
        consumer = self._consumers.get(destination_id)
        local = consumer.queue.qsize() if consumer is not None else 0
        return local + self._ready.get(destination_id, (0.0, 0))[1]

    def owes(self) -> bool:
        """Whether messages handed to ``publish`` or ``republish`` are still owed a confirmed
        publish (after ``close``: what the stopping engine leaves to the recovery leader)."""
        return bool(self._unconfirmed)

    async def close(self) -> None:
        for consumer in self._consumers.values():
            consumer.skipped.close()
            if consumer.ack_task is not None:
                consumer.ack_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer.ack_task
            with contextlib.suppress(*GONE):
                await asyncio.wait_for(self._flush_acks(consumer), 5.0)
        self._consumers.clear()
        for task in list(self._background):
            task.cancel()
        await self.link.close()
        await self._stalls.close()


def _out_of_hand(consumer: _Consumer, item: _Inbound) -> None:
    """``item``'s message no longer in hand by its check (skipped, or the check ended): unless
    a reconnect cleared it meanwhile, or another delivery of it is in hand now."""
    if consumer.in_hand.get(item.message.message_id) == item.generation:
        del consumer.in_hand[item.message.message_id]


def _not_before(message: OutboundMessage, header: datetime | None) -> OutboundMessage:
    """``message`` held back until the later of its own ``not_before`` and ``header``."""
    if header is None or (message.not_before is not None and message.not_before >= header):
        return message
    return dataclasses.replace(message, not_before=header)


def _properties(message: OutboundMessage, republished: bool) -> Basic.Properties:
    headers: dict[str, object] = {
        "control_id": message.control_id,
        "created_at": message.created_at.isoformat(),
        "attempt_count": message.attempt_count,
    }
    if message.released_at is not None:  # where its max_age counts from (destinations.retry)
        headers["released_at"] = message.released_at.isoformat()
    if message.not_before is not None:  # a retry handed back early: not sent before this
        headers[NOT_BEFORE] = message.not_before.isoformat()
    if republished:
        headers[REPUBLISHED] = True
    return Basic.Properties(
        content_type=HL7_CONTENT_TYPE,
        delivery_mode=2,
        message_id=message.message_id,
        headers=headers,  # type: ignore[arg-type]
    )


def _decode(
    delivered: DeliveredMessage, destination_id: str, *, keep: bool = True
) -> OutboundMessage:
    """The message a delivery carries; without ``keep``, its payload left out (``b""``)."""
    properties = delivered.header.properties
    headers = properties.headers or {}
    created = headers.get("created_at")
    released = headers.get("released_at")
    not_before = headers.get(NOT_BEFORE)
    return OutboundMessage(
        message_id=str(properties.message_id),
        destination_id=destination_id,
        control_id=str(headers.get("control_id", "")),
        payload=delivered.body if keep else b"",
        created_at=datetime.fromisoformat(str(created)),
        attempt_count=int(str(headers.get("attempt_count", 0))),
        released_at=datetime.fromisoformat(str(released)) if released is not None else None,
        not_before=datetime.fromisoformat(str(not_before)) if not_before is not None else None,
    )


__all__ = ["RabbitDelivery", "RabbitMQTransport", "aiormq"]
