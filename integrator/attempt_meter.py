"""Counts each delivery attempt and its ACK round trip on its way to the recorder, and the
answers not taken for having come late.

A wrapper around the recorder rather than code in the delivery worker: the worker stays free of
metrics, and the per-destination children are looked up once, so an attempt costs two
increments and no label lookups.
"""

from __future__ import annotations

from destinations.worker import AttemptResult, AttemptSink
from integrator.metrics import Metrics

_OUTCOMES = ("delivered", "retry", "deadletter", "failed")


class AttemptMeter:
    def __init__(self, sink: AttemptSink, metrics: Metrics, destination_id: str) -> None:
        self._sink = sink
        self._counts = {o: metrics.attempts.labels(destination_id, o) for o in _OUTCOMES}
        self._roundtrip = metrics.ack_roundtrip.labels(destination_id)
        self._late = metrics.late_answers
        self._destination_id = destination_id

    def late_answer(self, code: str) -> None:
        """One answer not taken for having come late (``destinations.worker``): counted by its
        MSA-1, one of the six codes (an unreadable answer is never counted as late)."""
        self._late.labels(self._destination_id, code).inc()

    async def record(self, result: AttemptResult) -> None:
        self._counts[result.outcome].inc()
        if result.ack_decided:
            self._roundtrip.observe(result.duration_ms / 1000.0)
        await self._sink.record(result)
