"""A SQLite store's files without the pages as they were before a prune or a rotation.

A value pruned or sealed anew is gone from the rows at the commit, but the pages as they were
stay in the database file until a checkpoint copies the rewritten ones back, and in the WAL
file, which is never shortened, until new frames happen to overwrite them. With an engine's
connections open nobody closes the last one (which would checkpoint), and a command's own
writes stay below the automatic checkpoint: a store left quiet after ``keys rotate`` kept the
values sealed with the retired key, or in clear, in both files for as long as it stayed quiet.
``PRAGMA wal_checkpoint(TRUNCATE)`` copies every frame back (the pages freed are zeroed, the
store runs with ``secure_delete``) and empties the WAL file.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.engine import SQLITE_BUSY_TIMEOUT_MS

CHECKPOINT_WAIT_MS = 1_000
"""How long the checkpoint waits for readers on an older snapshot (a backup, an export). It
holds the write lock meanwhile, so every write of the engine waits with it: far below the
store's busy timeout, so a write that waits for it never times out. When a reader still holds
the WAL (``busy``), the engine's own checkpoints copy the pages back soon after."""


async def without_old_pages(engine: AsyncEngine) -> bool:
    """The values as they were before a prune or a rotation out of a SQLite store's files, not
    only out of its rows; False when a reader kept the checkpoint from finishing. PostgreSQL:
    its old row versions go with its autovacuum."""
    if engine.dialect.name != "sqlite":
        return True
    async with engine.connect() as conn:
        return await _checkpoint_truncate(
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        )


async def _checkpoint_truncate(auto: AsyncConnection) -> bool:
    """Copy every WAL frame back and empty the WAL file, on a SQLite connection in autocommit
    mode (a checkpoint cannot run inside a transaction). False when a reader on an older
    snapshot (a backup, an export) kept it from finishing: the pages as they were may stay in
    the files until the engine's own checkpoints, or this one run again, copy them back."""
    await auto.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
    try:
        # (busy, frames in the WAL, frames copied back): busy when a reader kept it short.
        done = (await auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    finally:  # the connection goes back to the pool, for any other statement
        await auto.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return not done[0]


OLD_PAGES_LEFT: Final = (
    "a reader of the store (a backup, an export) kept its files from being rewritten: the "
    "values as they were may stay in them until the engine next writes much, or this "
    "command runs again once that reader ended"
)
"""What a prune or a rotation says when its checkpoint did not finish (``without_old_pages``)."""
