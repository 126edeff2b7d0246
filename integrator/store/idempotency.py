"""The store's side of the API's idempotency keys (``integrator.idempotency``).

A request with a key claims its row (``claim_idempotency_key``): one conditional INSERT on the
primary key (caller, key), so of two requests with the same key at once, wherever they arrive,
exactly one inserts it and does the work; the other reads the row it found. The row then holds
the answer (``finish_idempotency_key``), or goes again when the work was refused before it did
anything (``release_idempotency_key``), so that a repeat is judged afresh. An expired row, and
an unfinished one claimed before ``abandoned_before`` (its request never finished nor released
it: the engine stopped mid-request, or the store failed it), is replaced by the next claim of its
key; expired rows go with the daily prune (``delete_expired_idempotency_keys``,
``integrator.lifecycle.prune``).
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.expiring import count_expired, delete_expired, expired
from integrator.store.failures import guarded
from integrator.store.tables import idempotency_keys as table


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A key's first request: its hash and, once done (``status`` not None), its answer."""

    caller: str
    key: str
    request_hash: str
    created_at: datetime
    expires_at: datetime
    status: int | None
    answer: Any

    @property
    def finished(self) -> bool:
        return self.status is not None


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def backend(self) -> str: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def _abandoned(before: datetime) -> ColumnElement[bool]:
    return and_(table.c.status.is_(None), table.c.created_at <= before)


def _record(row: Row[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        caller=row.caller,
        key=row.key,
        request_hash=row.request_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=row.status,
        answer=None if row.answer is None else json.loads(row.answer),
    )


def _this(caller: str, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return table.c.caller == caller, table.c.key == key


class IdempotencyMixin:
    @guarded("claim an idempotency key")
    async def claim_idempotency_key(
        self: _StoreParts,
        caller: str,
        key: str,
        *,
        request_hash: str,
        now: datetime,
        expires_at: datetime,
        abandoned_before: datetime,
    ) -> IdempotencyRecord | None:
        """Claim ``key`` of ``caller`` for a request: None when this call claimed it (do the
        work, then finish or release it); else the row of the request that claimed it first
        (in progress while not ``finished``). An expired row is replaced, and so is an
        unfinished one claimed at or before ``abandoned_before``."""
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        async with self._transaction() as conn:
            await conn.execute(
                delete(table).where(
                    *_this(caller, key), or_(expired(table, now), _abandoned(abandoned_before))
                )
            )
            added = await conn.execute(
                dialect_insert(table)
                .values(
                    caller=caller,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                    expires_at=expires_at,
                )
                .on_conflict_do_nothing(index_elements=[table.c.caller, table.c.key])
            )
            if added.rowcount:
                return None
            row = (await conn.execute(select(table).where(*_this(caller, key)))).first()
        assert row is not None  # the conflict's row; deleted only when stale, as it is not
        return _record(row)

    @guarded("keep the answer of an idempotency key")
    async def finish_idempotency_key(
        self: _StoreParts, caller: str, key: str, *, status: int, answer: Any
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                update(table)
                .where(*_this(caller, key))
                .values(status=status, answer=json.dumps(answer, ensure_ascii=False, default=str))
            )

    @guarded("release an idempotency key")
    async def release_idempotency_key(self: _StoreParts, caller: str, key: str) -> None:
        """Forget an unfinished claim: its request did nothing, a repeat is judged afresh."""
        async with self._transaction() as conn:
            await conn.execute(delete(table).where(*_this(caller, key), table.c.status.is_(None)))

    @guarded("count expired idempotency keys")
    async def count_expired_idempotency_keys(self: _StoreParts, *, now: datetime) -> int:
        return await count_expired(self._engine, table, now)

    @guarded("delete expired idempotency keys")
    async def delete_expired_idempotency_keys(self: _StoreParts, *, now: datetime) -> int:
        """Delete the keys expired by ``now``; returns how many. One statement on the indexed
        ``expires_at``: the table holds a day's keyed requests."""
        return await delete_expired(self._transaction(), table, now)
