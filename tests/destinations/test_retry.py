"""``max_age`` counts only time in which the message could be tried (destinations.retry).

The worker runs on a clock the test moves (its waits move it too) against a sender that answers
as scripted, so days pass in no time and every attempt is seen.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from destinations.errors import ConnectionLost
from destinations.retry import (
    OUT_OF_TIME,
    OUT_OF_TIME_SINCE_RELEASE,
    OUT_OF_TIME_SINCE_RESUME,
    AgeStart,
    RetryPolicy,
    age_start,
)
from destinations.worker import AckPolicy, AttemptResult, DeliveryWorker, OutboundMessage
from integrator.ack_reason import short_reason
from integrator.clock import ManualClock
from tests.destinations.helpers import make_ack
from tests.destinations.test_worker import ListSink

CREATED = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # a Friday evening
DAY = timedelta(days=1)
POLICY = RetryPolicy(initial=60, multiplier=2, max_delay=3600, max_attempts=50, max_age=86_400)


def test_the_age_counts_from_the_latest_moment_the_message_became_deliverable() -> None:
    assert age_start(CREATED) == AgeStart(CREATED, "created")
    released, resumed = CREATED + 3 * DAY, CREATED + 4 * DAY
    assert age_start(CREATED, released_at=released) == AgeStart(released, "released")
    assert age_start(CREATED, resumed_at=resumed) == AgeStart(resumed, "resumed")
    both = age_start(CREATED, released_at=released, resumed_at=resumed)
    assert both == AgeStart(resumed, "resumed")
    # A resume before the message existed (or before its release) changes nothing.
    earlier = age_start(CREATED, released_at=released, resumed_at=CREATED - DAY)
    assert earlier == AgeStart(released, "released")
    assert age_start(CREATED, resumed_at=CREATED - DAY) == AgeStart(CREATED, "created")


def test_next_attempt_is_refused_only_past_max_age_from_where_it_counts() -> None:
    late = CREATED + 3 * DAY
    assert POLICY.next_attempt_at(1, since=CREATED, now=late) is None
    assert POLICY.next_attempt_at(1, since=late, now=late) is not None


def test_the_reason_names_where_max_age_counted_from() -> None:
    at = CREATED + 3 * DAY
    assert POLICY.exhausted_reason(4) == OUT_OF_TIME(attempts=4, max_age="86400")
    assert POLICY.exhausted_reason(4, AgeStart(CREATED)) == POLICY.exhausted_reason(4)
    released = POLICY.exhausted_reason(4, AgeStart(at, "released"))
    assert released == (
        "gave up after 4 attempts (max_age 86400s reached, counted from its release from held "
        "at 2026-11-30T17:00:00+00:00)"
    )
    assert OUT_OF_TIME_SINCE_RELEASE.read(released) is not None
    resumed = POLICY.exhausted_reason(4, AgeStart(at.astimezone(), "resumed"))
    assert resumed.endswith("counted from its destination's resume at 2026-11-30T17:00:00+00:00)")
    assert OUT_OF_TIME_SINCE_RESUME.read(resumed) is not None
    # Listings cut the receiver's words and keep why the engine gave up, for every form.
    said = f"ACK AE: Patient niet gevonden; {resumed}"
    assert short_reason(said) == f"ACK AE (receiver's text withheld); {resumed}"


class Scripted:
    """A sender that answers each exchange with the next of ``script``: an ACK code, or
    ``"down"`` for a connection that drops."""

    def __init__(self, control_id: str, script: list[str], clock: ManualClock) -> None:
        self._control_id = control_id
        self._script = list(script)
        self._clock = clock
        self.sent: list[tuple[datetime, bytes]] = []

    async def exchange(
        self, payload: bytes, more: Callable[[bytes], bool] | None = None
    ) -> list[bytes]:
        self.sent.append((self._clock.now(), payload))
        answer = self._script.pop(0) if self._script else "AA"
        if answer == "down":
            raise ConnectionLost("connection closed before the ACK arrived")
        return [make_ack(self._control_id, answer)]

    async def close(self) -> None:
        return None


def run(
    clock: ManualClock, sender: Scripted, *, resumed_at: datetime | None = None
) -> tuple[DeliveryWorker, ListSink]:
    async def sleep(result: AttemptResult, seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    sink = ListSink()
    worker = DeliveryWorker(
        "d",
        sender=sender,
        sink=sink,
        retry=POLICY,
        ack_policy=AckPolicy(),
        clock=clock.now,
        wait_for_retry=sleep,
        rng=random.Random(7),
        resumed_at=resumed_at,
    )
    return worker, sink


def message(*, released_at: datetime | None = None) -> OutboundMessage:
    return OutboundMessage(
        message_id="m-1",
        destination_id="d",
        control_id="C1",
        payload=b"MSH|^~\\&|INTEGRATOR||HIS||20261127170000+0100||REF^I12|C1|P|2.5.1\r",
        created_at=CREATED,
        released_at=released_at,
    )


async def test_a_message_released_after_days_held_is_retried_not_dead_at_its_first_failure() -> (
    None
):
    released = CREATED + 3 * DAY
    clock = ManualClock(released)
    sender = Scripted("C1", ["down", "AE", "down"], clock)
    worker, sink = run(clock, sender)

    assert await worker.deliver(message(released_at=released)) == "delivered"
    assert [r.outcome for r in sink.results] == ["failed", "retry", "failed", "delivered"]
    assert {payload for _, payload in sender.sent} == {message().payload}  # same MSH-10


async def test_queued_messages_get_a_fresh_day_when_their_paused_destination_resumes() -> None:
    resumed = CREATED + 3 * DAY  # paused over the weekend, resumed on Monday
    clock = ManualClock(resumed)
    sender = Scripted("C1", ["down"], clock)
    worker, sink = run(clock, sender, resumed_at=resumed)

    assert await worker.deliver(message()) == "delivered"
    assert [r.outcome for r in sink.results] == ["failed", "delivered"]


@pytest.mark.parametrize("resumed_at", [None, CREATED - DAY])
async def test_without_a_later_resume_or_release_the_creation_counts(
    resumed_at: datetime | None,
) -> None:
    """What the fix must not change: an old message failing once is dead, by its creation."""
    clock = ManualClock(CREATED + 3 * DAY)
    worker, sink = run(clock, Scripted("C1", ["down"], clock), resumed_at=resumed_at)

    assert await worker.deliver(message()) == "dead"
    [last] = sink.results
    assert last.outcome == "deadletter"
    assert last.error is not None
    assert last.error.endswith("gave up after 1 attempts (max_age 86400s reached)")


@pytest.mark.parametrize("source", ["released", "resumed"])
async def test_a_message_failing_for_longer_than_max_age_still_becomes_a_dead_letter(
    source: str,
) -> None:
    start = CREATED + 3 * DAY
    clock = ManualClock(start)
    sender = Scripted("C1", ["down"] * 100, clock)
    resumed_at = start if source == "resumed" else None
    worker, sink = run(clock, sender, resumed_at=resumed_at)
    released_at = start if source == "released" else None

    assert await worker.deliver(message(released_at=released_at)) == "dead"
    last = sink.results[-1]
    assert [r.outcome for r in sink.results[:-1]] == ["failed"] * (len(sink.results) - 1)
    assert last.outcome == "deadletter" and last.number == len(sink.results) < 50
    # Its day was spent trying: the last attempt is within max_age of where it counted from,
    # the next would not have been.
    assert start + timedelta(hours=22) < last.started_at <= start + DAY
    assert last.error is not None
    shape = OUT_OF_TIME_SINCE_RELEASE if source == "released" else OUT_OF_TIME_SINCE_RESUME
    why = last.error.split("; ", 1)[1]
    assert shape.read(why) == {
        "attempts": str(last.number),
        "max_age": "86400",
        "at": ("2026-11-30T17:00:00+00:00"),
    }
