"""A new SQLite connection reads while another process writes.

Every connection the store opens gets its pragmas; two of them take effect only in a new, empty
file. Set on a file with tables, ``auto_vacuum`` still waited for SQLite's write lock, so a
command opening the store while an engine held a write (a prune, a key rotation's retirement)
waited up to the busy timeout (15 s) and then failed with SQLITE_BUSY before its first read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from integrator.store import Store
from integrator.store.sqlite_hot_writes import WRITER_CACHE_KIB, SqliteHotWrites
from tests.store.factories import make_event, make_message


async def test_a_store_opened_while_another_process_holds_the_write_lock_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    async with await Store.open(url) as made:
        message = make_message()
        await made.accept_event(make_event(), [message])

    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process's write under way, not committed
        writer.execute("UPDATE messages SET seq = seq")
        async with await Store.open_existing(url) as store:
            assert await store.resolve_message_id(message.id[:8]) == message.id
            assert (await store.count_by_status()).get("queued") == 1
    finally:
        writer.rollback()
        writer.close()

    with sqlite3.connect(path) as check:  # the file's own settings, made when it was new
        assert check.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert check.execute("PRAGMA page_size").fetchone()[0] == 8192


async def test_the_hot_writes_connection_keeps_a_larger_page_cache_than_the_others(
    tmp_path: Path,
) -> None:
    """The writer's page cache holds the indexes keyed by random values of a big store
    (``WRITER_CACHE_KIB``); every other connection keeps SQLite's default."""
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        assert await store.accept_events([(make_event(), [make_message()])]) == [True]
        hot = store._hot
        assert isinstance(hot, SqliteHotWrites)

        def cache_size(conn: sqlite3.Connection) -> int:
            size: int = conn.execute("PRAGMA cache_size").fetchone()[0]
            return size

        assert await hot._writer.read(cache_size) == -WRITER_CACHE_KIB
        assert await hot._reader.read(cache_size) == -2000  # SQLite's default, 2,000 KiB
        async with store._engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() == -2000
