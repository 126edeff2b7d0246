"""Group commit of delivery attempts.

Workers hand each attempt to the recorder and carry on; the recorder writes whatever has piled
up in one transaction. With ten destinations delivering at once that is one commit instead of ten,
which is what lets the embedded store keep up with the wire.

Crash safety: an attempt not yet committed when the process dies is simply sent again at
restart, with the same MSH-10, so the receiver can recognise it. ``drain`` is awaited by anyone
who needs to read back what was just delivered.

While the store does not take attempts (it is down, read-only, locked, or hangs), each delivered
message that is not recorded is one the next start sends again, and nothing but the receiver
knows of its first delivery. So delivery waits (``writable``) before it takes another message
once a write has failed, or has not ended within ``STALLED_AFTER_S``, until one succeeds: an
outage leaves what delivery sends in that half second, not every message the workers could send
meanwhile (a 30 s PostgreSQL outage left 11 delivered and unrecorded; a SQLite lock, whose
writes fail only after the 15 s busy timeout, 54 of 60; a PostgreSQL that answers nothing, whose
writes never fail, 256 in 20 s). The outage is told as the engine's other loops tell theirs
(``log_throttle``): its first failed write in full, then at most a line a minute, then one line
when a write works again; a line per try (every second, at ``error``) made 40 lines of two 10 s
PostgreSQL cuts across two engines. And a stop waits for the store a bounded time
(``close(within=)``), then names what it could not record (message ids only) instead of
waiting until the supervisor kills the process, which would lose the list too.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import replace
from datetime import datetime

from destinations.worker import AttemptResult
from integrator.errors import RetryableError
from integrator.log_throttle import Clock, LogThrottle, still
from integrator.logging import get_logger
from integrator.store import AttemptRecord, Store, StoreError
from shapes import Shape

log = get_logger("integrator.recorder")

BATCH_LIMIT = 500
RETRY_DELAY = 1.0
STALLED_AFTER_S = 0.5
"""A write of attempts not done by then closes delivery's gate as a failed one does. A commit
takes milliseconds; one that waits this long waits for a lock or a store that does not answer,
and may wait 15 s (SQLite's busy timeout) or for ever (PostgreSQL behind a partition)."""
CANCEL_GRACE_S = 1.0
"""How long a stop waits for the write it cancels to end (SQLite's writer finishes a
transaction it began; a hung PostgreSQL may never let it), before it goes on without it."""
Row = tuple[AttemptRecord, str, datetime | None, str | None]
"""An attempt as ``Store.record_attempts`` takes it: with its message's new status, next
attempt time and last error."""

NOT_KEPT = Shape(
    "delivery.not_kept",
    "not kept: the store refused this attempt's error text and ACK ({error_code})",
    error_code=r"[0-9A-Z_-]+",
)
LISTED_AT_MOST = 1000
"""How many unrecorded message ids a stop lists in its log line; the count is always whole."""


class AttemptRecorder:
    def __init__(
        self, store: Store, *, max_pending: int = 10_000, log_clock: Clock = time.monotonic
    ) -> None:
        self._store = store
        self._failing = LogThrottle(first=1, clock=log_clock)  # writes failing: lines told
        self._queue: asyncio.Queue[AttemptResult] = asyncio.Queue(maxsize=max_pending)
        self._task: asyncio.Task[None] | None = None
        # Attempts handed in and committed so far, in order: ``committed`` waits on these.
        self._handed_in = 0
        self._written = 0
        self._advanced = asyncio.Event()
        self._writable = asyncio.Event()  # cleared from a failed or stalled write until one ends
        self._writable.set()
        self._writing: list[AttemptResult] = []  # the batch being written, for ``close``

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="attempt-recorder")

    async def record(self, result: AttemptResult) -> None:
        await self._queue.put(result)  # bounded: a slow store slows the workers, loses nothing
        self._handed_in += 1

    async def committed(self) -> None:
        """Wait until every attempt handed in before this call is committed.

        Unlike ``drain`` it does not wait for attempts recorded later, so it returns under a
        steady stream too. The RabbitMQ transport acks deliveries only after this.
        """
        target = self._handed_in
        while self._written < target:
            await self._advanced.wait()

    def is_open(self) -> bool:
        """Whether the store takes attempts: no write failed since the last that succeeded, and
        none has waited past ``STALLED_AFTER_S`` (``delivery.RecordingGate``)."""
        return self._writable.is_set()

    async def writable(self) -> None:
        """Return at once while the store takes attempts; after a write failed or stalled, once
        one succeeds. Delivery awaits it before it takes the next message."""
        if not self._writable.is_set():
            await self._writable.wait()

    async def drain(self) -> None:
        await self._queue.join()

    async def close(self, *, within: float | None = None) -> list[str]:
        """Record what was handed in and stop; the ids of the messages whose attempts are not
        recorded because the store did not take them ``within`` seconds (none without a bound,
        which waits as long as it takes). Their messages go out again at the next start, under
        the same MSH-10; they are logged, by message id, at ``error``."""
        task = self._task
        if task is None:
            return []
        self._task = None
        try:
            await asyncio.wait_for(self.drain(), within)
            left: list[AttemptResult] = []
        except TimeoutError:
            left = [*self._writing]
            while not self._queue.empty():
                left.append(self._queue.get_nowait())
                self._queue.task_done()
        task.cancel()
        # Not awaited whole: a write the store never answers would hold the stop for ever.
        await asyncio.wait({task}, timeout=CANCEL_GRACE_S)
        if task.done():
            with suppress(asyncio.CancelledError):
                task.result()
        unrecorded = list(dict.fromkeys(r.message_id for r in left))
        if unrecorded:
            # "Not known to be": the batch under way when the stop gave up may still commit
            # (SQLite's writer ends a transaction it began), so it may be sent twice needlessly
            # but is never taken for recorded when it is not.
            log.error(
                "delivery attempts not recorded (or not known to be): the store did not take "
                "them before the stop; these messages will be sent again at the next start, "
                "under the same MSH-10",
                attempts=len(left),
                messages=len(unrecorded),
                message_ids=unrecorded[:LISTED_AT_MOST],
            )
        return unrecorded

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_LIMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._writing = batch
            await self._write(batch)
            self._writing = []
            self._written += len(batch)
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[AttemptResult]) -> None:
        rows: list[Row] = [
            (
                AttemptRecord(
                    message_id=r.message_id,
                    number=r.number,
                    started_at=r.started_at,
                    duration_ms=r.duration_ms,
                    outcome=r.outcome,
                    ack_code=r.ack_code,
                    ack_bytes=r.ack_bytes,
                    error=r.error,
                ),
                r.status,
                r.next_attempt_at,
                r.error,
            )
            for r in batch
        ]
        if await self._written_or_refused(rows) is None:
            return
        # The store refused the statement itself (a value a column does not take, say): tried
        # again it is refused again, and every destination's delivery waits behind it. So each
        # attempt is written alone, and one the store still refuses is written without what
        # came from the receiver, which is then the one part lost, and said.
        for row in rows:
            refused = await self._written_or_refused([row])
            if refused is None:
                continue
            attempt = row[0]
            bare = replace(attempt, ack_bytes=None, error=NOT_KEPT(error_code=refused.code or "-"))
            again = await self._written_or_refused([(bare, row[1], row[2], bare.error)])
            log.error(
                "an attempt's error text and ACK were not kept: the store refused them"
                if again is None
                else "an attempt was not recorded: the store refused it",
                message_id=attempt.message_id,
                attempt=attempt.number,
                outcome=attempt.outcome,
                error_code=refused.code,
            )

    async def _written_or_refused(self, rows: list[Row]) -> StoreError | None:
        """Write ``rows`` in one transaction, trying again while the store is away; None once
        written, or the store's refusal of the statement (not an outage), which no second try
        mends."""
        loop = asyncio.get_running_loop()
        again = False  # a try after a failed one, which may have committed all the same
        while True:
            stalled = loop.call_later(STALLED_AFTER_S, self._stalled)
            try:
                await self._store.record_attempts(rows, again=again)
                stalled.cancel()
                outage = self._failing.ended()
                if not self._writable.is_set():
                    log.info(
                        "recording attempts again",
                        attempts=len(rows),
                        **(
                            {}
                            if outage is None
                            else {
                                "failures": outage.failures,
                                "failed_for_s": round(outage.down_for),
                            }
                        ),
                    )
                    self._writable.set()
                return None
            except asyncio.CancelledError:
                stalled.cancel()
                raise
            except StoreError as exc:
                stalled.cancel()
                if not isinstance(exc, RetryableError):
                    # The store answers (it refused the statement): delivery need not wait for
                    # it, also when a slow write had closed the gate (``_stalled``).
                    self._failing.ended()
                    self._writable.set()
                    return exc
                self._failed(exc, rows)
            except Exception as exc:  # the store is down: keep the batch and try again
                stalled.cancel()
                self._failed(exc, rows)
            again = True
            await asyncio.sleep(RETRY_DELAY)

    def _failed(self, exc: Exception, rows: list[Row]) -> None:
        """A write failed and is tried again in a second: told in full the first time, then
        at most once a minute (with the tries since the line before) while it goes on."""
        self._writable.clear()  # and delivery takes no new message meanwhile
        line = self._failing.failed()
        if line is None:
            return
        fields = {
            "error_type": type(exc).__name__,
            # The store's errors name its code and cause, never a value.
            **({"error": str(exc)} if isinstance(exc, StoreError) else {}),
            "attempts": len(rows) + self._queue.qsize(),
        }
        if line.full:
            log.error("recording attempts failed; retrying; delivery waits", **fields)
        else:
            log.error(
                "recording attempts still failing; retrying; delivery waits",
                **fields,
                **still(line),
            )

    def _stalled(self) -> None:
        """The write under way has waited ``STALLED_AFTER_S``: delivery waits for it."""
        if self._writable.is_set():
            self._writable.clear()
            log.warning(
                "recording attempts is slow; delivery waits",
                after_s=STALLED_AFTER_S,
                attempts=len(self._writing) + self._queue.qsize(),
            )
