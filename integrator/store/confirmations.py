"""The store's side of the console's one-time confirmations (``integrator.console.once``).

A row is made when a confirm form is shown and claimed when it is posted. The claim is one
conditional UPDATE (``used_at IS NULL``, not expired, the same person and action), so of two
posts of the same form, wherever they arrive (two engines behind a load balancer, two requests
at the same moment), exactly one gets the row; the other reads it and learns who acted, when,
and, once it is done, what came of it. The store knows only the token's hash. What a
confirmation means, and how long one lasts, is decided by the caller.

An expired row goes when the next confirmation is kept (``add_confirmation``), and with the
daily prune (``delete_expired_confirmations``, ``integrator.lifecycle.prune``), so the rows of
a console nobody uses any more do not stay for ever either.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.expiring import count_expired, delete_expired, expired
from integrator.store.failures import guarded
from integrator.store.tables import console_confirmations as table


@dataclass(frozen=True, slots=True)
class ConfirmationRecord:
    """One confirm form: whose, for what, and, once posted, when, by whom and its result.

    ``result`` is None until the action finished (or while nobody posted the form).
    """

    id: str
    person_id: str
    action: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    actor: str | None
    finished_at: datetime | None
    result: Any

    @property
    def used(self) -> bool:
        return self.used_at is not None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def _record(row: Row[Any]) -> ConfirmationRecord:
    return ConfirmationRecord(
        id=row.id,
        person_id=row.person_id,
        action=row.action,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        actor=row.actor,
        finished_at=row.finished_at,
        result=None if row.result is None else json.loads(row.result),
    )


class ConfirmationsMixin:
    @guarded("keep a confirmation")
    async def add_confirmation(
        self: _StoreParts,
        confirmation_id: str,
        *,
        token_hash: str,
        person_id: str,
        action: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Keep a new, unused confirmation; expired ones go in the same transaction, so the
        table holds no more than the confirm forms of the last ``expires_at - now``."""
        async with self._transaction() as conn:
            await conn.execute(delete(table).where(expired(table, now)))
            await conn.execute(
                insert(table).values(
                    id=confirmation_id,
                    token_hash=token_hash,
                    person_id=person_id,
                    action=action,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    @guarded("claim a confirmation")
    async def claim_confirmation(
        self: _StoreParts,
        token_hash: str,
        *,
        person_id: str,
        action: str,
        actor: str,
        now: datetime,
    ) -> tuple[bool, ConfirmationRecord | None]:
        """Mark the confirmation used, if nobody did before: ``(True, it)`` for the one caller
        that did; ``(False, it)`` when it was used already; ``(False, None)`` when there is no
        such unexpired confirmation of this person for this action."""
        async with self._transaction() as conn:
            claimed = await conn.execute(
                update(table)
                .where(
                    table.c.token_hash == token_hash,
                    table.c.person_id == person_id,
                    table.c.action == action,
                    table.c.expires_at > now,
                    table.c.used_at.is_(None),
                )
                .values(used_at=now, actor=actor)
            )
            row = (
                await conn.execute(
                    select(table).where(
                        table.c.token_hash == token_hash,
                        table.c.person_id == person_id,
                        table.c.action == action,
                        table.c.expires_at > now,
                    )
                )
            ).first()
        return bool(claimed.rowcount), None if row is None else _record(row)

    @guarded("record what a confirmation did")
    async def finish_confirmation(
        self: _StoreParts, confirmation_id: str, result: Any, *, now: datetime
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                update(table)
                .where(table.c.id == confirmation_id)
                .values(
                    finished_at=now,
                    result=json.dumps(result, ensure_ascii=False, sort_keys=True, default=str),
                )
            )

    @guarded("release a confirmation")
    async def release_confirmation(self: _StoreParts, confirmation_id: str) -> None:
        """Unused again: the action was refused before it did anything, so the same form may
        be posted again (with the reason it lacked, say)."""
        async with self._transaction() as conn:
            await conn.execute(
                update(table)
                .where(table.c.id == confirmation_id, table.c.finished_at.is_(None))
                .values(used_at=None, actor=None)
            )

    @guarded("read a confirmation")
    async def get_confirmation(
        self: _StoreParts, confirmation_id: str, *, person_id: str, now: datetime
    ) -> ConfirmationRecord | None:
        """The person's own unexpired confirmation; another person's is None, as an unknown."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table).where(
                        table.c.id == confirmation_id,
                        table.c.person_id == person_id,
                        table.c.expires_at > now,
                    )
                )
            ).first()
        return None if row is None else _record(row)

    @guarded("count expired confirmations")
    async def count_expired_confirmations(self: _StoreParts, *, now: datetime) -> int:
        """How many confirmations have expired by ``now`` (what a prune would delete)."""
        return await count_expired(self._engine, table, now)

    @guarded("delete expired confirmations")
    async def delete_expired_confirmations(self: _StoreParts, *, now: datetime) -> int:
        """Delete the confirmations expired by ``now``, used or not (their result pages are
        gone with them, as ``get_confirmation`` no longer reads them); returns how many. One
        statement on the indexed ``expires_at``: the table holds the forms of hours, not more."""
        return await delete_expired(self._transaction(), table, now)
