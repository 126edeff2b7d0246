"""A full disk's failure outlives the last write it refused by ``FULL_HELD_S`` only, while the
engine's heartbeat (a write that changes its row in place) still works: an engine out of a load
balancer's rotation was sent no event after the disk was freed, so no write that adds rows came
to end the failure, and it stayed not ready until something wrote through another door."""

from __future__ import annotations

import sqlite3

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


async def test_a_heartbeat_ends_a_full_disk_only_once_no_write_was_refused_for_a_while() -> None:
    clock = Clock()
    health = WriteHealth(make_url("sqlite:///store.db"), monotonic=clock)
    full = real_error(limit_pages=4)
    await refused(health, full)
    assert health.failing is not None and health.failing.startswith("SQLITE_FULL")

    clock.now += FULL_HELD_S / 2
    async with health.watch(grows=False):
        pass  # the heartbeat fits in the pages the store has
    assert health.failing is not None  # too soon: the disk may well be full still

    await refused(health, full)  # another event refused: the wait starts again
    clock.now += FULL_HELD_S - 1
    async with health.watch(grows=False):
        pass
    assert health.failing is not None

    clock.now += 1
    async with health.watch(grows=False):
        pass
    assert health.failing is None  # ready again; the next event tells


async def test_a_write_that_adds_rows_ends_it_at_once() -> None:
    clock = Clock()
    health = WriteHealth(make_url("sqlite:///store.db"), monotonic=clock)
    await refused(health, real_error(limit_pages=4))
    async with health.watch():
        pass
    assert health.failing is None
