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
