"""One destination's delivery loops: take the next message from the transport, deliver, settle.

The engine starts one ``DestinationRunner`` per enabled destination. The runner owns the
destination's MLLP clients (``connections`` of them, each with its own worker pulling from the
same destination queue), the shared rate limit, and the ordering:

- ``fifo``: the worker keeps trying a failing message (with backoff) before it takes the next,
  so a failing message holds the ones behind it.
- ``rotate``: one attempt per turn; a message that must be retried is settled and published
  again once its backoff has passed, so it goes to the back and the others continue. While it
  waits it exists only in the store (status ``retrying``) and, by its id, as an entry in this
  runner's schedule (``_Later``): one task per runner sleeps until the earliest entry is due and
  publishes what is, its messages read from the store then, a chunk per query. So a receiver
  that answers AE to everything for a day brings neither every payload into memory nor a task,
  its coroutines and a timer per waiting retry (4 KiB each in all: 100,000 took 390 MiB, now
  35 MiB; ``bench/bench_rotate_waiting.py``).

``rotate`` is for a failing *message*. A destination that cannot even be connected to (refused,
timed out, TLS handshake failed: ``ConnectFailed``; or TLS files that cannot be loaded) is down
as a whole: the worker whose connect failed keeps its message and tries it again at its
``next_attempt_at``, as fifo does, and no worker of the destination takes another message until
an attempt gets through the connect (``_probe``). Otherwise every queued message made its own
attempt and kept its own backoff: 300 messages queued during an outage made 900 attempts (and
rows, and log lines) in 10 s, where fifo made one per backoff. The messages that wait meanwhile
record no attempts; their ``max_age`` counts as it does under fifo.

A runner that stops (engine stop, destination changed or paused) hands the retries still
waiting in its schedule back to the transport at once, read from the store, each with
``not_before`` (its ``next_attempt_at``): another engine's runner, or this engine's at its next
start, receives it and keeps it back until then (a rotate runner in its schedule, a fifo one by
waiting), so a stop neither strands a retry nor sends it early. Only a crash loses the
schedule: those retries stay ``retrying`` in the store until the recovery leader re-publishes
the pending messages (at a leader's start or take-over; docs/amqp.md).

A fifo retry is not handed back that way: published again it would join the end of the queue,
behind the messages it holds. The stop leaves it unsettled, and the transport gives it back at
the head of the queue (``Transport.release``, or the next start); whoever receives it reads its
``next_attempt_at`` from the store and waits for it, still holding the messages behind it.

Every such wait, fifo or rotate, ends early when someone makes the message due ("try now",
``integrator.try_now``): the runner's ``RetryWaits`` asks the store while anything waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

import structlog

from destinations.client import MllpClient
from destinations.config import DestinationConfig
from destinations.errors import ConnectFailed, TlsSetupError
from destinations.ratelimit import TokenBucket
from destinations.retry import RetryPolicy
from destinations.tls import RenewedTlsContext
from destinations.worker import (
    AckPolicy,
    AttemptResult,
    AttemptSink,
    DeliveryWorker,
    FinalStatus,
    OutboundMessage,
    Sender,
)
from integrator.attempt_log import DestinationTrouble, LoggedAttempts
from integrator.clock import Clock
from integrator.deprecation import RetiredVersions
from integrator.eventloop import stop_task
from integrator.logging import get_logger
from integrator.retry_waits import DueRetries, RetryWaits
from integrator.tls_watch import TlsFileChecks
from integrator.transport import Delivery, Transport
from integrator.transport.committed import publish_committed
from integrator.transport.embedded import Loader
from integrator.transport.link import cancelled_elsewhere

log = get_logger("integrator.delivery")

#: Seconds before a message is tried again after an error that is no delivery outcome.
UNEXPECTED_FAILURE_PAUSE = 1.0

#: Seconds a graceful stop waits beyond an attempt's own timeouts for its recording.
STOP_MARGIN = 5.0

#: Seconds a stop waits for the store to read the retries it hands back (``_hand_back``);
#: past that they stay ``retrying`` in the store for recovery, and the stop goes on.
HAND_BACK_LOAD_S = 2.0

#: Seconds before a due retry is read from the store again when the store did not answer.
RELOAD_PAUSE = 1.0

#: Retries read from the store at once when a stop hands them back.
HAND_BACK_CHUNK = 500

#: Due rotate retries read from the store at once (one query), then published together.
DUE_CHUNK = 500


class _Stopping(BaseException):
    """Raised out of a backoff wait when the runner stops: the next attempt is not made.

    A BaseException, so the loop's guard against unexpected errors does not retry it.
    """


class _TakenBack(BaseException):
    """Raised before an attempt when the transport may have given the message to another
    engine meanwhile (``Delivery.confirm`` said so): it is not sent, nor settled, and the
    transport gives it again. A BaseException, as ``_Stopping``, so it ends the handling."""


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
        ssl_context=RenewedTlsContext(tls) if tls is not None else None,
        server_hostname=tls.server_name if tls is not None else None,
    )


ANSWERED_ON_SUCCESS = frozenset({"AL", "SU"})
"""MSH-16 values under which an application ACK follows a commit ACK (``MessageAnswers``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ExchangeBound:
    """How long one message's exchange with a destination may wait, by ``mllp_client``'s
    settings: ``connect`` for the connection (TCP and, with ``tls``, its handshake: both
    within one ``connect_timeout``), then ``ack`` for each of ``answers`` (two where MSH-16
    asks for an application ACK after the commit ACK). What a test message waits at most, so
    the page that sends one says the real bound, not the ACK timeout alone."""

    connect: float
    ack: float
    answers: int
    tls: bool

    @property
    def total(self) -> float:
        """In seconds, to the millisecond (as a duration is written)."""
        return round(self.connect + self.answers * self.ack, 3)


def exchange_bound(destination: DestinationConfig) -> ExchangeBound:
    """The ``ExchangeBound`` of one message sent to ``destination`` on a new connection."""
    two = (
        destination.ack_mode == "enhanced"
        and destination.msh_application_ack_type in ANSWERED_ON_SUCCESS
    )
    return ExchangeBound(
        connect=destination.connect_timeout,
        ack=destination.ack_timeout,
        answers=2 if two else 1,
        tls=destination.tls is not None,
    )


class _BrokenTls:
    """Stands in for the client when the TLS files cannot be loaded.

    Every attempt fails with the setup error (retryable, recorded), so the operator sees why in
    the attempt history and the messages wait until the destination is corrected.
    """

    def __init__(self, error: TlsSetupError) -> None:
        self._error = error

    async def exchange(
        self, payload: bytes, more: Callable[[bytes], bool] | None = None
    ) -> list[bytes]:
        raise TlsSetupError(str(self._error))

    async def close(self) -> None:
        return None


def sender_for(destination: DestinationConfig) -> Sender:
    try:
        return mllp_client(destination)
    except TlsSetupError as exc:
        # Which file, by its setting and path (the operator's configuration, not its content).
        found = TlsFileChecks().problem(destination.tls)
        named = {} if found is None else {"setting": found.setting, "file": str(found.file)}
        log.error("tls setup failed", destination=destination.id, error=str(exc), **named)
        return _BrokenTls(exc)


class _Reach:
    """A sender that remembers whether its last exchange could not even connect.

    The worker records the attempt's error as text only; the runner needs to know whether the
    destination was unreachable (``ConnectFailed``: refused, timed out, TLS handshake; or the
    TLS files cannot be loaded), which holds its whole queue under rotate too (``_probe``).
    """

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self.unreachable = False

    async def exchange(
        self, payload: bytes, more: Callable[[bytes], bool] | None = None
    ) -> list[bytes]:
        self.unreachable = False
        try:
            return await self._sender.exchange(payload, more)
        except (ConnectFailed, TlsSetupError):
            self.unreachable = True
            raise

    async def close(self) -> None:
        await self._sender.close()


def _said_by(sender: _Reach) -> Callable[[], bool]:
    """Whether ``sender``'s last exchange could not connect, asked after each attempt."""
    return lambda: sender.unreachable


@dataclasses.dataclass(frozen=True, slots=True)
class _Later:
    """A rotate retry waiting in the runner's schedule: its id, the attempts it has had and its
    time.

    Never its payload: the schedule reads the message from the store when it publishes it (a
    destination that answers AE to everything keeps every queued message here, and 400
    referrals with a 512 KiB attachment each held 240 MiB more than fifo did).
    """

    message_id: str
    attempts: int
    when: datetime

    def kept(self, loaded: OutboundMessage, not_before: datetime | None) -> OutboundMessage:
        """``loaded`` (the store's message) with the attempts made, where the store may lag
        behind the recorder, and ``not_before``."""
        attempts = max(loaded.attempt_count, self.attempts)
        return dataclasses.replace(loaded, attempt_count=attempts, not_before=not_before)


class _Entry:
    """A ``_Later`` in the runner's schedule: due at ``deadline`` (the event loop's time, so the
    wait is the one its backoff asked for, whatever the clock does meanwhile), or earlier once
    the store says it was made due (``made_due``, called by ``RetryWaits``)."""

    __slots__ = ("_runner", "deadline", "early", "later")

    def __init__(self, later: _Later, deadline: float, runner: DestinationRunner) -> None:
        self.later = later
        self.deadline = deadline
        self.early = False  # made due: taken out of the schedule's order, to publish now
        self._runner = runner

    def __lt__(self, other: _Entry) -> bool:
        return self.deadline < other.deadline

    def made_due(self) -> None:
        self._runner._made_due(self)


@dataclasses.dataclass(frozen=True)
class RetiredHold:
    """What delivery does with a message whose version was retired after it was mapped:
    ``versions`` tells it (``deprecation.RetiredVersions``); ``hold`` holds it in the store
    (False: it was taken care of meanwhile), and ``release`` then, once it is settled, maps it
    again wherever its destination now uses a version in service."""

    versions: RetiredVersions
    hold: Callable[[OutboundMessage, str], Awaitable[bool]]
    release: Callable[[str], Awaitable[object]]
    #: For a fifo destination: hold it and map it again at once, as the store then has it
    #: (None: it stays held). Sent there and then, at the head of the queue: released to its
    #: tail, a referral mapped before the sunset went out after the cancel made after it.
    remap: Callable[[OutboundMessage, str], Awaitable[OutboundMessage | None]] | None = None


class RecordingGate(Protocol):
    """Whether the store takes attempts now (``recorder.AttemptRecorder``): delivery takes no
    new message while it does not, so an outage of the store leaves few delivered messages
    unrecorded (each is sent again at the next start)."""

    def is_open(self) -> bool: ...

    async def writable(self) -> None: ...


class DestinationRunner:
    def __init__(
        self,
        destination: DestinationConfig,
        *,
        transport: Transport,
        sink: AttemptSink,
        clock: Clock,
        load: Loader,
        resumed_at: datetime | None = None,
        due: DueRetries | None = None,
        retired: RetiredHold | None = None,
        gate: RecordingGate | None = None,
    ) -> None:
        """``load``: the pending messages among some ids, as the store has them now (a rotate
        retry is read from there when it is published). ``resumed_at``: when the destination
        was last resumed after a pause, as the store keeps it (None: never); its messages'
        ``max_age`` counts from then at the earliest.
        ``due``: the store's due retries (``Store.due_retries``), so that a retry someone
        made due is attempted then; None: every retry waits out its time. ``retired``: a
        message taken in a version retired since it was mapped is handed there, not sent.
        ``gate``: a message is attempted only while it is open (``RecordingGate``)."""
        self.destination = destination
        self._gate = gate
        self._retired = retired
        self._waits = RetryWaits(destination.id, due) if due is not None else None
        self._transport = transport
        self._clock = clock
        self._load = load
        limiter = TokenBucket(destination.rate_limit) if destination.rate_limit else None
        self._senders = [_Reach(sender_for(destination)) for _ in range(destination.connections)]
        trouble = self._trouble = DestinationTrouble(destination.id, destination.ordering)
        self._workers = {
            DeliveryWorker(
                destination.id,
                sender=sender,
                sink=LoggedAttempts(sink, trouble, unreachable=_said_by(sender)),
                retry=retry_policy(destination),
                ack_policy=AckPolicy(
                    on_error=destination.retry.on_error, on_reject=destination.retry.on_reject
                ),
                clock=clock.now,
                wait_for_retry=self._retry_wait,
                limiter=limiter,
                resumed_at=resumed_at,
            ): sender
            for sender in self._senders
        }
        self._tasks: list[asyncio.Task[None]] = []
        # The rotate retries waiting (``_publish_later``), in the order they came: what a stop
        # hands back. An entry leaves it when its message has been read to be published, so one
        # that is publishing is not handed back twice. ``_schedule``: by deadline, the earliest
        # first (entries made due early stay there, ``early``, until they come up or
        # ``_stale`` says it is time to sweep them); ``_due_early``: those, in the order they
        # were made due. ``_scheduler``: the one task that publishes them when due, running
        # while any waits; ``_publishing``: its publish under way, which a stop lets finish.
        self._waiting: dict[_Entry, None] = {}
        self._waiting_ids: set[str] = set()  # the messages of ``_waiting``, each once
        self._schedule: list[_Entry] = []
        self._due_early: list[_Entry] = []
        self._stale = 0
        self._woken = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._publishing: asyncio.Task[None] | None = None
        # Cleared while a rotate destination cannot be connected to (``_probe``): its workers
        # take no message meanwhile. ``_sooner``: a retry was made due early meanwhile.
        self._reachable = asyncio.Event()
        self._reachable.set()
        self._sooner = asyncio.Event()
        self._stopping = asyncio.Event()
        # The loops between receive and settle, each with the delivery it holds.
        self._busy: dict[asyncio.Task[None], Delivery] = {}

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(worker), name=f"deliver:{self.destination.id}:{n}")
            for n, worker in enumerate(self._workers)
        ]

    def stop_attempting(self) -> None:
        """Take no new message and make no new attempt from now on; an attempt on the wire goes
        on (``stop`` waits for it). ``Engine.stop_attempting``, at the signal of a stop."""
        self._stopping.set()

    async def stop(self, *, graceful: bool = False, because: str = "the engine stops") -> None:
        """Stop between or during attempts; an unfinished attempt leaves the message queued.
        ``because`` says why in the log line of a graceful wait: a pause, an edit or a removal
        stops a destination's deliveries too, and a line that read as the engine stopping sent
        operators looking for a shutdown that never happened.

        ``graceful`` (SIGTERM): take no new message and make no new attempt, but let an attempt
        on the wire finish and hand its outcome to the recorder, so the ACK that comes back is
        kept instead of the message being sent again at the next start. The wait is bounded by
        the destination's own timeouts. A fifo message waiting out a backoff is left unsettled
        on the transport, which hands it to the next consumer at the head of the queue, where
        the store gives it its time; rotate retries waiting in this runner's schedule are handed
        back to the transport (``_hand_back``). Either way the message keeps its time: it is not
        attempted before its ``next_attempt_at``.
        """
        self._stopping.set()
        if graceful and self._busy:
            d = self.destination
            bound = d.connect_timeout + 2 * d.ack_timeout + STOP_MARGIN  # enhanced: two ACKs
            log.info(
                "deliveries stopping: letting the attempts on the wire finish",
                destination=d.id,
                because=because,
                in_hand=len(self._busy),  # on the wire, or waiting out a backoff (ends at once)
                at_most_s=bound,
            )
            await asyncio.wait(list(self._busy), timeout=bound)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        # The workers are done: no retry joins the schedule now. Its task stops where it is;
        # a publish under way finishes, so no retry is published twice nor not at all.
        await stop_task(self._scheduler)
        self._scheduler = None
        if self._publishing is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._publishing
            self._publishing = None
        waiting = [entry.later for entry in self._waiting]  # not published: handed back below
        if self._waits is not None:
            for entry in self._waiting:
                self._waits.let_go(entry.later.message_id, entry.made_due)
        self._waiting.clear()
        self._waiting_ids.clear()
        self._schedule.clear()
        self._due_early.clear()
        await self._hand_back(waiting)
        if self._waits is not None:
            await self._waits.close()
        for sender in self._senders:
            await sender.close()

    @property
    def retries_waiting(self) -> int:
        """How many of this runner's retries wait out their time now, able to be made due (a
        fifo worker's, the rotate schedule's)."""
        return self._waits.waiting if self._waits is not None else 0

    def retries_made_due(self) -> None:
        """Someone made retries of this destination due (in this engine): look now, rather
        than at the next of the store's polls."""
        if self._waits is not None:
            self._waits.nudge()

    async def _backoff(self, seconds: float) -> None:
        """The worker's wait before its next attempt, cut short by a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Stopping

    async def _retry_wait(self, result: AttemptResult, seconds: float) -> None:
        """A fifo worker's wait before its message's next attempt."""
        await self._wait_due(result.message_id, result.number, seconds, stoppable=True)
        task = asyncio.current_task()
        delivery = self._busy.get(task) if task is not None else None
        if delivery is not None:
            await self._still_ours(delivery)

    async def _still_ours(self, delivery: Delivery) -> None:
        """Before an attempt: raise ``_TakenBack`` when ``delivery`` is no longer this engine's
        to send. Asked of the transport only when it is in doubt (held long, or the engine
        stood still: ``integrator.transport.stalls``), so the common delivery pays a check of
        the clock. Otherwise an engine woken from a freeze sent what it held, though the broker
        had given it to another engine, which delivered it meanwhile (a chaos soak)."""
        if not delivery.in_doubt():
            return
        confirming = asyncio.ensure_future(delivery.confirm())
        await self._unless_stopped(confirming)
        if not confirming.result():
            raise _TakenBack

    async def _wait_due(
        self, message_id: str, attempts_made: int, seconds: float, *, stoppable: bool
    ) -> None:
        """Wait ``seconds``, or less when the message is made due. ``stoppable``: a stop ends
        the wait (raising ``_Stopping``: no attempt follows); otherwise the caller's wait is
        among others that a stop ends (``_probe_wait``)."""
        if self._waits is None:
            if stoppable:
                await self._backoff(seconds)
            else:
                await asyncio.sleep(seconds)
            return
        if not stoppable:
            await self._waits.wait(message_id, attempts_made, seconds)
            return
        await self._unless_stopped(self._waits.wait(message_id, attempts_made, seconds))

    async def _unless_stopped(self, *waits: Awaitable[object]) -> None:
        """Await the first of ``waits``; a stop ends them first, raising ``_Stopping`` (no
        attempt follows)."""
        tasks = [asyncio.ensure_future(w) for w in (*waits, self._stopping.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._stopping.is_set():
            raise _Stopping

    async def _until_reachable(self) -> None:
        """Once the destination could be connected to again (rotate, ``_probe``); a stop ends
        the wait (``_Stopping``). Called only while it is not (``_reachable`` clear): the
        check stays inline on the hot path, as the recording gate's does."""
        await self._unless_stopped(self._reachable.wait())

    async def _loop(self, worker: DeliveryWorker) -> None:
        structlog.contextvars.bind_contextvars(destination=self.destination.id)
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping.is_set():
            if not self._reachable.is_set():
                try:
                    await self._until_reachable()  # no message taken while it is down
                except _Stopping:
                    return
            try:
                delivery = await self._transport.receive(self.destination.id)
            except asyncio.CancelledError:
                if not cancelled_elsewhere():
                    raise
                # The broker connection went under the receive: take the next after it is back.
                log.warning("receiving cut off by the broker connection; receiving again")
                try:
                    await self._backoff(UNEXPECTED_FAILURE_PAUSE)
                except _Stopping:
                    return
                continue
            if self._stopping.is_set():
                return  # taken while stopping: left unsettled, so it stays queued
            self._busy[task] = delivery
            try:
                # The message's ids go into its few log lines by hand: binding them as context
                # for every message cost more than anything else the loop does besides the I/O.
                await self._handle_until_done(worker, delivery)
            except _Stopping:
                return
            except _TakenBack:
                pass  # let go unsent: the transport gives it again (to us, or another engine)
            finally:
                self._busy.pop(task, None)
                # Not kept while the loop waits for the next one: its payload is the store's.
                del delivery

    async def _handle_until_done(self, worker: DeliveryWorker, delivery: Delivery) -> None:
        """Handle ``delivery``, again and again after errors that are no delivery outcome.

        This loop is the destination's only one, so it must not die with a bug or a broken part:
        the message stays unsettled and is tried again (same MSH-10) after a pause.
        """
        while True:
            try:
                await self._handle(worker, delivery)
                return
            except asyncio.CancelledError:
                if not cancelled_elsewhere():
                    raise
                # A broker call of the settle cut off by the connection: the message stays
                # unsettled, and the broker gives it again after the reconnect (the store
                # decides then whether it is still owed): not this loop's end.
                log.warning("delivery cut off by the broker connection", **_ids(delivery.message))
                return
            except Exception as exc:
                log.error(
                    "delivery failed unexpectedly; trying the message again",
                    error_type=type(exc).__name__,
                    retry_in_s=UNEXPECTED_FAILURE_PAUSE,
                    **_ids(delivery.message),
                )
                await self._backoff(UNEXPECTED_FAILURE_PAUSE)

    async def _hand_back(self, waiting: list[_Later]) -> None:
        """Publish the retries a stop took from their timers, each keeping its ``not_before``.

        Otherwise they would wait, ``retrying`` in the store and nowhere on the transport, for
        a recovery leader's take-over. The broker away is no loss: the transport publishes
        them after its reconnect (``publish_committed``), and the store still lists them.
        They are read from the store a chunk at a time, and within ``HAND_BACK_LOAD_S`` in
        all: a store that does not answer leaves them there, for recovery, rather than hold
        the stop.
        """
        if not waiting:
            return
        deadline = asyncio.get_running_loop().time() + HAND_BACK_LOAD_S
        handed = 0
        try:
            for start in range(0, len(waiting), HAND_BACK_CHUNK):
                chunk = waiting[start : start + HAND_BACK_CHUNK]
                async with asyncio.timeout_at(deadline):
                    read = await self._read(chunk)
                retries = [later.kept(message, later.when) for later, message in read]
                await publish_committed(self._transport, retries, what="retry")
                handed += len(chunk)
        except Exception as exc:  # refused: they stay retrying in the store for recovery
            log.warning(
                "retries not handed back at stop; recovery re-publishes them",
                destination=self.destination.id,
                messages=len(waiting) - handed,
                error_type=type(exc).__name__,
            )
            return
        log.info(
            "stopping: waiting retries handed back to the queue",
            destination=self.destination.id,
            messages=len(waiting),
        )

    async def _read(self, waiting: Sequence[_Later]) -> list[tuple[_Later, OutboundMessage]]:
        """The retries among ``waiting`` that the store still lists as pending, each with its
        message as stored; one no longer pending (cancelled, discarded, removed) owes nothing."""
        stored = {m.message_id: m for m in await self._load([w.message_id for w in waiting])}
        return [(w, stored[w.message_id]) for w in waiting if w.message_id in stored]

    async def _until_recordable(self) -> None:
        """Return once the store takes attempts again; a stop ends the wait (``_Stopping``:
        the message stays queued, unsettled)."""
        gate = self._gate
        assert gate is not None
        log.warning(
            "delivery waits for the store to record attempts", destination=self.destination.id
        )
        await self._unless_stopped(gate.writable())

    async def _handle(self, worker: DeliveryWorker, delivery: Delivery) -> None:
        # Taken just as another worker found the destination down: it waits, unsettled.
        if not self._reachable.is_set():
            await self._until_reachable()
        if self._gate is not None and not self._gate.is_open():
            await self._until_recordable()
        message = delivery.message
        version = self._retired_version(message)
        if version is not None:  # mapped before its sunset: never sent in that format
            remapped = await self._remap_retired(delivery, message, version)
            if remapped is None:
                return
            message = remapped
        early = self._early(message)
        if early is not None:
            if self.destination.ordering == "fifo":
                # It holds the ones behind it, as its own backoff would have; a stop leaves it
                # unsettled, for the next consumer, with its time.
                await self._wait_due(
                    message.message_id, message.attempt_count, early, stoppable=True
                )
            else:
                # Waits in this runner's schedule, as after its own attempt here, and the
                # others continue. Once: a copy of a retry the schedule holds already (the
                # recovery leader re-published it while it waited here) is let go, as the
                # held one publishes the message, read from the store, at its time. Each had
                # an entry, each published a copy at the time, neither a copy the consumer
                # checks, and the receiver got the retry twice (a chaos soak, two engines).
                assert message.not_before is not None
                if message.message_id not in self._waiting_ids:
                    self._publish_later(
                        message.message_id, message.attempt_count, message.not_before
                    )
                await delivery.settle()
                return
        await self._still_ours(delivery)
        if self.destination.ordering == "fifo":
            # Retries that wait past a sunset stop there: the message is mapped again where
            # the destination can (held otherwise), and its retries go on at the head.
            status = await worker.deliver(message, self._still_current(message))
            while status == "retrying":
                version = self._retired_version(message)  # only its answer stops the retries
                assert version is not None
                remapped = await self._remap_retired(delivery, message, version)
                if remapped is None:
                    return
                message = remapped
                await self._still_ours(delivery)
                status = await worker.deliver(message, self._still_current(message))
        else:
            rotated = await self._rotate(worker, delivery)
            if rotated is None:
                return  # held: its version was retired while the destination was down
            status = rotated
        await delivery.settle()
        if status == "delivered":
            log.debug("message delivered", **_ids(message))
        # A dead letter and a retry: "message dead-lettered" and "delivery attempt failed"
        # (attempt_log) said why.

    async def _rotate(self, worker: DeliveryWorker, delivery: Delivery) -> FinalStatus | None:
        """One attempt; a retry waits in the schedule and goes to the back (``_publish_later``).

        Unless the destination could not be connected to and no other worker of it is trying
        it already: then this one keeps the message and tries it again at its time
        (``_probe``). None: it was held meanwhile (its version retired).
        """
        message = delivery.message
        result = await worker.attempt_and_record(message, message.attempt_count + 1)
        if result.status != "retrying":
            return result.status
        if self._workers[worker].unreachable and self._reachable.is_set():
            probed = await self._probe(worker, delivery, result)
            if probed is None:
                return None
            result = probed
            if result.status != "retrying":
                return result.status
        assert result.next_attempt_at is not None
        self._publish_later(message.message_id, result.number, result.next_attempt_at)
        return "retrying"

    async def _probe(
        self, worker: DeliveryWorker, delivery: Delivery, failed: AttemptResult
    ) -> AttemptResult | None:
        """The destination could not be connected to: it is down as a whole, not this message.

        Its workers take no message (``_until_reachable``) while this one waits for the failed
        message's next attempt (its retry policy's backoff, which grows with each failure) and
        tries it again, until an attempt gets through the connect or the message is done. So an
        outage costs one attempt per backoff, as under fifo, whatever the queue's length. A
        retry made due meanwhile ("try now") ends the wait. Returns the last attempt's result;
        None when the message was held instead (its version retired while it waited).
        """
        message = delivery.message
        self._reachable.clear()  # "destination unreachable" is said (attempt_log)
        result = failed
        try:
            while result.status == "retrying" and self._workers[worker].unreachable:
                await self._probe_wait(result)
                version = self._retired_version(message)
                if version is not None:
                    await self._hold_retired(delivery, version)
                    return None
                await self._still_ours(delivery)
                result = await worker.attempt_and_record(message, result.number + 1)
        finally:
            self._reachable.set()  # "destination reachable again" is said (attempt_log)
        if not self._workers[worker].unreachable:
            # The others waited for it: none of them is cut off any more.
            self._trouble.connected_again(result)
        return result

    async def _probe_wait(self, failed: AttemptResult) -> None:
        """Wait for the next attempt after ``failed``: its time, or a retry of the destination
        made due meanwhile (this one, or one waiting in the schedule); a stop ends it
        (``_Stopping``)."""
        assert failed.next_attempt_at is not None
        seconds = (failed.next_attempt_at - self._clock.now()).total_seconds()
        if seconds <= 0:
            return
        self._sooner.clear()
        due = self._wait_due(failed.message_id, failed.number, seconds, stoppable=False)
        await self._unless_stopped(due, self._sooner.wait())

    def _retired_version(self, message: OutboundMessage) -> str | None:
        """The retired version ``message`` was mapped in; None when it may be sent."""
        if self._retired is None:
            return None
        return self._retired.versions.of(message.payload, message.created_at)

    def _still_current(self, message: OutboundMessage) -> Callable[[], bool] | None:
        if self._retired is None:
            return None
        return lambda: self._retired_version(message) is None

    async def _remap_retired(
        self, delivery: Delivery, message: OutboundMessage, version: str
    ) -> OutboundMessage | None:
        """``message`` mapped again, to be sent now in its place (a fifo destination's head:
        the order is kept); None when it was held (settled: ``_hold_retired``), for the
        transport's release to send it once its destination can."""
        assert self._retired is not None
        if self.destination.ordering != "fifo" or self._retired.remap is None:
            await self._hold_retired(delivery, version)
            return None
        remapped = await self._retired.remap(message, version)
        if remapped is None:
            await delivery.settle()  # held: ``release_held`` sends it once the destination can
        return remapped

    async def _hold_retired(self, delivery: Delivery, version: str) -> None:
        """Hold the message, settle it, then have it mapped again if its destination can."""
        assert self._retired is not None
        message = delivery.message
        held = await self._retired.hold(message, version)
        await delivery.settle()  # first: the transport takes it back only once it is settled
        if held:
            await self._retired.release(message.destination_id)

    def _early(self, message: OutboundMessage) -> float | None:
        """Seconds until a handed-back retry may be attempted; None when it may be now."""
        if message.not_before is None:
            return None
        wait = (message.not_before - self._clock.now()).total_seconds()
        return wait if wait > 0 else None

    def _publish_later(self, message_id: str, attempts: int, when: datetime) -> None:
        """Publish the message at ``when`` (or once it is made due), read from the store then.

        An entry in the schedule, no task of its own: with a receiver answering AE to a queue of
        100,000 messages, each of them waits here.
        """
        seconds = (when - self._clock.now()).total_seconds()
        entry = _Entry(_Later(message_id, attempts, when), self._loop_time() + seconds, self)
        self._waiting[entry] = None
        self._waiting_ids.add(message_id)
        if seconds <= 0:
            entry.early = True  # due already: no wait, no hold (as a timer did not wait)
            self._due_early.append(entry)
            self._woken.set()
        else:
            if not self._schedule or entry < self._schedule[0]:
                self._woken.set()  # earlier than the scheduler sleeps for
            heapq.heappush(self._schedule, entry)
            if self._waits is not None:
                self._waits.hold(message_id, attempts, entry.made_due)
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = asyncio.create_task(
                self._publish_when_due(), name=f"retries:{self.destination.id}"
            )

    def _made_due(self, entry: _Entry) -> None:
        """The store says ``entry``'s message was made due ("try now"): publish it now."""
        if entry.early or entry not in self._waiting:
            return
        entry.early = True
        self._stale += 1
        self._due_early.append(entry)
        self._woken.set()
        if not self._reachable.is_set():
            self._sooner.set()  # "try now" while it is down: the destination is tried now

    async def _publish_when_due(self) -> None:
        """The scheduler: sleep until the earliest retry is due, or until woken (an earlier
        one, one made due), and publish what is due; done once nothing waits."""
        while self._waiting:
            due = self._take_due()
            if not due:
                self._woken.clear()
                seconds = self._schedule[0].deadline - self._loop_time()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):
                        await self._woken.wait()
                continue
            for start in range(0, len(due), DUE_CHUNK):
                chunk = [entry.later for entry in due[start : start + DUE_CHUNK]]
                read = await self._read_due(chunk)
                for entry in due[start : start + DUE_CHUNK]:
                    del self._waiting[entry]  # publishing now: a stop no longer hands it back
                    self._waiting_ids.discard(entry.later.message_id)
                # Published by the schedule it is due, whatever the receiving engine's clock says.
                retries = [later.kept(m, None) for later, m in read]
                self._publishing = asyncio.create_task(self._publish_due(retries))
                await asyncio.shield(self._publishing)
                self._publishing = None

    def _take_due(self) -> list[_Entry]:
        """Out of the schedule: the entries made due, then those whose time has come."""
        due, self._due_early = self._due_early, []
        now = self._loop_time()
        schedule = self._schedule
        while schedule and (schedule[0].early or schedule[0].deadline <= now):
            entry = heapq.heappop(schedule)
            if entry.early:
                self._stale -= 1  # made due before: taken already
                continue
            due.append(entry)
            if self._waits is not None:
                self._waits.let_go(entry.later.message_id, entry.made_due)
        if self._stale > len(schedule) // 2:  # mostly made due early ("try now" for many)
            self._schedule = [entry for entry in schedule if not entry.early]
            heapq.heapify(self._schedule)
            self._stale = 0
        return due

    async def _publish_due(self, retries: list[OutboundMessage]) -> None:
        """Publish the due ``retries``; a refusal leaves them ``retrying`` in the store, for
        recovery, rather than stop the schedule (a broker away: the transport keeps them)."""
        try:
            await publish_committed(self._transport, retries, what="retry")
        except Exception as exc:
            log.warning(
                "due retries not published; recovery re-publishes them",
                destination=self.destination.id,
                messages=len(retries),
                error_type=type(exc).__name__,
            )

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()

    async def _read_due(self, due: Sequence[_Later]) -> list[tuple[_Later, OutboundMessage]]:
        """``due``'s messages as the store has them (none for one that nothing is owed for any
        more), asked again while the store does not answer; a stop cancels this and hands them
        back."""
        while True:
            try:
                return await self._read(due)
            except Exception as exc:
                log.warning(
                    "could not read due retries from the store; trying again",
                    destination=self.destination.id,
                    messages=len(due),
                    error_type=type(exc).__name__,
                    retry_in_s=RELOAD_PAUSE,
                )
                await asyncio.sleep(RELOAD_PAUSE)


def _ids(message: OutboundMessage) -> dict[str, str]:
    return {"message_id": message.message_id, "control_id": message.control_id}
