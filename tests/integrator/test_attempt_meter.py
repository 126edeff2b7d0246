"""The delivery metrics a destination's attempts feed (``integrator.attempt_meter``)."""

from __future__ import annotations

from datetime import UTC, datetime

from destinations.worker import AttemptResult, CountsLateAnswers, LateAnswer
from integrator.attempt_meter import AttemptMeter
from integrator.metrics import Metrics


class Kept:
    def __init__(self) -> None:
        self.results: list[AttemptResult] = []

    async def record(self, result: AttemptResult) -> None:
        self.results.append(result)


def test_answers_not_taken_for_coming_late_are_counted_per_destination_and_code() -> None:
    """An AR after the AA was said only in the log (at warning): the metric, and the alert
    IntegratorLateRejection on it, make it seen where operators look."""
    metrics = Metrics()
    kept: list[LateAnswer] = []
    meter = AttemptMeter(Kept(), metrics, "noord", keep_late=kept.append)
    assert isinstance(meter, CountsLateAnswers)  # the worker finds the counter by this
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    answers = [LateAnswer(code, "m1", at, "dropped") for code in ("AA", "AR", "AA")]
    for answer in answers:
        meter.late_answer(answer)
    assert kept == answers  # each kept with its message (integrator.late_answers)
    sample = metrics.registry.get_sample_value
    labels = {"destination": "noord"}
    assert sample("integrator_late_answers_total", {**labels, "code": "AA"}) == 2
    assert sample("integrator_late_answers_total", {**labels, "code": "AR"}) == 1
    assert sample("integrator_late_answers_total", {"destination": "west", "code": "AR"}) is None
