"""The store stops taking attempts while delivery runs (down, read-only, locked by another
process): delivery waits instead of sending on, and a stop names what it could not record.

Each message delivered and not recorded is sent again at the next start, and nothing but the
receiver knows of its first delivery. Before, delivery went on through the outage (a 30 s
PostgreSQL outage left 11 delivered and unrecorded), and a SIGTERM then waited for the store
without end, until the supervisor's kill lost even the list. Here the outage is real: a second
SQLite connection holds the database's write lock (``BEGIN EXCLUSIVE``), and the engine's
writes fail after its busy timeout, shortened for the test.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator import engine as engine_module
from integrator.store import Store
from integrator.store import engine as store_engine
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import start_engine, submit

EVENTS = 60


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    pragmas = tuple(
        "PRAGMA busy_timeout=200" if p.startswith("PRAGMA busy_timeout") else p
        for p in store_engine.SQLITE_PRAGMAS
    )
    monkeypatch.setattr(store_engine, "SQLITE_PRAGMAS", pragmas)
    monkeypatch.setattr(engine_module, "RECORD_ON_STOP_S", 1.0)


async def until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.mark.usefixtures("short_busy_timeout")
async def test_delivery_waits_while_the_store_takes_no_attempts_and_a_stop_names_them(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(default="delay:0.02") as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        ids = await submit(engine, referral_data, EVENTS)
        await until(lambda: len(receiver.log) >= 5)

        lock = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            with capture_logs() as logs:
                # The first write fails after the busy timeout (0.2 s); then the worker waits.
                await until(
                    lambda: any(e["event"].startswith("recording attempts failed") for e in logs)
                )
                during = len(receiver.log)
                await asyncio.sleep(1.0)
                sent_while_failing = len(receiver.log) - during
                await asyncio.wait_for(engine.stop(graceful=True), 20)
        finally:
            lock.rollback()
            lock.close()
        assert sent_while_failing <= 1, sent_while_failing  # one worker: its attempt on the wire
        # The stop did not wait for the store for ever, and named what it could not record.
        [unrecorded_line] = [
            e for e in logs if e["event"].startswith("delivery attempts not recorded")
        ]
        assert engine.unrecorded_at_stop
        assert unrecorded_line["message_ids"] == engine.unrecorded_at_stop
        assert set(engine.unrecorded_at_stop) <= set(ids)
        sent_before_start = len(receiver.log)
        assert sent_before_start < EVENTS  # the rest waited, queued, in the store

        # The stop could not take this engine's presence off the locked store either. A real
        # restart is a new process, which finds the old pid gone and the engine crashed; in
        # this one process the pid lives on, so its row is taken off as that start would.
        store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
        try:
            for presence in await store.fresh_engines(datetime(2000, 1, 1, tzinfo=UTC)):
                await store.remove_engine(presence.id)
        finally:
            await store.close()

        # Started again with the store back: every message delivered; those not recorded were
        # sent again under the same MSH-10 (the receiver can tell), the others once.
        unrecorded = engine.unrecorded_at_stop
        engine = await start_engine(tmp_path, receiver.port)
        try:
            assert await engine.wait_settled(timeout=30)
            counts = await engine.store.count_by_status()
        finally:
            await engine.stop()
    assert {k: v for k, v in counts.items() if v} == {"delivered": EVENTS}
    sent = receiver.received_ids()
    twice = {control_id for control_id in sent if sent.count(control_id) > 1}
    assert len(sent) == len(set(sent)) + len(twice)  # none more than twice
    assert len(twice) == len(unrecorded)
