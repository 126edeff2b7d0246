"""What a destination's failed attempts say in the log (``integrator.attempt_log``).

A hospital that cannot be connected to is said at warning when it begins and when it ends,
under ``fifo`` too (there the only lines were one per attempt at info: an engine logging
warnings said nothing of a hospital down for hours); a run of failed attempts is told attempt
by attempt for its first ten, then in one line a minute (a receiver answering AE to everything
made one line per message per retry). A real engine and a port with nothing listening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from destinations.worker import AttemptResult, FinalStatus
from integrator.attempt_log import FIRST_TOLD, QUIET_ENDS_RUN_S, DestinationTrouble
from tests.delivery.support import DEST, messages, start_engine, submit
from tests.services import free_port
from tests.transport.helpers import eventually

RETRY = {"initial": "100ms", "multiplier": 2, "max_delay": "400ms", "max_attempts": 1000}


async def test_a_fifo_destination_down_is_said_once_when_it_begins_and_once_when_it_ends(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    port = free_port()
    with capture_logs() as logs:
        engine = await start_engine(tmp_path, port, retry=RETRY, ack_timeout="2s")
        try:
            ids = await submit(engine, referral_data, 3)

            async def tried_thrice() -> bool:
                return (await messages(engine, ids[:1]))[0].attempt_count >= 3

            assert await eventually(tried_thrice, timeout=30)
            async with MllpReceiver(port=port):  # the hospital is back
                assert await engine.wait_settled(timeout=30)
        finally:
            await engine.stop()
    assert {m.status for m in await messages_after(tmp_path, ids)} == {"delivered"}
    said = [e for e in logs if e["event"].startswith("destination ")]
    assert [(e["event"], e["log_level"]) for e in said] == [
        ("destination unreachable", "warning"),
        ("destination reachable again", "warning"),
    ]
    down, back = said
    assert down["destination"] == DEST and down["reason"].startswith("ConnectFailed: ")
    assert down["meanwhile"] == "the messages behind it wait for it"
    assert back["outcome"] == "delivered"


async def messages_after(tmp_path: Path, ids: list[str]) -> list[Any]:
    from integrator.store import Store
    from tests.integrator.support import settings_for

    async with await Store.open(settings_for(tmp_path).database_url) as store:
        return await store.get_messages(ids)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def attempt(number: int, status: FinalStatus) -> AttemptResult:
    started = datetime(2026, 12, 7, 3, 0, tzinfo=UTC) + timedelta(seconds=number)
    return AttemptResult(
        message_id=f"m-{number}",
        number=1,
        started_at=started,
        duration_ms=2.0,
        outcome="delivered" if status == "delivered" else "retry",
        ack_code="AA" if status == "delivered" else "AE",
        ack_bytes=None,
        error=None if status == "delivered" else "ACK AE: unknown patient",
        status=status,
        next_attempt_at=None if status == "delivered" else started + timedelta(seconds=2),
    )


def test_a_run_of_failures_is_told_in_full_ten_times_then_once_a_minute() -> None:
    clock = Clock()
    trouble = DestinationTrouble(DEST, "rotate", clock=clock)
    with capture_logs() as logs:
        for number in range(1, 101):  # 100 attempts answered AE in 50 s
            clock.now += 0.5
            trouble.attempted(attempt(number, "retrying"), unreachable=False)
        clock.now += 16  # a minute after the last attempt told in full (at 5 s)
        trouble.attempted(attempt(101, "retrying"), unreachable=False)
    assert [e["event"] for e in logs] == ["delivery attempt failed"] * FIRST_TOLD + [
        "delivery attempts keep failing"
    ]
    assert all(e["reason"] == "ACK AE (receiver's text withheld)" for e in logs)
    assert "unknown patient" not in str(logs)  # the receiver's words are never logged
    summary = logs[-1]
    assert summary["log_level"] == "warning"
    assert (summary["failures"], summary["failing_for_s"]) == (101 - FIRST_TOLD, 66)

    with capture_logs() as logs:
        trouble.attempted(attempt(102, "delivered"), unreachable=False)  # the run ends
        trouble.attempted(attempt(103, "retrying"), unreachable=False)
    # The run ends, said so as it was told in summaries; the next is told in full again.
    assert [e["event"] for e in logs] == ["destination delivers again", "delivery attempt failed"]


def test_a_failure_after_a_quiet_spell_begins_a_new_run() -> None:
    """Its messages dead-lettered and the queue empty, a run of failures ends without a
    delivery: a failure the next day is told in full, not as one more of a day-long run."""
    clock = Clock()
    trouble = DestinationTrouble(DEST, "fifo", clock=clock)
    for number in range(1, FIRST_TOLD + 2):
        clock.now += 1
        trouble.attempted(attempt(number, "dead"), unreachable=False)
    clock.now += QUIET_ENDS_RUN_S + 1
    with capture_logs() as logs:
        trouble.attempted(attempt(99, "retrying"), unreachable=False)
    # The run's last failure, not told yet, is counted as it ends; then the new run's first.
    assert [e["event"] for e in logs] == [
        "delivery attempts kept failing",
        "delivery attempt failed",
    ]
    assert logs[0]["failures"] == 1


def test_every_dead_letter_says_why_and_a_delivery_ends_a_long_run_saying_so() -> None:
    """Past the run's first ten, the attempt lines are held back, but a dead letter's is not:
    "message dead-lettered" said no reason ("why: the line before"), and that line was gone."""
    clock = Clock()
    trouble = DestinationTrouble(DEST, "rotate", clock=clock)
    for number in range(1, 31):
        clock.now += 1
        trouble.attempted(attempt(number, "retrying"), unreachable=False)
    with capture_logs() as logs:
        clock.now += 1
        trouble.attempted(attempt(31, "dead"), unreachable=False)
        clock.now += 1
        trouble.attempted(attempt(32, "delivered"), unreachable=False)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("message dead-lettered", "warning"),
        ("destination delivers again", "warning"),
    ]
    dead, back = logs
    assert (dead["message_id"], dead["reason"]) == ("m-31", "ACK AE (receiver's text withheld)")
    assert (back["failures"], back["failed_for_s"]) == (31, 31)


def test_one_connection_cut_off_while_another_connects_is_said_once() -> None:
    """A receiver taking one connection at a time: one connection delivers while the other
    cannot connect. The destination is reachable again once no connection is cut off, not at
    each pair of attempts."""
    trouble = DestinationTrouble(DEST, "rotate", clock=Clock())
    first, second = object(), object()
    with capture_logs() as logs:
        for number in range(1, 7, 2):
            trouble.attempted(attempt(number, "retrying"), unreachable=True, connection=first)
            trouble.attempted(
                attempt(number + 1, "delivered"), unreachable=False, connection=second
            )
        trouble.attempted(attempt(9, "delivered"), unreachable=False, connection=first)
    said = [e["event"] for e in logs if e["event"].startswith("destination ")]
    assert said == ["destination unreachable", "destination reachable again"]


def test_the_probe_connecting_ends_the_outage_for_the_connections_that_waited() -> None:
    """Under rotate, two connections cut off; one probes while the other waits and attempts
    nothing. When the probe connects, the outage is over: the waiting one's failure kept it
    said unreachable until it attempted again (on a quiet queue: never), and the next outage
    then went unsaid."""
    trouble = DestinationTrouble(DEST, "rotate", clock=Clock())
    probing, waiting = object(), object()
    with capture_logs() as logs:
        trouble.attempted(attempt(1, "retrying"), unreachable=True, connection=probing)
        trouble.attempted(attempt(2, "retrying"), unreachable=True, connection=waiting)
        connected = attempt(3, "delivered")
        trouble.attempted(connected, unreachable=False, connection=probing)
        trouble.connected_again(connected)
        trouble.attempted(attempt(4, "retrying"), unreachable=True, connection=probing)
    said = [e for e in logs if e["event"].startswith("destination ")]
    assert [e["event"] for e in said] == [
        "destination unreachable",
        "destination reachable again",
        "destination unreachable",  # the next outage is said
    ]
    assert said[1]["outcome"] == "delivered"
