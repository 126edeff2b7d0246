"""Retry policy: when to try a failed delivery again, and when to give up.

One small object per destination, knowing nothing of MLLP or HL7 (after dramatiq's retry
middleware): exponential backoff ``initial * multiplier**(n-1)`` capped at ``max_delay``, with
jitter so that many destinations recovering at once do not retry in lockstep, and two limits,
``max_attempts`` and ``max_age``. When either limit is reached the message becomes a dead letter
carrying the last reason.

``max_age`` is the time a message is given to get through while it *can* be tried. Time during
which it could not be tried does not count: a message held because its version passed its
sunset (docs/product.md §3), or waiting behind a paused destination (``enabled: false``), was
never attempted then, and a weekend's pause must not turn Monday's first network hiccup into a
dead letter for everything queued. So the age counts from the latest of three moments
(``age_start``): the message's creation, its release from held, and its destination's last
resume. Why "the latest of" rather than subtracting each paused stretch from the age: the
moments are few and cheap to keep (creation is stored; a release rides on the update that queues
the released message; a resume is one row per destination), nothing is written per delivery,
the dead letter's reason can name the one moment the age counted from, and all three are in the
store, so a restart changes nothing. The price is deliberate and small: retry time spent before
a pause is forgotten at the resume, which is what an operator who resumes a destination asks for
("try these again"); ``max_attempts`` still bounds every message, and a message that keeps
failing after the resume still becomes a dead letter ``max_age`` later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from shapes import NUMBER, SECONDS, Shape

# An instant as ``AgeStart.shown`` writes it: UTC, to the second.
INSTANT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00"

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
# The same, when the age did not count from the message's creation: the text says from when.
OUT_OF_TIME_SINCE_RELEASE = Shape(
    "delivery.out_of_time_since_release",
    "gave up after {attempts} attempts (max_age {max_age}s reached, counted from its release "
    "from held at {at})",
    attempts=NUMBER,
    max_age=SECONDS,
    at=INSTANT,
)
OUT_OF_TIME_SINCE_RESUME = Shape(
    "delivery.out_of_time_since_resume",
    "gave up after {attempts} attempts (max_age {max_age}s reached, counted from its "
    "destination's resume at {at})",
    attempts=NUMBER,
    max_age=SECONDS,
    at=INSTANT,
)

AgeFrom = Literal["created", "released", "resumed"]


@dataclass(frozen=True)
class AgeStart:
    """When a message's ``max_age`` starts counting, and which moment that is."""

    at: datetime
    source: AgeFrom = "created"

    @property
    def shown(self) -> str:
        return self.at.astimezone(UTC).isoformat(timespec="seconds")


def age_start(
    created_at: datetime,
    *,
    released_at: datetime | None = None,
    resumed_at: datetime | None = None,
) -> AgeStart:
    """The latest of the moments the message became deliverable (see the module's docstring).

    ``released_at``: when it was last released from held (None: never held); ``resumed_at``:
    when its destination was last resumed after a pause (None: never paused).
    """
    start = AgeStart(created_at, "created")
    if released_at is not None and released_at > start.at:
        start = AgeStart(released_at, "released")
    if resumed_at is not None and resumed_at > start.at:
        start = AgeStart(resumed_at, "resumed")
    return start


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
        since: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again, or ``None`` when the message must become a dead letter.

        ``since``: where ``max_age`` counts from (``age_start(...).at``).
        """
        if attempts_made >= self.max_attempts:
            return None
        when = now + timedelta(seconds=self.backoff(attempts_made, rng))
        if when - since > timedelta(seconds=self.max_age):
            return None
        return when

    def exhausted_reason(self, attempts_made: int, since: AgeStart | None = None) -> str:
        """Why the engine gave up; for ``max_age``, counted from when (``since``; None: the
        message's creation)."""
        if attempts_made >= self.max_attempts:
            return OUT_OF_ATTEMPTS(attempts=attempts_made, max_attempts=self.max_attempts)
        max_age = f"{self.max_age:g}"
        if since is None or since.source == "created":
            return OUT_OF_TIME(attempts=attempts_made, max_age=max_age)
        shape = OUT_OF_TIME_SINCE_RESUME
        if since.source == "released":
            shape = OUT_OF_TIME_SINCE_RELEASE
        return shape(attempts=attempts_made, max_age=max_age, at=since.shown)
