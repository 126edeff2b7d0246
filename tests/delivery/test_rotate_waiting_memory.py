"""A ``rotate`` retry waiting out its backoff is an entry in its runner's schedule, not a task.

A receiver that answers AE to everything leaves every queued message of a rotate destination
waiting for its next turn (docs/product.md §5, order ``rotate``). Each waited in a timer of its
own before: an asyncio task, its coroutines, a ``wait_for`` timer and a future, about 2.7 KB, so
100,000 queued messages held some 270 MB. Now one task per runner sleeps until the earliest is
due. The guarantees stay: a stop hands every waiting retry back with its time, "try now" makes
them due at once, and a store that does not answer when they come due is asked again. A real
engine on the embedded transport and a loopback receiver.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator import delivery
from integrator.access import Permission
from integrator.access.permissions import local_identity
from integrator.catalog import build_catalog
from integrator.clusters import ClusterScope
from integrator.engine import Engine
from integrator.store import MessageRecord, Store
from integrator.try_now import Where, try_destination_now
from tests.delivery.support import DEST, TODAY, fast_destination, submit
from tests.integrator.support import settings_for
from tests.transport.helpers import eventually

WAITING = 500
TEN_MINUTES = {"initial": "10m", "multiplier": 1, "max_delay": "10m", "max_attempts": 5}
SUPPORT = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)


def rotating(tmp_path: Path, port: int, retry: dict[str, Any]) -> Engine:
    """An engine (not started) whose one destination, on ``port``, is in rotate order."""
    config = fast_destination(port, ordering="rotate", ack_timeout="2s", retry=retry)
    catalog = build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
    return Engine(settings_for(tmp_path), catalog=catalog)


async def stored(engine: Engine, ids: list[str]) -> list[MessageRecord]:
    await engine.drain()
    return await engine.store.get_messages(ids)


async def test_waiting_retries_take_no_task_each_and_a_stop_hands_them_all_back(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver(ack_code="AE") as receiver:
        engine = rotating(tmp_path, receiver.port, TEN_MINUTES)
        await engine.start()
        try:
            first = await submit(engine, referral_data, 1)
            assert await eventually(lambda: engine.retries_waiting(DEST) == 1)
            with_one = len(asyncio.all_tasks())
            ids = first + await submit(engine, referral_data, WAITING - 1)
            assert await eventually(lambda: engine.retries_waiting(DEST) == WAITING, timeout=30)
            # Before: one task per waiting retry (+499 here).
            assert len(asyncio.all_tasks()) - with_one < 10, (with_one, len(asyncio.all_tasks()))
        finally:
            with capture_logs() as logs:
                await engine.stop()
        [handed] = [e for e in logs if e["event"].startswith("stopping: waiting retries handed")]
        assert handed["messages"] == WAITING

        receiver.ack_code = "AA"
        again = rotating(tmp_path, receiver.port, TEN_MINUTES)
        await again.start()
        try:
            # Each keeps its time (ten minutes away) until support asks to try them now.
            assert await eventually(lambda: again.retries_waiting(DEST) == WAITING, timeout=10)
            await try_destination_now(Where.engine(again), SUPPORT, DEST, source="test")
            assert await again.wait_settled(timeout=30)
            found = await stored(again, ids)
            assert [(m.status, m.attempt_count) for m in found] == [("delivered", 2)] * WAITING
            assert len(receiver.received) == 2 * WAITING
        finally:
            await again.stop()


def failing_store(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``Store.pending_messages`` refuses (the store away) until the test undoes it; the
    returned list counts the refusals."""
    refused: list[int] = []

    async def refusing(*args: Any, **kwargs: Any) -> list[MessageRecord]:
        refused.append(1)
        raise OSError("the store is away")

    monkeypatch.setattr(Store, "pending_messages", refusing)
    return refused


BRIEF = {"initial": "300ms", "multiplier": 1, "max_delay": "300ms", "max_attempts": 5}


async def test_due_retries_the_store_does_not_give_are_asked_for_again(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "RELOAD_PAUSE", 0.05)
    async with MllpReceiver(ack_code="AE") as receiver:
        engine = rotating(tmp_path, receiver.port, BRIEF)
        await engine.start()
        try:
            ids = await submit(engine, referral_data, 3)
            assert await eventually(lambda: engine.retries_waiting(DEST) == 3)
            receiver.ack_code = "AA"
            with capture_logs() as logs:
                refused = failing_store(monkeypatch)
                assert await eventually(lambda: len(refused) >= 3)
                monkeypatch.undo()
                monkeypatch.setattr(delivery, "RELOAD_PAUSE", 0.05)
                assert await engine.wait_settled(timeout=10)
            assert any(e["event"].startswith("could not read") for e in logs)
            found = await stored(engine, ids)
            # Each delivered after its first AE; under load a retry 300 ms on may come due (and
            # be answered AE) before the test turns the receiver to AA: at least 2 attempts.
            assert [m.status for m in found] == ["delivered"] * 3
            assert all(m.attempt_count >= 2 for m in found), [m.attempt_count for m in found]
        finally:
            await engine.stop()


async def test_a_stop_while_the_store_does_not_give_due_retries_hands_them_back(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "RELOAD_PAUSE", 60.0)  # the stop comes while it waits
    async with MllpReceiver(ack_code="AE") as receiver:
        engine = rotating(tmp_path, receiver.port, BRIEF)
        await engine.start()
        try:
            await submit(engine, referral_data, 3)
            assert await eventually(lambda: engine.retries_waiting(DEST) == 3)
            refused = failing_store(monkeypatch)
            assert await eventually(lambda: len(refused) >= 1)
            monkeypatch.undo()  # the store is back; the schedule would ask in a minute
        finally:
            with capture_logs() as logs:
                await asyncio.wait_for(engine.stop(), 10)
        [handed] = [e for e in logs if e["event"].startswith("stopping: waiting retries handed")]
        assert handed["messages"] == 3
