"""``integrator`` with a store read made long, for tests that stop an engine during one.

Run as ``python -m tests.deploy.slow_reads run``. On every SQLite connection of SQLAlchemy's
pool (aiosqlite's, each with its worker thread) a statement whose text contains
``SLOW_READ_SQL`` keeps that thread busy for ``SLOW_READ_S`` seconds before SQLite runs it, as
a scan of a very large store does (the count of unrouted events took seconds on a store of a
million messages); the file ``SLOW_READ_MARK`` is written when it begins, so a test signals the
engine while the read is under way. The store's own threads (``store.sqlite_writer``: intake,
the attempt recorder, the hot reads) are untouched.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_

SQL = "SLOW_READ_SQL"
"""The variable naming a piece of the statement to make long."""

MARK = "SLOW_READ_MARK"
"""The variable naming the file written when such a statement begins."""

SECONDS = "SLOW_READ_S"
"""The variable saying how long such a statement keeps its thread busy."""


def make_reads_slow(piece: str, mark: Path, seconds: float) -> None:
    """Make every statement containing ``piece`` take ``seconds``, on pools opened from now."""

    @event.listens_for(Engine, "connect")
    def slow_down(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is None or not hasattr(driver, "set_trace_callback"):
            return  # not aiosqlite (asyncpg: the tests make its reads long in the server)

        def trace(statement: str) -> None:  # on aiosqlite's worker thread
            if piece in statement:
                mark.write_text("began\n", encoding="utf-8")
                time.sleep(seconds)

        await_(driver.set_trace_callback(trace))


if __name__ == "__main__":
    make_reads_slow(os.environ[SQL], Path(os.environ[MARK]), float(os.environ[SECONDS]))
    from integrator.cli import main

    sys.argv[0] = "integrator"
    main()
