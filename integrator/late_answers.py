"""Late answers kept with the messages they answer, off the delivery path.

A receiver that answers a message twice (an ``AR`` after the ``AA`` that delivered it) is met by
the delivery worker (``destinations.worker.LateAnswer``): the first answer stands, the second is
logged and counted. Support looking at the delivered message must see a negative one too, so
each ``AE``, ``AR``, ``CE`` or ``CR`` whose message the worker knows is written to the store
(``Store.record_late_answer``) in a task of its own, never awaited by delivery, so a slow or
absent store holds no message. A late ``AA`` or ``CA`` is not kept: a receiver that answers
``CA`` and then ``AA`` (receivers.md calls it routine) sends one for every message, which would
be a write per message and a line on every message's page saying nothing. One that the store
does not take is said in the log (message id and code; the worker's line says the rest) and
is not tried again: the warning, the metric and the alert stand for it. A stop waits for those
under way a bounded time, beside the attempts' (``Engine.stop``); after it, none is taken.
"""

from __future__ import annotations

import asyncio

from destinations.worker import NEGATIVE_ANSWERS, LateAnswer
from integrator.logging import get_logger
from integrator.store import Store, StoreError
from integrator.store.late_answers import LateAnswerRecord

log = get_logger("integrator.late_answers")


class LateAnswerKeeper:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._writing: set[asyncio.Task[None]] = set()
        self._closed = False

    def keep(self, answer: LateAnswer) -> None:
        """Write ``answer`` with its message: a negative one whose message the worker knew."""
        if self._closed or answer.message_id is None or answer.code not in NEGATIVE_ANSWERS:
            return
        task = asyncio.create_task(self._write(answer.message_id, answer), name="late answer")
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def close(self, *, within: float) -> None:
        """Let the writes under way end for ``within`` seconds, then cancel what is left;
        take none after this."""
        self._closed = True
        if not self._writing:
            return
        _, left = await asyncio.wait(set(self._writing), timeout=within)
        for task in left:
            task.cancel()

    async def _write(self, message_id: str, answer: LateAnswer) -> None:
        record = LateAnswerRecord(answer.received_at, answer.code, answer.how)
        try:
            await self._store.record_late_answer(message_id, record)
        except StoreError as exc:
            log.warning(
                "late answer not kept with its message",
                message_id=message_id,
                ack_code=answer.code,
                error_type=type(exc).__name__,
                error_code=exc.code,
            )
