"""One destination's delivery loops: take the next message from the transport, deliver, settle.

The engine starts one ``DestinationRunner`` per enabled destination. The runner owns the
destination's MLLP clients (``connections`` of them, each with its own worker pulling from the
same destination queue), the shared rate limit, and the ordering:

- ``fifo``: the worker keeps trying a failing message (with backoff) before it takes the next,
  so a failing message holds the ones behind it.
- ``rotate``: one attempt per turn; a message that must be retried is settled and published
  again once its backoff has passed, so it goes to the back and the others continue. While it
  waits it exists only in the store (status ``retrying``) and in a timer of this runner.

A runner that stops (engine stop, destination changed or paused) hands the retries still
waiting in its timers back to the transport at once, each with ``not_before`` (its
``next_attempt_at``): another engine's runner, or this engine's at its next start, receives it
and keeps it back until then (a rotate runner in a timer of its own, a fifo one by waiting), so
a stop neither strands a retry nor sends it early. Only a crash loses the timers: those retries
stay ``retrying`` in the store until the recovery leader re-publishes the pending messages (at
a leader's start or take-over; docs/amqp.md).

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
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

import structlog

from destinations.client import MllpClient
from destinations.config import DestinationConfig
from destinations.errors import TlsSetupError
from destinations.ratelimit import TokenBucket
from destinations.retry import RetryPolicy
from destinations.tls import client_ssl_context
from destinations.worker import (
    AckPolicy,
    AttemptResult,
    AttemptSink,
    DeliveryWorker,
    OutboundMessage,
    Sender,
)
from integrator.attempt_log import LoggedAttempts
from integrator.clock import Clock
from integrator.deprecation import RetiredVersions
from integrator.logging import get_logger
from integrator.retry_waits import DueRetries, RetryWaits
from integrator.transport import Delivery, Transport
from integrator.transport.committed import publish_committed

log = get_logger("integrator.delivery")

#: Seconds before a message is tried again after an error that is no delivery outcome.
UNEXPECTED_FAILURE_PAUSE = 1.0

#: Seconds a graceful stop waits beyond an attempt's own timeouts for its recording.
STOP_MARGIN = 5.0


class _Stopping(BaseException):
    """Raised out of a backoff wait when the runner stops: the next attempt is not made.

    A BaseException, so the loop's guard against unexpected errors does not retry it.
    """


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
        log.error("tls setup failed", destination=destination.id, error=str(exc))
        return _BrokenTls(exc)


@dataclasses.dataclass(frozen=True)
class RetiredHold:
    """What delivery does with a message whose version was retired after it was mapped:
    ``versions`` tells it (``deprecation.RetiredVersions``); ``hold`` holds it in the store
    (False: it was taken care of meanwhile), and ``release`` then, once it is settled, maps it
    again wherever its destination now uses a version in service."""

    versions: RetiredVersions
    hold: Callable[[OutboundMessage, str], Awaitable[bool]]
    release: Callable[[str], Awaitable[object]]


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
        resumed_at: datetime | None = None,
        due: DueRetries | None = None,
        retired: RetiredHold | None = None,
        gate: RecordingGate | None = None,
    ) -> None:
        """``resumed_at``: when the destination was last resumed after a pause, as the store
        keeps it (None: never); its messages' ``max_age`` counts from then at the earliest.
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
        limiter = TokenBucket(destination.rate_limit) if destination.rate_limit else None
        self._senders = [sender_for(destination) for _ in range(destination.connections)]
        self._workers = [
            DeliveryWorker(
                destination.id,
                sender=sender,
                sink=LoggedAttempts(sink),
                retry=retry_policy(destination),
                ack_policy=AckPolicy(
                    on_error=destination.retry.on_error, on_reject=destination.retry.on_reject
                ),
                clock=clock.now,
                wait_for_retry=self._retry_wait,
                limiter=limiter,
                resumed_at=resumed_at,
            )
            for sender in self._senders
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        # Timers still waiting, with what they will publish: what a stop hands back. A timer
        # leaves it when its wait is over, so one that is publishing is not handed back twice.
        self._waiting: dict[asyncio.Task[None], OutboundMessage] = {}
        self._stopping = asyncio.Event()
        self._busy: set[asyncio.Task[None]] = set()  # loops between receive and settle

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(worker), name=f"deliver:{self.destination.id}:{n}")
            for n, worker in enumerate(self._workers)
        ]

    async def stop(self, *, graceful: bool = False) -> None:
        """Stop between or during attempts; an unfinished attempt leaves the message queued.

        ``graceful`` (SIGTERM): take no new message and make no new attempt, but let an attempt
        on the wire finish and hand its outcome to the recorder, so the ACK that comes back is
        kept instead of the message being sent again at the next start. The wait is bounded by
        the destination's own timeouts. A fifo message waiting out a backoff is left unsettled
        on the transport, which hands it to the next consumer at the head of the queue, where
        the store gives it its time; rotate retries waiting in this runner's timers are handed
        back to the transport (``_hand_back``). Either way the message keeps its time: it is not
        attempted before its ``next_attempt_at``.
        """
        self._stopping.set()
        if graceful and self._busy:
            d = self.destination
            bound = d.connect_timeout + 2 * d.ack_timeout + STOP_MARGIN  # enhanced: two ACKs
            log.info(
                "stopping: finishing the attempts on the wire",
                destination=d.id,
                attempts=len(self._busy),
                at_most_s=bound,
            )
            await asyncio.wait(list(self._busy), timeout=bound)
        waiting = dict(self._waiting)  # cancelled before their publish: handed back below
        tasks = [*self._tasks, *waiting]
        for task in tasks:
            task.cancel()
        # Those already publishing finish it, so none is published twice nor not at all.
        for task in [*tasks, *self._timers]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._timers.clear()
        self._waiting.clear()
        await self._hand_back(list(waiting.values()))
        if self._waits is not None:
            await self._waits.close()
        for sender in self._senders:
            await sender.close()

    @property
    def retries_waiting(self) -> int:
        """How many of this runner's retries wait out their time now, able to be made due (a
        fifo worker's, a rotate timer's)."""
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

    async def _wait_due(
        self, message_id: str, attempts_made: int, seconds: float, *, stoppable: bool
    ) -> None:
        """Wait ``seconds``, or less when the message is made due. ``stoppable``: a stop ends
        the wait (raising ``_Stopping``: no attempt follows); a rotate timer is not, as a stop
        cancels it and hands its message back."""
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

    async def _unless_stopped(self, wait: Awaitable[None]) -> None:
        """Await ``wait``; a stop ends it first, raising ``_Stopping`` (no attempt follows)."""
        waiting = asyncio.ensure_future(wait)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, stopping):
                task.cancel()
            await asyncio.gather(waiting, stopping, return_exceptions=True)
        if self._stopping.is_set():
            raise _Stopping

    async def _loop(self, worker: DeliveryWorker) -> None:
        structlog.contextvars.bind_contextvars(destination=self.destination.id)
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping.is_set():
            delivery = await self._transport.receive(self.destination.id)
            if self._stopping.is_set():
                return  # taken while stopping: left unsettled, so it stays queued
            self._busy.add(task)
            try:
                # The message's ids go into its few log lines by hand: binding them as context
                # for every message cost more than anything else the loop does besides the I/O.
                await self._handle_until_done(worker, delivery)
            except _Stopping:
                return
            finally:
                self._busy.discard(task)

    async def _handle_until_done(self, worker: DeliveryWorker, delivery: Delivery) -> None:
        """Handle ``delivery``, again and again after errors that are no delivery outcome.

        This loop is the destination's only one, so it must not die with a bug or a broken part:
        the message stays unsettled and is tried again (same MSH-10) after a pause.
        """
        while True:
            try:
                await self._handle(worker, delivery)
                return
            except Exception as exc:
                log.error(
                    "delivery failed unexpectedly; trying the message again",
                    error_type=type(exc).__name__,
                    retry_in_s=UNEXPECTED_FAILURE_PAUSE,
                    **_ids(delivery.message),
                )
                await self._backoff(UNEXPECTED_FAILURE_PAUSE)

    async def _hand_back(self, retries: list[OutboundMessage]) -> None:
        """Publish the retries a stop took from their timers, each keeping its ``not_before``.

        Otherwise they would wait, ``retrying`` in the store and nowhere on the transport, for
        a recovery leader's take-over. The broker away is no loss: the transport publishes
        them after its reconnect (``publish_committed``), and the store still lists them.
        """
        if not retries:
            return
        try:
            await publish_committed(self._transport, retries, what="retry")
        except Exception as exc:  # refused: they stay retrying in the store for recovery
            log.warning(
                "retries not handed back at stop; recovery re-publishes them",
                destination=self.destination.id,
                messages=len(retries),
                error_type=type(exc).__name__,
            )
            return
        log.info(
            "stopping: waiting retries handed back to the queue",
            destination=self.destination.id,
            messages=len(retries),
        )

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
        if self._gate is not None and not self._gate.is_open():
            await self._until_recordable()
        message = delivery.message
        if self._retired is not None:
            version = self._retired.versions.of(message.payload, message.created_at)
            if version is not None:  # mapped before its sunset: never sent in that format
                await self._hold_retired(delivery, version)
                return
        early = self._early(message)
        if early is not None:
            if self.destination.ordering == "fifo":
                # It holds the ones behind it, as its own backoff would have; a stop leaves it
                # unsettled, for the next consumer, with its time.
                await self._wait_due(
                    message.message_id, message.attempt_count, early, stoppable=True
                )
            else:
                # Waits in a timer of this runner, as after its own attempt here, and the
                # others continue.
                assert message.not_before is not None
                due = dataclasses.replace(message, not_before=None)
                self._publish_later(due, message.not_before)
                await delivery.settle()
                return
        if self.destination.ordering == "fifo":
            # Retries that wait past a sunset stop there: the message is held, not sent.
            status = await worker.deliver(message, self._still_current(message))
            if status == "retrying":
                assert self._retired is not None  # only its answer stops the retries
                version = self._retired.versions.of(message.payload, message.created_at)
                assert version is not None
                await self._hold_retired(delivery, version)
                return
        else:
            number = message.attempt_count + 1
            result = await worker.attempt_and_record(message, number)
            status = result.status
            if result.status == "retrying":
                assert result.next_attempt_at is not None
                later = dataclasses.replace(message, attempt_count=number)
                self._publish_later(later, result.next_attempt_at)
        await delivery.settle()
        if status == "delivered":
            log.debug("message delivered", **_ids(message))
        elif status == "dead":
            log.warning("message dead-lettered", **_ids(message))  # why: the line before
        # A retry: "delivery attempt failed" (attempt_log) said why and when.

    def _still_current(self, message: OutboundMessage) -> Callable[[], bool] | None:
        retired = self._retired
        if retired is None:
            return None
        return lambda: retired.versions.of(message.payload, message.created_at) is None

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

    def _publish_later(self, message: OutboundMessage, when: datetime) -> None:
        async def publish() -> None:
            wait = (when - self._clock.now()).total_seconds()
            if wait > 0:
                await self._wait_due(
                    message.message_id, message.attempt_count, wait, stoppable=False
                )
            del self._waiting[task]  # publishing now: a stop no longer hands it back
            await self._transport.publish([message])

        task = asyncio.create_task(publish(), name=f"retry:{message.message_id}")
        self._timers.add(task)
        # What a stop would hand back: with its time, so that it does not go out early. Only
        # then: published by its own timer it is due, whatever the receiving engine's clock says.
        self._waiting[task] = dataclasses.replace(message, not_before=when)
        task.add_done_callback(self._timers.discard)
        task.add_done_callback(lambda t: self._waiting.pop(t, None))


def _ids(message: OutboundMessage) -> dict[str, str]:
    return {"message_id": message.message_id, "control_id": message.control_id}
