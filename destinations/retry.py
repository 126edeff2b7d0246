"""Retry policy: when to try a failed delivery again, and when to give up.

One small object per destination, knowing nothing of MLLP or HL7 (after dramatiq's retry
middleware): exponential backoff ``initial * multiplier**(n-1)`` capped at ``max_delay``, with
jitter so that many destinations recovering at once do not retry in lockstep, and two limits,
``max_attempts`` and ``max_age`` (measured from the message's creation). When either limit is
reached the message becomes a dead letter carrying the last reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shapes import NUMBER, SECONDS, Shape

# Why the engine gave up (``shapes``), after the last attempt's error (``worker.GAVE_UP``).
OUT_OF_ATTEMPTS = Shape(
    "delivery.out_of_attempts",
    "gave up after {attempts} attempts (max_attempts {max_attempts})",
    attempts=NUMBER,
    max_attempts=NUMBER,
)
OUT_OF_TIME = Shape(
    "delivery.out_of_time",
    "gave up after {attempts} attempts (max_age {max_age}s reached)",
    attempts=NUMBER,
    max_age=SECONDS,
)


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 2.0
    multiplier: float = 2.0
    max_delay: float = 600.0
    max_attempts: int = 20
    max_age: float = 86_400.0
    jitter: float = 0.2  # the delay is drawn from [base * (1 - jitter), base]

    def __post_init__(self) -> None:
        if self.initial < 0 or self.max_delay < 0 or self.max_age <= 0:
            raise ValueError("retry delays must not be negative and max_age must be positive")
        if self.multiplier < 1:
            raise ValueError("retry multiplier must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("retry max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("retry jitter must be between 0 and 1")

    def backoff(self, attempts_made: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts_made``-th failed attempt."""
        exponent = max(attempts_made - 1, 0)
        try:
            base = min(self.max_delay, self.initial * self.multiplier**exponent)
        except OverflowError:
            base = self.max_delay
        spread = base * self.jitter * (rng or random).random()
        return base - spread

    def next_attempt_at(
        self,
        attempts_made: int,
        *,
        created_at: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again, or ``None`` when the message must become a dead letter."""
        if attempts_made >= self.max_attempts:
            return None
        when = now + timedelta(seconds=self.backoff(attempts_made, rng))
        if when - created_at > timedelta(seconds=self.max_age):
            return None
        return when

    def exhausted_reason(self, attempts_made: int) -> str:
        if attempts_made >= self.max_attempts:
            return OUT_OF_ATTEMPTS(attempts=attempts_made, max_attempts=self.max_attempts)
        return OUT_OF_TIME(attempts=attempts_made, max_age=f"{self.max_age:g}")
