"""The store's side of the console's kept answers to form posts (``integrator.console.answers``).

A row is one answer, kept for the GET its redirect leads to: the handle's hash, the page as
the console sealed it (the store cannot open it: the key is made from the browser's session
secret, which the store does not hold), whether the first look takes it, its expiry, and whose
session kept it (a keyed hash: signing out drops them, ``drop_console_answers``). What
an answer holds and how long it lasts is the caller's decision. Expired rows go when the next
answer is kept (``add_console_answer``) and with the daily prune
(``delete_expired_console_answers``, ``integrator.lifecycle.prune``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.expiring import count_expired, delete_expired
from integrator.store.failures import guarded
from integrator.store.tables import console_answers as table


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class ConsoleAnswersMixin:
    @guarded("keep a console answer")
    async def add_console_answer(
        self: _StoreParts,
        answer_id: str,
        *,
        answer: str,
        once: bool,
        now: datetime,
        expires_at: datetime,
        owner: str | None = None,
    ) -> None:
        """Keep an answer; expired ones go in the same transaction. ``owner``: the session
        that kept it, as ``drop_console_answers`` is given it (None before sign-in)."""
        async with self._transaction() as conn:
            await conn.execute(delete(table).where(table.c.expires_at <= now))
            await conn.execute(
                insert(table).values(
                    id=answer_id,
                    once=once,
                    answer=answer,
                    created_at=now,
                    expires_at=expires_at,
                    owner=owner,
                )
            )

    @guarded("read a console answer")
    async def get_console_answer(
        self: _StoreParts, answer_id: str, *, now: datetime
    ) -> tuple[str, bool] | None:
        """The unexpired answer kept under ``answer_id`` and whether it is for one look only;
        else None."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.answer, table.c.once).where(
                        table.c.id == answer_id, table.c.expires_at > now
                    )
                )
            ).first()
        return None if row is None else (str(row.answer), bool(row.once))

    @guarded("take a console answer")
    async def take_console_answer(self: _StoreParts, answer_id: str) -> bool:
        """Delete the answer kept under ``answer_id``; True for the one caller that did (of two
        looks at an answer kept for one look, one shows it)."""
        async with self._transaction() as conn:
            taken = await conn.execute(delete(table).where(table.c.id == answer_id))
            return bool(taken.rowcount)

    @guarded("drop a session's console answers")
    async def drop_console_answers(self: _StoreParts, owner: str) -> int:
        """Delete every answer the session ``owner`` kept (it signed out); returns how many."""
        async with self._transaction() as conn:
            result = await conn.execute(delete(table).where(table.c.owner == owner))
            return int(result.rowcount)

    @guarded("count expired console answers")
    async def count_expired_console_answers(self: _StoreParts, *, now: datetime) -> int:
        """How many kept answers have expired by ``now`` (what a prune would delete)."""
        return await count_expired(self._engine, table, now)

    @guarded("delete expired console answers")
    async def delete_expired_console_answers(self: _StoreParts, *, now: datetime) -> int:
        """Delete the kept answers expired by ``now``; returns how many. One statement on the
        indexed ``expires_at``: the table holds the answers of minutes, not more."""
        return await delete_expired(self._transaction(), table, now)
