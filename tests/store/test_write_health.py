"""A full disk's failure is put on trial ``FULL_HELD_S`` after the last write it refused, while
the engine's heartbeat (a write that changes its row in place) still works: readiness then says
ready and lets the next event tell (an engine out of a load balancer's rotation was sent no
event after the disk was freed, so no write that adds rows came to end the failure, and it
stayed not ready for as long as nothing wrote through another door). The failure itself, which
``integrator_store_up`` and its alert read, ends only with a write that adds rows: a disk
still full keeps the alert firing rather than starting its ``for`` anew every minute."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from integrator.store.write_health import FULL_HELD_S, WriteHealth


def real_error(limit_pages: int) -> sa_exc.OperationalError:
    """SQLite's own SQLITE_FULL, from a database that may not grow past ``limit_pages``."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (v BLOB)")
        conn.execute(f"PRAGMA max_page_count = {limit_pages}")
        try:
            while True:
                conn.execute("INSERT INTO t VALUES (zeroblob(4096))")
        except sqlite3.OperationalError as error:
            return sa_exc.OperationalError("INSERT", {}, error)
    finally:
        conn.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def refused(health: WriteHealth, error: Exception) -> None:
    with pytest.raises(sa_exc.OperationalError):
        async with health.watch():
            raise error


async def beat(health: WriteHealth) -> None:
    async with health.watch(grows=False):
        pass  # the heartbeat fits in the pages the store has


# A store whose disk's free space cannot be read (its folder is gone): only a write that adds
# rows, or readiness's trial, tells whether it is still full.
UNKNOWN_ROOM = "sqlite:////nonexistent-folder-of-a-test/store.db"


async def test_a_full_disk_is_put_on_trial_for_readiness_once_no_write_was_refused_a_while() -> (
    None
):
    clock = Clock()
    health = WriteHealth(make_url(UNKNOWN_ROOM), monotonic=clock)
    full = real_error(limit_pages=4)
    await refused(health, full)
    assert health.failing is not None and health.failing.startswith("SQLITE_FULL")
    assert health.for_readiness == health.failing

    clock.now += FULL_HELD_S / 2
    await beat(health)
    assert health.for_readiness is not None  # too soon: the disk may well be full still

    await refused(health, full)  # another event refused: the wait starts again
    clock.now += FULL_HELD_S - 1
    await beat(health)
    assert health.for_readiness is not None

    clock.now += 1
    await beat(health)
    assert health.for_readiness is None  # ready: the next event tells
    assert health.failing is not None  # the metric and its alert still say the store is down

    await refused(health, full)  # it did tell: still full
    assert health.for_readiness == health.failing


async def test_a_freed_disk_ends_it_for_the_metric_too_without_a_write_that_adds_rows(
    tmp_path: Path,
) -> None:
    """An idle engine gets no event after the disk was freed: its store-down alert fired on
    for ever. A SQLite store's disk with room again ends the failure at the heartbeat."""
    clock = Clock()
    health = WriteHealth(make_url(f"sqlite:///{tmp_path / 'store.db'}"), monotonic=clock)
    await refused(health, real_error(limit_pages=4))
    await beat(health)
    assert health.failing is not None  # too soon after the refused write
    clock.now += FULL_HELD_S
    await beat(health)
    assert health.failing is None and health.for_readiness is None


async def test_a_write_that_adds_rows_ends_it_at_once() -> None:
    clock = Clock()
    health = WriteHealth(make_url(UNKNOWN_ROOM), monotonic=clock)
    await refused(health, real_error(limit_pages=4))
    clock.now += FULL_HELD_S
    await beat(health)
    async with health.watch():
        pass
    assert health.failing is None and health.for_readiness is None and not health.on_trial
