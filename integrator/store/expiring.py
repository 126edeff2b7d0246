"""Rows that carry their own end (``expires_at``): counted and deleted the same way.

Four tables keep things of minutes to a day (confirmations, idempotency keys, console answers,
kept searches). The daily prune deletes what has expired, and its dry run counts it; each is one
statement on the table's indexed ``expires_at``, as the tables hold little more than what is
still live. One pair of functions, so that the four cannot drift apart.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def expired(table: Table, now: datetime) -> ColumnElement[bool]:
    """A row of ``table`` past its end at ``now`` (a row is live while ``expires_at > now``)."""
    return table.c.expires_at <= now


async def count_expired(engine: AsyncEngine, table: Table, now: datetime) -> int:
    """How many rows of ``table`` have expired by ``now`` (what a prune would delete)."""
    async with engine.connect() as conn:
        found = await conn.execute(
            select(func.count()).select_from(table).where(expired(table, now))
        )
        return int(found.scalar_one())


async def delete_expired(
    transaction: AbstractAsyncContextManager[AsyncConnection], table: Table, now: datetime
) -> int:
    """Delete the rows of ``table`` expired by ``now`` in ``transaction``; how many."""
    async with transaction as conn:
        result = await conn.execute(delete(table).where(expired(table, now)))
        return int(result.rowcount)
