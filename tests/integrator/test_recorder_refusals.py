"""An attempt the store refuses to write (not an outage: the statement itself) holds up no
other: tried again it is refused again, and every destination's delivery waited behind it
for good. The batch is written an attempt at a time; one still refused is written without
what came from the receiver, and said."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.worker import AttemptResult
from integrator import recorder as recorder_module
from integrator.recorder import NOT_KEPT, AttemptRecorder, Row
from integrator.store import Store, StoreError, StoreUnavailable
from tests.store.factories import T0, StepClock, make_event, make_message

POISON = "the receiver's words the store will not take"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path}/store.db", clock=StepClock())
    yield opened
    await opened.close()


async def _messages(store: Store, count: int) -> list[str]:
    messages = [make_message() for _ in range(count)]
    await store.accept_event(make_event(), messages)
    return [m.id for m in messages]


def _result(message_id: str, error: str | None = None) -> AttemptResult:
    return AttemptResult(
        message_id=message_id,
        number=1,
        started_at=T0,
        duration_ms=3.0,
        outcome="retry" if error else "delivered",
        ack_code="AE" if error else "AA",
        ack_bytes=b"MSA|AE|x\r" if error else b"MSA|AA|x\r",
        error=error,
        status="retrying" if error else "delivered",
        next_attempt_at=T0 if error else None,
    )


def _refusing(
    store: Store, monkeypatch: pytest.MonkeyPatch, refuses: Any, outage_first: bool = False
) -> list[int]:
    """``store`` refuses (a plain ``StoreError``, as for a value a column does not take) every
    batch that holds a row ``refuses``; the sizes of the batches it was asked to write."""
    real = store.record_attempts
    asked: list[int] = []
    outage = [outage_first]

    async def record_attempts(rows: Sequence[Row], *, again: bool = False) -> None:
        asked.append(len(rows))
        await asyncio.sleep(0.01)  # a write takes a while: past a short STALLED_AFTER_S
        if outage[0]:
            outage[0] = False
            raise StoreUnavailable("record attempts failed (OperationalError, 08006)")
        if any(refuses(row) for row in rows):
            failure = StoreError("record attempts failed (DataError, 22021)")
            failure.code = "22021"
            raise failure
        await real(rows, again=again)

    monkeypatch.setattr(store, "record_attempts", record_attempts)
    return asked


async def _record(store: Store, results: list[AttemptResult]) -> bool:
    """Record ``results``; whether delivery's gate is open after (``AttemptRecorder.is_open``)."""
    recorder = AttemptRecorder(store)
    recorder.start()
    try:
        for result in results:
            await recorder.record(result)
        await asyncio.wait_for(recorder.drain(), 10)
        return recorder.is_open()
    finally:
        await recorder.close(within=1)


async def test_a_refused_attempt_is_kept_without_the_receivers_words_and_the_rest_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, poisoned, after = await _messages(store, 3)
    asked = _refusing(store, monkeypatch, lambda row: row[0].error == POISON)
    with capture_logs() as logs:
        await _record(store, [_result(before), _result(poisoned, POISON), _result(after)])

    assert asked == [3, 1, 1, 1, 1]  # the batch, each alone, the refused one without its words
    for message_id in (before, after):
        [attempt] = await store.list_attempts(message_id)
        assert (attempt.outcome, attempt.ack_bytes) == ("delivered", b"MSA|AA|x\r")
    [attempt] = await store.list_attempts(poisoned)
    said = NOT_KEPT(error_code="22021")
    assert (attempt.outcome, attempt.ack_code, attempt.ack_bytes, attempt.error) == (
        "retry",
        "AE",
        None,
        said,
    )
    message = await store.get_message(poisoned)
    assert message is not None
    assert (message.status, message.attempt_count, message.last_error) == ("retrying", 1, said)
    [line] = [e for e in logs if e["log_level"] == "error"]
    assert line["event"].startswith("an attempt's error text and ACK were not kept")
    assert (line["message_id"], line["attempt"], line["error_code"]) == (poisoned, 1, "22021")
    assert POISON not in str(logs)


async def test_an_attempt_refused_even_bare_is_said_and_the_others_are_recorded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned, other = await _messages(store, 2)
    _refusing(store, monkeypatch, lambda row: row[0].message_id == poisoned)
    with capture_logs() as logs:
        await _record(store, [_result(poisoned, POISON), _result(other)])
        # Alone, and after writes slow enough to close delivery's gate: it opens again (the
        # store answers), else delivery waited for a write that would never come.
        monkeypatch.setattr(recorder_module, "STALLED_AFTER_S", 0.001)
        assert await _record(store, [_result(poisoned, POISON)]) is True

    assert await store.list_attempts(poisoned) == []
    assert [a.outcome for a in await store.list_attempts(other)] == ["delivered"]
    line, again = [e for e in logs if e["log_level"] == "error"]
    assert line["event"] == again["event"] == "an attempt was not recorded: the store refused it"
    assert line["message_id"] == poisoned


async def test_an_outage_is_still_waited_out_with_the_batch_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await _messages(store, 2)
    asked = _refusing(store, monkeypatch, lambda row: False, outage_first=True)
    await _record(store, [_result(first, "ACK AE: busy"), _result(second)])

    assert asked == [2, 2]  # the same batch again, once the store was back
    [attempt] = await store.list_attempts(first)
    assert (attempt.error, attempt.ack_bytes) == ("ACK AE: busy", b"MSA|AE|x\r")
