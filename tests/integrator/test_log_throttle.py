"""The rule of ``LogThrottle``: an outage's first failures told each, then one line a minute
with the count since the line before, and its counts when it ends. The engine's uses, on a real
broker and a real store going away: tests/transport/test_broker_away_log_lines.py and
tests/http/test_store_outage_log_lines.py."""

from __future__ import annotations

import pytest

from integrator.log_throttle import Line, LogThrottle, Outage


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_failures_each_then_one_a_minute_counting_the_rest() -> None:
    clock = Seconds()
    throttle = LogThrottle(first=2, clock=clock)
    assert not throttle.failing
    assert throttle.failed() == Line(full=True, failures=1, since_last=1, down_for=0.0)
    clock.now = 5
    assert throttle.failed() == Line(full=True, failures=2, since_last=1, down_for=5.0)
    said = []
    for _ in range(12):  # one every 5 s up to a minute after the last line
        clock.now += 5
        said.append(throttle.failed())
    assert said[:-1] == [None] * 11
    assert said[-1] == Line(full=False, failures=14, since_last=12, down_for=65.0)
    clock.now += 59
    assert throttle.failed() is None
    clock.now += 1
    assert throttle.failed() == Line(full=False, failures=16, since_last=2, down_for=125.0)
    assert throttle.failing

    clock.now += 10
    assert throttle.ended() == Outage(failures=16, down_for=135.0)
    assert not throttle.failing and throttle.ended() is None
    clock.now += 1000  # the next outage starts afresh
    assert throttle.failed() == Line(full=True, failures=1, since_last=1, down_for=0.0)


def test_an_outage_is_always_told_at_its_first_failure() -> None:
    with pytest.raises(ValueError, match="first must be 1 or more"):
        LogThrottle(first=0)


def test_the_count_not_told_yet_is_told_when_asked() -> None:
    """A burst that stops has no next failure to carry its count: its owner asks on a timer."""
    clock = Seconds()
    throttle = LogThrottle(first=1, clock=clock)
    assert throttle.unsaid() is None  # no outage
    assert throttle.failed() == Line(full=True, failures=1, since_last=1, down_for=0.0)
    assert throttle.unsaid() is None  # every failure told
    clock.now = 2
    assert throttle.failed() is None and throttle.failed() is None
    clock.now = 60
    assert throttle.unsaid() == Line(full=False, failures=3, since_last=2, down_for=60.0)
    assert throttle.unsaid() is None
    clock.now = 100
    assert throttle.failed() is None  # a minute from the line told when asked
    clock.now = 120
    assert throttle.failed() == Line(full=False, failures=5, since_last=2, down_for=120.0)
