"""Counts each delivery attempt and its ACK round trip on its way to the recorder, and the
answers not taken for having come late.

A wrapper around the recorder rather than code in the delivery worker: the worker stays free of
metrics, and the per-destination children are looked up once, so an attempt costs two
increments and no label lookups.
"""

from __future__ import annotations

from collections.abc import Callable

from destinations.worker import AttemptResult, AttemptSink, LateAnswer
from integrator.metrics import Metrics

_OUTCOMES = ("delivered", "retry", "deadletter", "failed")


class AttemptMeter:
    def __init__(
        self,
        sink: AttemptSink,
        metrics: Metrics,
        destination_id: str,
        keep_late: Callable[[LateAnswer], None] | None = None,
    ) -> None:
        """``keep_late``: where a late answer goes to be kept with its message
        (``integrator.late_answers``)."""
        self._sink = sink
        self._keep_late = keep_late
        self._counts = {o: metrics.attempts.labels(destination_id, o) for o in _OUTCOMES}
        self._roundtrip = metrics.ack_roundtrip.labels(destination_id)
        self._late = metrics.late_answers
        self._destination_id = destination_id

    def late_answer(self, answer: LateAnswer) -> None:
        """One answer not taken for having come late (``destinations.worker``): counted by its
        MSA-1, one of the six codes (an unreadable answer is never counted as late), and
        kept with its message."""
        self._late.labels(self._destination_id, answer.code).inc()
        if self._keep_late is not None:
            self._keep_late(answer)

    async def record(self, result: AttemptResult) -> None:
        self._counts[result.outcome].inc()
        if result.ack_decided:
            self._roundtrip.observe(result.duration_ms / 1000.0)
        await self._sink.record(result)
