"""The attempt recorder gathers: an attempt that comes alone waits a moment for others to be
written with it; attempts that piled up are written at once (``recorder.GATHER_S``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from integrator import recorder as recorder_module
from integrator.recorder import AttemptRecorder
from integrator.store import Store
from tests.transport.conftest import open_harness
from tests.transport.test_ack_barrier import delivered


def spy_on_writes(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The message ids of each ``record_attempts`` call, in order (the real store writes)."""
    writes: list[list[str]] = []
    real = store.record_attempts

    async def record_attempts(batch: Sequence[Any]) -> None:
        writes.append([attempt.message_id for attempt, *_ in batch])
        await real(batch)

    monkeypatch.setattr(store, "record_attempts", record_attempts)
    return writes


async def test_an_attempt_that_comes_alone_is_written_with_those_just_behind_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long, so that the second attempt comes within it on any machine: what is tested is
    # that the recorder waits, not how long.
    monkeypatch.setattr(recorder_module, "GATHER_S", 0.5)
    async with open_harness("embedded", tmp_path) as h:
        first, second = await h.messages("dest-a", 2)
        writes = spy_on_writes(h.store, monkeypatch)
        recorder = AttemptRecorder(h.store)
        recorder.start()
        await recorder.record(delivered(first.message_id))
        for _ in range(5):
            await asyncio.sleep(0)  # the recorder has taken it, alone, and waits
        assert writes == []
        await recorder.record(delivered(second.message_id))
        await recorder.close()
        assert writes == [[first.message_id, second.message_id]]
        for message in (first, second):
            stored = await h.store.get_message(message.message_id)
            assert stored is not None and stored.status == "delivered"


async def test_attempts_that_piled_up_are_written_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "GATHER_S", 600.0)  # a wait would time out below
    async with open_harness("embedded", tmp_path) as h:
        messages = await h.messages("dest-a", 3)
        writes = spy_on_writes(h.store, monkeypatch)
        recorder = AttemptRecorder(h.store)
        for m in messages:
            await recorder.record(delivered(m.message_id))
        recorder.start()
        await asyncio.wait_for(recorder.committed(), 30)
        assert writes == [[m.message_id for m in messages]]
        await recorder.close()


async def test_a_stop_that_gives_up_during_the_wait_names_the_attempt_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken from the queue but not yet written: a stop that does not wait for it must count
    it among the unrecorded (its message goes out again at the next start), not drop it."""
    monkeypatch.setattr(recorder_module, "GATHER_S", 600.0)
    async with open_harness("embedded", tmp_path) as h:
        [message] = await h.messages("dest-a", 1)
        writes = spy_on_writes(h.store, monkeypatch)
        recorder = AttemptRecorder(h.store)
        recorder.start()
        await recorder.record(delivered(message.message_id))
        for _ in range(5):
            await asyncio.sleep(0)
        assert await recorder.close(within=0.2) == [message.message_id]
        assert writes == []
