"""The SQLite writer's WAL checkpoints run beside the commits, on a thread of their own.

What is observable from outside: soon after a commit the database file itself holds it (a copy
of the file without its ``-wal`` has the rows), long before the WAL reaches SQLite's own
auto-checkpoint size; and closing the store ends that thread.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from pathlib import Path

from tests.store.conftest import Site
from tests.store.factories import StepClock, make_event, make_message


def _events_in_the_file_alone(path: Path, copy: Path) -> int | None:
    """Events in the database file without its WAL: what a checkpoint has copied back.

    None when the copy was taken while a checkpoint was writing the file (torn, so SQLite
    finds it malformed): only a copy between two checkpoints can be read.
    """
    shutil.copyfile(path, copy)
    try:
        with sqlite3.connect(copy) as conn:
            count: int = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.DatabaseError:
        return None
    finally:
        copy.unlink()
    return count


async def test_commits_reach_the_database_file_without_waiting_for_the_wal_to_fill(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    store = await Site("sqlite", f"sqlite:///{path}").open(StepClock())
    try:
        for _ in range(3):  # a few pages: far below the auto-checkpoint size
            assert await store.accept_events([(make_event(), [make_message()])]) == [True]
        copied: int | None = None
        for _ in range(100):
            copied = _events_in_the_file_alone(path, tmp_path / "copy.db")
            if copied == 3:
                break
            await asyncio.sleep(0.05)
        assert copied == 3, "the commits stayed in the WAL: no checkpoint ran beside them"
    finally:
        await store.close()


async def test_closing_the_store_ends_the_checkpoint_thread(tmp_path: Path) -> None:
    # Another test's store in this process may still have its own thread: only this one's.
    others = {t for t in threading.enumerate() if t.name == "store-checkpoint"}
    store = await Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}").open(StepClock())
    assert await store.accept_events([(make_event(), [make_message()])]) == [True]
    ours = {t for t in threading.enumerate() if t.name == "store-checkpoint"} - others
    assert ours
    await store.close()
    assert not [t for t in ours if t.is_alive()]
