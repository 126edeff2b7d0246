"""AMQP intake: events published by upstream systems to the intake exchange.

Every engine process consumes the one intake queue (competing consumers), so starting more
engines spreads validation, mapping and the store commit over them. A batch of deliveries goes
through ``Intake.submit_many`` (one transaction) and is acked only after that returned, i.e.
after the events and messages were committed *and* the messages were confirmed on the delivery
queues, or, when the broker went away between the two, kept by the transport to be published
after the reconnect (``submit_many`` then returns as for any accepted batch). The ack of such a
batch is usually moot: the broker going away took the intake channel with it, so the deliveries
are of an older generation, never acked, and come again as duplicates (answered ``duplicate``,
acked, their queued messages re-published below). Either way nothing is lost or sent twice
under another control id.

A batch is what the inbox holds when a worker looks, up to 200. One that comes small (fewer
than ``GATHER_BELOW``: at a steady rate, a few events each time) while another batch is in work
gathers more until none is, for ``GATHER_S`` at most, before it is validated: it would commit
after that one anyway (batches commit in turn), and its commit, ZD read, publishes, confirms and
ack are each one per batch. With none in work (a quiet engine, an event now and then) nothing
waits; in a burst the inbox holds more than that and nothing waits either. Measured from each
event's publish (bench/results/perf.md, twenty-fourth session): at 550 events/s the median
event is acknowledged sooner than with a fixed 8 ms wait, for a fifth more CPU an event than
that (which a burst does not pay). One worker takes at a time, so the others do not empty a
batch that is gathering.

Bad input (not JSON, wrong schema) is stored as a rejected event by the intake and then acked:
it is never requeued and never lost. So is a delivery above ``schemas.refused.EVENT_BODY_LIMIT``
(the HTTP API's 413), kept without its body and never parsed (``Intake.keep_too_large``): the
broker takes messages up to its own ``max_message_size``, and parsing one of 76 MiB took the
engine from 129 MB to 570 MB.

Batches are committed and published in the order they were taken from the queue, though
several are in work at once (``Intake.turn``): one engine never lets a cancel overtake its
referral, in the store or on a delivery queue.

When a batch fails because the store (or the broker) is away, it is kept, unacked, and tried
again in the engine, after 1 s, then twice as long each time up to 5 s, until it passes; the
batches taken after it wait for it (their turn), so the intake takes nothing new meanwhile.
Handing it back to the broker instead counted every try against the intake queue's delivery
limit (20): a store away for 20 s sent valid events to the dead-letter queue, stored nowhere. A
stop, or a lost channel, leaves the deliveries to the broker (one delivery counted); after a
reconnect while the store is still away the queue is consumed only once the store answers, so
further drops in the same outage count nothing more. When a
batch fails for another reason, its deliveries are tried one at a time; one that fails alone is
given back to the broker and, when it fails again with ``redelivered`` set, is a suspected
poison message: it is stored as rejected with the error type and acked. The intake queue's
delivery limit dead-letters anything that still keeps coming back, so nothing can stop the
queue and nothing is dropped.

What the intake holds of the events (its inbox and the batches in work) is bounded by bytes,
``budget.INTAKE_BUDGET_BYTES``, not only by the prefetch count: the broker pushes the whole
prefetch whatever the bodies weigh, and 800 events with large attachments, kept while the store
is away, were tens of GB. The consumer is started with a prefetch sized by bytes and started
again (``basic.cancel``, then ``basic.consume`` after a new ``basic.qos`` on the same channel)
smaller when larger bodies come, or up to four times larger once it got its whole prefetch of
small ones. What the broker pushed before a cancel was answered and the budget has no room for
is not kept: it is handed back in the order delivered once the cancel is answered (earlier, the
broker would push it to the same consumer at once), with everything that consumer delivered
after it, and the queue consumed again once the largest recent body fits.

An intake queue deleted under a running engine (the broker cancels the consumer, and publishes
to the intake exchange are confirmed and dropped, as no queue is bound) is declared again with
its binding and consumed again on the same channel (``cancel.py``, as for a delivery queue);
until then ``not_consuming`` says so, for readiness.

A redelivered event that turns out to be a duplicate (its first delivery was committed by an
engine that then died before publishing or acking) gets its still-queued messages re-published,
so they do not wait for the next recovery, before the batch's new messages: a cancel
redelivered behind its referral went out first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field

from aiormq.abc import AbstractChannel, AbstractConnection, ConsumerCallback, DeliveredMessage

from integrator.errors import InvalidEvent, RetryableError
from integrator.eventloop import stop_task
from integrator.intake import Intake
from integrator.log_throttle import Clock, LogThrottle, still, tell_ended
from integrator.logging import get_logger
from integrator.store import Store, StoreError, StoreUnavailable
from integrator.transport import budget as budgets
from integrator.transport.acks import ChannelAcks, ack_settled
from integrator.transport.budget import ByteBudget
from integrator.transport.cancel import INTAKE, ConsumeAgain
from integrator.transport.errors import TransportUnavailable
from integrator.transport.link import (
    BROKER_ERRORS,
    cancelled_elsewhere,
    delivery_tag,
    open_channel,
    redelivered,
)
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.topology import Topology
from integrator.turnstile import Turn
from schemas.refused import EVENT_BODY_LIMIT

log = get_logger("integrator.transport.amqp_intake")

SOURCE = "amqp"
#: Who a refused delivery is kept as having come from: the channel. A message's own
#: properties (``app_id``, headers) are what its publisher chose to write, and RabbitMQ
#: checks none but ``user_id``, which publishers need not set; so no sender is named.
CALLER = SOURCE
BATCH = 200
#: A batch of fewer events than this, taken while another is in work, waits at most this
#: long for more (see above).
GATHER_BELOW = 32
GATHER_S = 0.008
#: Batches worked on at once: while one waits for its commit or its publisher confirms, the
#: next is validated and mapped. Acks are per message, so the order they finish in is free.
WORKERS = 3
PAUSE_AFTER_FAILURE = 1.0
#: A batch the store (or broker) failed is tried again after 1 s, then twice as long each time,
#: up to ``RETRY_MAX_S``: so the intake takes events again at most that long after the store is
#: back. It was 30 s: after an outage of a minute, intake stood still for up to half a minute
#: more while HTTP intake and delivery worked again. A try that a store still down refuses costs
#: it one connection attempt every 5 s (the recorder, with attempts to write, tries every second),
#: and the log tells the tries once a minute (``_keep``).
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class _Received:
    generation: int
    acks: ChannelAcks
    tag: int
    body: bytes
    redelivered: bool


@dataclass(eq=False)
class _Consumer:
    """One ``basic.consume`` of the intake queue, with the prefetch it was started with."""

    prefetch: int
    tag: str = field(default_factory=lambda: f"intake.{uuid.uuid4().hex}")
    #: Deliveries kept (into the inbox).
    received: int = 0
    #: Set by the first delivery the budget had no room for: it and every later one of this
    #: consumer are handed back, in the order delivered, once the consumer is cancelled.
    refusing: bool = False
    refused: list[int] = field(default_factory=list)
    #: Being cancelled, to be started again with another prefetch (``_resize``).
    resizing: bool = False


@dataclass(eq=False)
class _Taking:
    """The intake's channel of one connection and its consumer now (None while cancelled)."""

    channel: AbstractChannel
    acks: ChannelAcks
    generation: int
    consumer: _Consumer | None = None
    #: Every consumer started on the channel whose deliveries may still come, by tag.
    consumers: dict[str, _Consumer] = field(default_factory=dict)
    on_message: ConsumerCallback | None = None


class AmqpIntake:
    def __init__(
        self,
        transport: RabbitMQTransport,
        intake: Intake,
        store: Store,
        *,
        batch: int = BATCH,
        workers: int = WORKERS,
        log_clock: Clock = time.monotonic,
    ) -> None:
        """``log_clock``: the clock of the lines of batches kept while the store or broker is
        away (``integrator.log_throttle``), a test's to move."""
        self._transport = transport
        self._link = transport.link
        self._topology: Topology = transport.topology
        self._intake = intake
        self._store = store
        self._batch = batch
        self._workers = workers
        # The bodies held (inbox and batches in work) within ``INTAKE_BUDGET_BYTES``, the
        # consumer never started with more than the count it had before: 800 by default.
        self._budget = ByteBudget(
            budgets.INTAKE_BUDGET_BYTES, most=batch * (workers + 1), unknown=EVENT_BODY_LIMIT
        )
        self._inbox: asyncio.Queue[_Received] = asyncio.Queue()
        self._taking = asyncio.Lock()  # one worker takes a batch at a time
        self._in_work = 0  # batches taken and not yet done (acked, kept or given back)
        self._all_done = asyncio.Event()  # set whenever none is in work
        self._all_done.set()
        self._task: asyncio.Task[None] | None = None
        #: The channel consuming the intake queue now (None while disconnected or stopped).
        self._channel: AbstractChannel | None = None
        self._taking_now: _Taking | None = None
        self._again = ConsumeAgain(INTAKE, self._spawn)
        # Every try of every batch failed while the store was away, each in a line of its own:
        # told by the first, then once a minute, then once when a batch commits again.
        self._keeping = LogThrottle(first=1, clock=log_clock)
        self._background: set[asyncio.Task[None]] = set()
        self._link.on_connect(self._connected)
        self._link.on_disconnect(self._disconnected)

    async def start(self) -> None:
        """Consume from now on (and after every reconnect)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run_all(), name="amqp-intake")
        if self._link.connected:
            await self._connected(self._link.connection)

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        self._channel = self._taking_now = None
        for task in list(self._background):
            await stop_task(task)

    def not_consuming(self) -> bool:
        """Whether the broker cancelled the intake consumer (its queue was deleted) and it is
        not consumed again yet: events published meanwhile are dropped by the broker, so
        readiness and ``integrator_transport_up`` say so."""
        return self._again.cancelled

    def prefetch(self) -> int | None:
        """The prefetch of the intake's consumer now (``ByteBudget.prefetch``); None while it
        takes nothing: not connected, or waiting for room in its budget."""
        taking = self._taking_now
        consumer = taking.consumer if taking is not None else None
        return consumer.prefetch if consumer is not None else None

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _connected(self, connection: AbstractConnection) -> None:
        if self._task is None:
            return  # not started yet: start() consumes
        channel = await open_channel(connection, publisher_confirms=False)
        taking = _Taking(channel, ChannelAcks(channel), self._link.generation)

        async def on_message(delivered: DeliveredMessage) -> None:
            self._delivered(taking, delivered)

        taking.on_message = on_message
        self._channel, self._taking_now = channel, taking
        self._again.watch(
            channel,
            current=lambda: self._current(taking),
            subscribe=lambda: self._subscribe(taking),
        )
        if self._keeping.failing:
            # The store is away (a batch failed and none has committed since): consumed once it
            # answers. Every delivery held unacked when a connection goes counts against the
            # queue's delivery limit, and consumed at once, the kept batch came again to be
            # held until the next drop: twenty drops in one store outage moved valid events,
            # confirmed to their publishers, to the dead queue, stored nowhere.
            self._spawn(self._consume_once_the_store_answers(taking))
        else:
            async with self._again.lock:
                # Declared by the transport's connect hook just before: consuming is enough.
                await self._consume(taking, self._budget.prefetch())
                self._again.cancelled = False
        self._link.watch(channel, "intake")

    async def _consume_once_the_store_answers(self, taking: _Taking) -> None:
        """Consume on ``taking``'s channel once the store answers (asked after 1 s, then twice
        as long each time up to 5 s, as a kept batch is tried); nothing if the channel is
        replaced or the intake stopped meanwhile."""
        wait = RETRY_FIRST_S
        while self._current(taking):
            try:
                await self._store.ping()
            except asyncio.CancelledError:
                raise
            except Exception:  # any way of not answering: asked again, never given up
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MAX_S)
                continue
            try:
                async with self._again.lock:
                    if not self._current(taking):
                        return
                    await self._consume(taking, self._budget.prefetch())
                    self._again.cancelled = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the channel went under it (its reconnect consumes), or
                # the broker refused: tried again while the channel stands
                log.warning(
                    "intake could not consume again; trying again", error_type=type(exc).__name__
                )
                await asyncio.sleep(wait)
                continue
            log.info("the store answers again; intake consumes again")
            return

    def _current(self, taking: _Taking) -> bool:
        """Still the intake's channel: not replaced by a reconnect, intake not stopped."""
        return (
            self._channel is taking.channel
            and not taking.channel.is_closed
            and self._task is not None
        )

    async def _consume(self, taking: _Taking, prefetch: int) -> None:
        """Consume the intake queue on ``taking``'s channel with ``prefetch``: ``basic.qos``
        applies to the consumers started after it on the channel, each with its own count."""
        assert taking.on_message is not None
        consumer = _Consumer(prefetch)
        await taking.channel.basic_qos(prefetch_count=prefetch)
        taking.consumers[consumer.tag] = consumer
        taking.consumer = consumer
        await taking.channel.basic_consume(
            self._topology.intake_queue, taking.on_message, consumer_tag=consumer.tag
        )

    async def _subscribe(self, taking: _Taking) -> None:
        """The broker cancelled the consumer (its queue was deleted): declare the intake queue
        and its binding again (as at start) and consume it."""
        old, taking.consumer = taking.consumer, None
        if old is not None:  # nothing of it comes any more: what it refused goes back now
            await self._hand_back(taking, old)
        await self._topology.declare_intake(taking.channel)
        await self._consume(taking, self._budget.prefetch(after=old.prefetch if old else None))

    def _delivered(self, taking: _Taking, delivered: DeliveredMessage) -> None:
        """Into the inbox, if the budget has room: else refused, to be handed back."""
        body = delivered.body
        tag = delivery_tag(delivered)
        consumer = taking.consumers.get(str(getattr(delivered.delivery, "consumer_tag", "")))
        self._budget.seen(len(body))
        if consumer is not None and (consumer.refusing or not self._budget.fits(len(body))):
            # Pushed before a consumer sized for bodies like it could take over. Its body is
            # not kept; the delivery goes back to the queue once the consumer is cancelled
            # (earlier, the broker would push it to the same consumer again at once), and
            # so does every later one: the queue gives them again in this order.
            consumer.refusing = True
            consumer.refused.append(tag)
            self._resize(taking, consumer)
            return
        self._budget.take(len(body))
        self._inbox.put_nowait(
            _Received(taking.generation, taking.acks, tag, body, redelivered(delivered))
        )
        if consumer is None:
            return
        consumer.received += 1
        if self._budget.too_large(consumer.prefetch) or (
            consumer.received >= consumer.prefetch and self._budget.grows(consumer.prefetch)
        ):
            self._resize(taking, consumer)

    def _resize(self, taking: _Taking, consumer: _Consumer) -> None:
        if not consumer.resizing:
            consumer.resizing = True
            self._spawn(self._consume_resized(taking, consumer))

    async def _consume_resized(self, taking: _Taking, consumer: _Consumer) -> None:
        """Cancel ``consumer``, hand back what it refused, and consume again with the prefetch
        the budget has room for (``ByteBudget.prefetch``) once it has room.

        The intake queue has competing consumers and no order between engines: while this
        one takes nothing, the others take the events (and ``P.intake`` keeps them ready).
        Deliveries the cancelled consumer left in the inbox are acked on the same channel as
        usual: a cancel leaves them with it.
        """
        with contextlib.suppress(*BROKER_ERRORS, TransportUnavailable):  # a reconnect starts anew
            async with self._again.lock:
                if not self._current(taking):
                    return
                if taking.consumer is consumer:  # not replaced after the broker's cancel
                    await taking.channel.basic_cancel(consumer.tag)
                    taking.consumer = None
                # Its deliveries before the CancelOk have been seen: aiormq started their
                # callbacks before it, and they do not wait.
                await asyncio.sleep(0)
                handed_back = await self._hand_back(taking, consumer)
            await self._budget.room()
            async with self._again.lock:
                if not self._current(taking) or taking.consumer is not None:
                    return
                prefetch = self._budget.prefetch(after=consumer.prefetch)
                # As after the broker's cancel: the queue may have been deleted meanwhile.
                await self._topology.declare_intake(taking.channel)
                await self._consume(taking, prefetch)
            fields = {
                "prefetch": prefetch,
                "was": consumer.prefetch,
                "largest_body": self._budget.largest,
                "held_bytes": self._budget.held,
                "handed_back": handed_back,
            }
            if handed_back:  # what the broker pushed did not fit: worth an operator's look
                log.info("intake consumes fewer events at once: they are large", **fields)
            else:
                log.debug("intake consumer started again", **fields)

    async def _hand_back(self, taking: _Taking, consumer: _Consumer) -> int:
        """Hand back, in the order delivered, what the budget refused of ``consumer``, which
        is cancelled (none of it comes any more); how many."""
        refused, consumer.refused = consumer.refused, []
        taking.consumers.pop(consumer.tag, None)
        for tag in refused:
            with contextlib.suppress(*BROKER_ERRORS):
                await taking.acks.give_back(tag)
        return len(refused)

    def _disconnected(self) -> None:
        self._channel = self._taking_now = None
        self._again.cancelled = False  # a new channel consumes anew; "disconnected" says why
        while not self._inbox.empty():
            # Unacked: the broker gives them to a live consumer.
            self._budget.give(len(self._inbox.get_nowait().body))

    async def _run_all(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self._workers):
                group.create_task(self._run())

    async def _run(self) -> None:
        while True:
            async with self._taking:
                taken = await self._take()
            try:
                await self._run_batch(taken)
            finally:  # acked, given back, kept no more or dropped: no longer held
                self._budget.give(sum(len(r.body) for r in taken))

    async def _run_batch(self, taken: list[_Received]) -> None:
        """One batch taken from the inbox, handled in its turn."""
        batch = [r for r in taken if r.generation == self._link.generation]
        if not batch:
            return
        turn = self._intake.turn()  # no wait since the inbox: in the order taken from it
        self._in_work += 1
        self._all_done.clear()
        try:
            await self._handle(batch, turn)
        except asyncio.CancelledError:
            if not cancelled_elsewhere():
                raise  # the intake stops
            # The broker connection went under the batch (``cancelled_elsewhere``): as a
            # failed batch, its deliveries given back; the broker gives them again.
            log.warning("intake batch cut off by the broker connection; taking the next")
            for received in batch:
                await self._give_back(received)
        except Exception as exc:  # never let one batch stop the intake
            log.error("intake batch failed", error_type=type(exc).__name__)
            for received in batch:
                await self._give_back(received)
            await asyncio.sleep(PAUSE_AFTER_FAILURE)
        finally:
            turn.pass_on()  # done, failed or stopped: the batches after it go on
            self._in_work -= 1
            if not self._in_work:
                self._all_done.set()

    async def _take(self) -> list[_Received]:
        """The next batch: what the inbox holds, up to ``batch``. One that came small while
        another batch is in work gathers more until none is, for ``GATHER_S`` at most: it
        would commit after that one anyway (batches commit in turn). With none in work (a
        quiet engine, an event now and then) it does not wait. A stop meanwhile leaves its
        deliveries unacked: the broker gives them again."""
        batch = [await self._inbox.get()]
        self._drain(batch)
        if len(batch) < min(GATHER_BELOW, self._batch) and GATHER_S > 0 and self._in_work:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_done.wait(), GATHER_S)
            self._drain(batch)
        return batch

    def _drain(self, batch: list[_Received]) -> None:
        while len(batch) < self._batch and not self._inbox.empty():
            batch.append(self._inbox.get_nowait())

    async def _handle(self, batch: list[_Received], turn: Turn) -> None:
        """Submit ``batch`` in its turn, and ack it; tried again while the store is away.

        The first try passes the turn on as it commits and writes its messages; a try again
        holds it (``Turn.kept``) until its caller passes it. The duplicates among redelivered
        or retried events (a failed try, or an engine that died, committed them) have their
        still-queued messages published again in the batch's turn, before its new ones.
        """
        wait, retried = RETRY_FIRST_S, False
        while True:
            settled: dict[int, InvalidEvent] = {}
            try:
                results = await self._intake.submit_many(
                    [r.body for r in batch],
                    source=SOURCE,
                    caller=CALLER,
                    settled=settled,
                    turn=turn.kept() if retried else turn,
                    # Its first try may have committed it (here, or in an engine that died).
                    again=[i for i, r in enumerate(batch) if r.redelivered or retried],
                )
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Refused ones are kept as rejected input already, each in a commit of its
                # own: taken. Handed back or tried again, they were kept twice.
                await self._ack([batch[index] for index in sorted(settled)])
                rest = [received for index, received in enumerate(batch) if index not in settled]
                if not _transient(exc):
                    await self._split(rest, exc, turn.kept())
                    return
                batch = self._keep(rest, exc, wait)
                if not batch:
                    return
                await asyncio.sleep(wait)
                wait, retried = min(wait * 2, RETRY_MAX_S), True
        await self._ack(batch)  # committed (and published): whatever follows cannot lose them
        tell_ended(self._keeping, log, "intake batches commit again")
        rejected = sum(1 for r in results if isinstance(r, InvalidEvent))
        log.debug("intake batch done", size=len(batch), rejected=rejected, retried=retried)

    def _keep(self, rest: list[_Received], exc: Exception, wait: float) -> list[_Received]:
        """What of a batch the store or broker failed is to be tried again (in ``wait`` s).

        Never handed back: each hand-back counts against the intake queue's delivery limit,
        and an outage of 20 tries would move valid events to the dead-letter queue. Those of
        an older connection are left to the broker, which gives them again (``redelivered``).
        """
        kept = [received for received in rest if received.generation == self._link.generation]
        if not kept:
            return kept
        line = self._keeping.failed()
        if line is None:
            return kept
        error = {"error": str(exc)} if isinstance(exc, StoreError) else {}
        if line.full:
            log.warning(
                "intake batch failed; keeping it and trying again",
                error_type=type(exc).__name__,
                **error,
                size=len(kept),
                retry_in_s=wait,
            )
        else:
            log.warning(
                "intake batches still failing; kept and tried again",
                error_type=type(exc).__name__,
                **error,
                **still(line),
            )
        return kept

    async def _split(self, rest: list[_Received], exc: Exception, turn: Turn) -> None:
        """A batch failed, not for a store or broker away: find the message that fails, if it
        is a single one, trying each alone in the batch's turn."""
        if len(rest) > 1:
            log.warning(
                "intake batch failed; trying its events one at a time",
                error_type=type(exc).__name__,
                size=len(rest),
            )
            for one in rest:
                await self._handle([one], turn)
        elif rest:
            await self._failed_alone(rest[0], exc)

    async def _failed_alone(self, received: _Received, exc: Exception) -> None:
        if not received.redelivered:
            await self._give_back(received)
            await asyncio.sleep(PAUSE_AFTER_FAILURE)
            return
        try:  # failed twice on its own: a poison message; keep it and move on
            rejected_id = await self._store.reject_event(
                received.body,
                SOURCE,
                [{"path": "", "rule": "processing", "message": type(exc).__name__}],
                self._intake.rejected_keys(received.body),
                caller=CALLER,
            )
        except Exception as keeping:
            # Neither accepted nor kept: said, since the broker's delivery limit may move it
            # to the dead queue after a few more of these, where no engine reads it.
            log.error(
                "intake message given back to the broker: it could not be accepted or kept as "
                "rejected input",
                error_type=type(exc).__name__,
                keeping_failed=type(keeping).__name__,
            )
            await self._give_back(received)
            await asyncio.sleep(PAUSE_AFTER_FAILURE)
            return
        log.error(
            "intake message could not be processed; stored as rejected",
            rejected_id=rejected_id,
            error_type=type(exc).__name__,
        )
        await self._ack([received])

    async def _ack(self, batch: list[_Received]) -> None:
        """Acked as far as the batches before are done too (``acks.AckWindow``)."""
        generation = self._link.generation
        await ack_settled((r.acks, r.tag) for r in batch if r.generation == generation)

    async def _give_back(self, received: _Received) -> None:
        if received.generation != self._link.generation:
            return
        with contextlib.suppress(*BROKER_ERRORS):
            await received.acks.give_back(received.tag)


def _transient(exc: Exception) -> bool:
    """The store or the broker is away: the batch is fine, try it again later."""
    return isinstance(exc, (RetryableError, StoreUnavailable, *BROKER_ERRORS))
