"""The token bucket alone, on a fake clock."""

from __future__ import annotations

import pytest

from destinations.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_sends_are_spaced_one_over_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(10.0, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        await bucket.acquire()
    assert t.now == pytest.approx(0.4)  # first at once, then every 100 ms


async def test_quiet_time_refills_only_up_to_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(2.0, burst=3, clock=t.clock, sleep=t.sleep)
    t.now = 100.0
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    t.now += 0.5
    assert bucket.try_acquire() and not bucket.try_acquire()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1.0, burst=0.5)
