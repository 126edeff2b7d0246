"""The store's side of "try now": a retry's wait cut short by a person, and the runners that see it.

A message waiting out its backoff (status ``retrying``, ``next_attempt_at`` later) waits in the
runner that attempted it, in whichever engine that is. When the receiver is back, support
should not have to wait up to ``max_delay`` (ten minutes by default) for the next try, nor can
they resend it (a message still in delivery is not resent: it would arrive twice). So "try now"
moves ``next_attempt_at`` to now in the store, and audits it in the same transaction; the
runners waiting for their destination's retries ask the store every few seconds which of them
are due (``due_retries``), so the engine that holds the message sees it, whichever engine took
the request (``integrator.retry_waits``). The retry keeps its MSH-10 and its attempt count: it
is the next attempt, made earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.audit_chain import append_audit
from integrator.store.codec import dump_json
from integrator.store.failures import guarded
from integrator.store.tables import messages


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def schema(self) -> str | None: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class EarlyRetriesMixin:
    @guarded("try retries now")
    async def try_retries_now(
        self: _StoreParts,
        destination_id: str,
        *,
        now: datetime,
        audit: Mapping[str, Any],
        message_id: str | None = None,
    ) -> list[str]:
        """Make the destination's waiting retries (or the one ``message_id``) due ``now``;
        returns their ids. One audit entry (``audit``: actor, action, target, reason, details;
        ``details`` gains ``messages``, the ids) in the same transaction, when any moved."""
        query = (
            update(messages)
            .where(
                messages.c.destination_id == destination_id,
                messages.c.status == "retrying",
                messages.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
            .returning(messages.c.id)
        )
        if message_id is not None:
            query = query.where(messages.c.id == message_id)
        async with self._transaction() as conn:
            moved = sorted(row.id for row in await conn.execute(query))
            if moved:
                details = {**audit.get("details", {}), "messages": moved}
                row = {**audit, "at": now, "details": dump_json(details)}
                await append_audit(conn, [row], schema=self.schema)
        return moved

    @guarded("read due retries")
    async def due_retries(
        self: _StoreParts, destination_id: str, *, now: datetime
    ) -> dict[str, int]:
        """The destination's retries due by ``now``, each with its attempt count: what a runner
        waiting for some of them compares with the attempt it waits to make."""
        query = select(messages.c.id, messages.c.attempt_count).where(
            messages.c.destination_id == destination_id,
            messages.c.status == "retrying",
            messages.c.next_attempt_at <= now,
        )
        async with self._engine.connect() as conn:
            return {row.id: row.attempt_count for row in await conn.execute(query)}

    @guarded("count waiting retries")
    async def count_waiting_retries(
        self: _StoreParts, destination_id: str, *, now: datetime
    ) -> int:
        """How many of the destination's retries wait for a later time: what "try now" would
        make due (those due already are being attempted, or will be)."""
        query = select(func.count()).where(
            messages.c.destination_id == destination_id,
            messages.c.status == "retrying",
            messages.c.next_attempt_at > now,
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)
