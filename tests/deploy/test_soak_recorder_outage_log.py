"""A store outage under delivery is told in the log once, then once a minute, not at every try.

Found by a chaos soak of two engines on RabbitMQ and PostgreSQL: each cut of the engines'
connections to PostgreSQL made every engine's attempt recorder log `recording attempts failed;
retrying; delivery waits` at `error` at each try, one a second (40 lines for two cuts of some
10 s; an hour's outage would be 3,600 a process), where docs/deploy.md (*The log during an
outage*) promises that the engine's loops tell an outage by its first failure, then at most a
line a minute, then one line when it ends. Here the store is a real PostgreSQL behind a proxy
that is cut; the log's clock is the test's, so a minute passes without waiting one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.worker import AttemptResult
from integrator import recorder as recorder_module
from integrator import retry_waits as retry_waits_module
from integrator.recorder import AttemptRecorder
from integrator.retry_waits import RetryWaits
from integrator.store import Store
from tests.deploy.proxy import CuttableProxy
from tests.services import POSTGRES_HOST, POSTGRES_PORT
from tests.store.factories import T0, make_event, make_message

pytestmark = [pytest.mark.postgres]


class CountingClock:
    """The log's clock: stands still until moved, and counts how often it was read (the
    throttle reads it once per failed write, so the count says how many tries were made)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


@pytest.fixture
async def proxy() -> AsyncIterator[CuttableProxy]:
    cuttable = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
    await cuttable.start()
    yield cuttable
    await cuttable.close()


def _lines(logs: Sequence[Mapping[str, Any]], words: str) -> int:
    return sum(words in e["event"] for e in logs)


async def _until(condition: object, what: str) -> None:
    for _ in range(2000):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what}: not within 20 s")


async def test_a_store_outage_while_recording_attempts_is_told_once_a_minute_and_its_end_once(
    pg_database: str, proxy: CuttableProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "RETRY_DELAY", 0.01)  # many tries within the minute
    store = await Store.open(f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{pg_database}")
    clock = CountingClock()
    recorder = AttemptRecorder(store, log_clock=clock)
    try:
        message = make_message()
        await store.accept_event(make_event(), [message])
        recorder.start()
        with capture_logs() as logs:
            await proxy.cut()
            await recorder.record(
                AttemptResult(
                    message_id=message.id,
                    number=1,
                    started_at=T0,
                    duration_ms=3.0,
                    outcome="delivered",
                    ack_code="AA",
                    ack_bytes=b"MSA|AA|x\r",
                    error=None,
                    status="delivered",
                    next_attempt_at=None,
                )
            )
            # 30 tries, seen by the log's clock (or, untold, by 30 lines)
            await _until(
                lambda: clock.reads >= 30 or _lines(logs, "recording attempts") >= 30,
                "30 failed writes",
            )
            tries_in_first_minute = clock.reads
            told = [e for e in logs if e["event"].startswith("recording attempts")]
            # The first failure, in full with its cause; the twenty-nine after it untold.
            [first] = told
            assert first["event"] == "recording attempts failed; retrying; delivery waits"
            assert first["log_level"] == "error"
            assert first["error_type"] == "StoreUnavailable"
            assert "failures" not in first
            assert not recorder.is_open()  # delivery waits all the same

            clock.now += 61  # a minute on: the next try is told, with the tries since the first
            await _until(
                lambda: any(e["event"].startswith("recording attempts still") for e in logs),
                "the minute's line",
            )
            [again] = [e for e in logs if e["event"].startswith("recording attempts still")]
            assert again["event"] == ("recording attempts still failing; retrying; delivery waits")
            assert again["failing_for_s"] == 61
            assert again["failures"] >= tries_in_first_minute

            await proxy.restore()
            await asyncio.wait_for(recorder.drain(), 20)
            [back] = [e for e in logs if e["event"] == "recording attempts again"]
            assert back["log_level"] == "info"
            assert back["failed_for_s"] == 61
            assert back["failures"] > again["failures"]
            assert recorder.is_open()
            # Three lines for the whole outage, however many tries it took.
            assert [e["event"] for e in logs if e["event"].startswith("recording attempts")] == [
                first["event"],
                again["event"],
                back["event"],
            ]
        [attempt] = await store.list_attempts(message.id)
        assert attempt.outcome == "delivered"  # nothing lost by telling less
    finally:
        await recorder.close(within=5)
        await store.close()


async def test_a_store_outage_while_retries_wait_is_told_once_a_minute_per_destination(
    pg_database: str, proxy: CuttableProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same soak: each destination with waiting retries asked the store every 5 s which
    were made due early, and logged `could not ask the store which retries are due` at every
    ask while it was away."""
    monkeypatch.setattr(retry_waits_module, "POLL_SECONDS", 0.01)  # many asks within the minute
    store = await Store.open(f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{pg_database}")
    clock = CountingClock()

    async def due(destination_id: str) -> dict[str, int]:  # as the engine asks (``Engine``)
        return await store.due_retries(destination_id, now=datetime.now(UTC))

    waits = RetryWaits("ziekenhuis-noord", due, log_clock=clock)
    try:
        with capture_logs() as logs:
            await proxy.cut()
            waits.hold("a-message", 1, lambda: None)  # a rotate retry waiting out its time
            await _until(
                lambda: clock.reads >= 30 or _lines(logs, "retries are due") >= 30,
                "30 failed asks",
            )
            asks_in_first_minute = clock.reads
            [first] = [e for e in logs if "retries are due" in e["event"]]
            assert first["event"] == "could not ask the store which retries are due; asking again"
            assert (first["log_level"], first["destination"]) == ("warning", "ziekenhuis-noord")

            clock.now += 61
            await _until(lambda: any(e["event"].startswith("still") for e in logs), "a minute")
            [again] = [e for e in logs if e["event"].startswith("still")]
            assert again["event"] == (
                "still cannot ask the store which retries are due; asking again"
            )
            assert again["destination"] == "ziekenhuis-noord"
            assert (again["failing_for_s"], again["failures"] >= asks_in_first_minute) == (61, True)

            await proxy.restore()
            await _until(lambda: any(e["event"].startswith("can ask") for e in logs), "the end")
            [back] = [e for e in logs if e["event"].startswith("can ask")]
            assert back["event"] == "can ask the store which retries are due again"
            assert (back["log_level"], back["destination"], back["failed_for_s"]) == (
                "info",
                "ziekenhuis-noord",
                61,
            )
            assert back["failures"] > again["failures"]
            assert waits.waiting == 1  # the retry still waits for its own time
            assert [e["event"] for e in logs if "retries are due" in e["event"]] == [
                first["event"],
                again["event"],
                back["event"],
            ]
    finally:
        await waits.close()
        await store.close()
