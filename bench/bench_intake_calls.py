"""The calls the ninth round made cheaper on intake's path, old and new in one process.

    .venv/bin/python bench/bench_intake_calls.py

End to end, the few per cent these add up to are below what a shared machine lets a burst tell
apart; side by side in one process, alternating rounds (``bench_hot_calls._measure``), they
are not. Median ratio old / new (above 1: the new one is cheaper) with its spread, wall µs per
call, alone and beside a thread keeping SQLite busy as the store's writer does:

- the BSN hash as intake calls it (``Settings.bsn_hash``): an import statement per call and a
  copy of ``hmac.HMAC``, against the two padded-key SHA-256 states copied;
- a message id: ``str(uuid.uuid4())`` against ``ids.new_message_id``; a control id:
  ``secrets.randbits`` against ``os.urandom``;
- the engine's zone: ``Settings.zone`` per use (twice a message) against once per intake;
- counting 200 accepted events: a label lookup and an increment each, against one;
- the writer thread's INSERT of 200 new events: an ``execute`` per event against one
  ``executemany`` inside a savepoint (a table shaped like ``events``, in memory).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_hot_calls  # noqa: E402
from bench_hot_calls import _measure  # noqa: E402
from prometheus_client import CollectorRegistry, Counter  # noqa: E402

from integrator.ids import new_control_id, new_message_id  # noqa: E402
from integrator.settings import Settings  # noqa: E402

KEY = "k" * 43
BATCH = 200


@functools.lru_cache(maxsize=4)
def _old_keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def _old_settings_bsn_hash(settings: Settings, bsn: str) -> str:
    """``Settings.bsn_hash`` and ``keyed.bsn_hash`` as they were before this round."""
    from integrator.store.keyed import bsn_hash  # noqa: F401 (the import it paid per call)

    assert settings.search_key is not None
    key = settings.search_key.get_secret_value().encode("utf-8")
    keyed = _old_keyed(key).copy()
    keyed.update(bsn.strip().encode("ascii", "replace"))
    return keyed.hexdigest()


def _events_table() -> tuple[sqlite3.Connection, str, Callable[[], list[tuple[Any, ...]]]]:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute(
        "CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT, action TEXT, zd_number TEXT, "
        "provider_id TEXT, received_at TEXT, source TEXT, payload TEXT, bsn_hash TEXT)"
    )
    db.execute("CREATE INDEX ix_zd ON events (zd_number)")
    sql = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
    payload = "x" * 1500

    def rows() -> list[tuple[Any, ...]]:
        now = str(datetime.datetime.now(datetime.UTC))
        return [
            (str(uuid.uuid4()), "referral", "new", "ZD1", "p", now, "cli", payload, "h")
            for _ in range(BATCH)
        ]

    return db, sql, rows


def _pairs() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    settings = Settings(search_key=KEY, database_url="sqlite:///unused.db")
    now = datetime.datetime.now(datetime.UTC)
    zone = settings.zone
    counter = Counter("bench_events", "", ["outcome"], registry=CollectorRegistry())
    db, sql, make_rows = _events_table()
    batches = [make_rows() for _ in range(4)]
    turn = [0]

    def next_rows() -> list[tuple[Any, ...]]:
        turn[0] += 1
        db.execute("DELETE FROM events")
        return batches[turn[0] % len(batches)]

    def insert_each() -> None:
        rows = next_rows()
        db.execute("BEGIN IMMEDIATE")
        cursor = db.cursor()
        inserted = set()
        for row in rows:
            cursor.execute(sql, row)
            if cursor.rowcount == 1:
                inserted.add(row[0])
        db.execute("COMMIT")

    def insert_many() -> None:
        rows = next_rows()
        db.execute("BEGIN IMMEDIATE")
        cursor = db.cursor()
        cursor.execute("SAVEPOINT accept_events")
        cursor.executemany(sql, rows)
        assert cursor.rowcount == len(rows)
        cursor.execute("RELEASE accept_events")
        _ = {row[0] for row in rows}
        db.execute("COMMIT")

    def count_each() -> None:
        for _ in range(BATCH):
            counter.labels("accepted").inc()

    return {
        "bsn hash (Settings.bsn_hash)": (
            lambda: _old_settings_bsn_hash(settings, "999990019"),
            lambda: settings.bsn_hash("999990019"),
        ),
        "message id": (lambda: str(uuid.uuid4()), new_message_id),
        "control id": (
            lambda: f"{time.time_ns() // 1_000_000:011X}{secrets.randbits(32):08X}",
            new_control_id,
        ),
        "zone, per message": (
            lambda: now.astimezone(settings.zone).astimezone(settings.zone),
            lambda: now.astimezone(zone),
        ),
        "count 200 accepted": (count_each, lambda: counter.labels("accepted").inc(BATCH)),
        "insert 200 events": (insert_each, insert_many),
    }


def main() -> None:
    stderr, sys.stderr = sys.stderr, io.StringIO()
    os.environ.pop("INTEGRATOR_SEARCH_KEY", None)
    try:
        pairs = _pairs()
        batched = {name: pairs.pop(name) for name in list(pairs) if "200" in name}

        def every_pair() -> dict[str, Any]:
            measured: dict[str, Any] = {}
            for calls, group in ((20_000, pairs), (200, batched)):
                bench_hot_calls.CALLS = calls
                measured |= _measure(group)
            return measured

        alone = every_pair()
        beside = bench_hot_calls.beside_busy_sqlite(every_pair)
    finally:
        sys.stderr = stderr
    print(json.dumps({"alone": alone, "beside a busy sqlite thread": beside}, indent=1))


if __name__ == "__main__":
    main()
