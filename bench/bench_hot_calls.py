"""Three small calls made for every event, before and after the fifth round, in one process.

    .venv/bin/python bench/bench_hot_calls.py

Each pair runs in alternating rounds and prints the median ratio (old / new, above 1: the new
one is cheaper) with its spread, alone and with a thread beside it that keeps SQLite busy as
the store's writer does (a call that releases the GIL then waits to get it back):

- a log line: structlog's proxy, which assembles a bound logger per call, against
  ``EngineLogger`` (a dropped ``debug`` line, as for every delivered message, and an ``info``);
- a time bound for SQLite: ``UTCDateTime`` through SQLAlchemy against its direct function;
- the BSN hash: OpenSSL's one-shot HMAC against a copy of the keyed state.
Wall time per call, in microseconds.
"""

from __future__ import annotations

import datetime
import functools
import hmac
import io
import json
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog
from sqlalchemy.dialects import sqlite

from integrator.logging import configure_logging, get_logger
from integrator.store.coltypes import UTCDateTime
from integrator.store.keyed import bsn_hash

CALLS = 20_000
ROUNDS = 7
KEY = b"k" * 43


def _us(call: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    for _ in range(CALLS):
        call()
    return (time.perf_counter() - t0) / CALLS * 1e6


def _pairs() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    configure_logging(level="info")
    proxy, engine = structlog.get_logger("bench"), get_logger("bench")
    dialect = sqlite.dialect()
    through = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    direct = UTCDateTime.direct_bind_processor(dialect)
    assert through is not None and direct is not None
    now = datetime.datetime.now(datetime.UTC)
    fields = {"event_id": "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001", "source": "cli", "messages": 1}
    return {
        "log debug (dropped)": (lambda: proxy.debug("d", a=1), lambda: engine.debug("d", a=1)),
        "log info": (
            lambda: proxy.info("event accepted", **fields),
            lambda: engine.info("event accepted", **fields),
        ),
        "sqlite time bind": (lambda: through(now), lambda: direct(now)),
        "bsn hash": (
            lambda: hmac.digest(KEY, b"999990019", "sha256").hex(),
            lambda: bsn_hash("999990019", KEY),
        ),
    }


def _busy_sqlite(stop: threading.Event) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x)")
    while not stop.is_set():
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
        db.execute("DELETE FROM t")


Round = Callable[[], float]
"""One round of a measure: microseconds per call."""


def paired_rounds(pairs: dict[str, tuple[Round, Round]]) -> dict[str, Any]:
    """Each pair's old and new side, ``ROUNDS`` rounds alternating which goes first: the
    medians, the median ratio (old / new) and its spread."""
    out = {}
    for name, (old, new) in pairs.items():
        rounds = []
        for index in range(ROUNDS):
            if index % 2:
                n, o = new(), old()
            else:
                o, n = old(), new()
            rounds.append((o, n))
        ratios = [o / n for o, n in rounds]
        out[name] = {
            "old_us": round(statistics.median(o for o, _ in rounds), 2),
            "new_us": round(statistics.median(n for _, n in rounds), 2),
            "ratio": round(statistics.median(ratios), 2),
            "spread": [round(min(ratios), 2), round(max(ratios), 2)],
        }
    return out


def _measure(pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]]) -> dict[str, Any]:
    return paired_rounds(
        {
            name: (functools.partial(_us, old), functools.partial(_us, new))
            for name, (old, new) in pairs.items()
        }
    )


def beside_busy_sqlite(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()`` while another thread keeps SQLite busy, as the store's writer thread does
    in a burst: the GIL changing hands is part of what each call costs there."""
    stop = threading.Event()
    writer = threading.Thread(target=_busy_sqlite, args=(stop,))
    writer.start()
    try:
        return measure()
    finally:
        stop.set()
        writer.join()


def main() -> None:
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        pairs = _pairs()
        alone = _measure(pairs)
        beside = beside_busy_sqlite(lambda: _measure(pairs))
    finally:
        sys.stderr = stderr
    print(json.dumps({"alone": alone, "beside a busy sqlite thread": beside}, indent=1))


if __name__ == "__main__":
    main()
