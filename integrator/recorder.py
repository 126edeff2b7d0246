"""Group commit of delivery attempts.

Workers hand each attempt to the recorder and carry on; the recorder writes whatever has piled
up in one transaction. With ten destinations delivering at once that is one commit instead of ten,
which is what lets the embedded store keep up with the wire.

Crash safety: an attempt not yet committed when the process dies is simply sent again at
restart, with the same MSH-10, so the receiver can recognise it. ``drain`` is awaited at shutdown
and by anyone who needs to read back what was just delivered.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

from destinations.worker import AttemptResult
from integrator.logging import get_logger
from integrator.store import AttemptRecord, Store

log = get_logger("integrator.recorder")

BATCH_LIMIT = 500
RETRY_DELAY = 1.0


class AttemptRecorder:
    def __init__(self, store: Store, *, max_pending: int = 10_000) -> None:
        self._store = store
        self._queue: asyncio.Queue[AttemptResult] = asyncio.Queue(maxsize=max_pending)
        self._task: asyncio.Task[None] | None = None
        # Attempts handed in and committed so far, in order: ``committed`` waits on these.
        self._handed_in = 0
        self._written = 0
        self._advanced = asyncio.Event()

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

    async def drain(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        if self._task is None:
            return
        await self.drain()
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_LIMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            self._written += len(batch)
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[AttemptResult]) -> None:
        rows = [
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
        while True:
            try:
                await self._store.record_attempts(rows)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: keep the batch and try again
                log.error(
                    "recording attempts failed; retrying",
                    error_type=type(exc).__name__,
                    attempts=len(rows),
                )
                await asyncio.sleep(RETRY_DELAY)
