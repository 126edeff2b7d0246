"""The store's side of destination versioning: one row per change, numbered per destination.

Kept apart from the message tables' code because it changes for other reasons (operators, not
delivery). The whole definition is stored with each revision, so any revision can be restored.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.codec import dump_json, load_json
from integrator.store.failures import guarded
from integrator.store.tables import destination_revisions


@dataclass(frozen=True, slots=True)
class DestinationRevision:
    destination_id: str
    revision: int
    at: datetime
    actor: str
    action: str
    config: dict[str, Any] | None  # None: the destination was removed
    diff: str
    reason: str | None


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def _now(self) -> datetime: ...


class DestinationHistoryMixin:
    @guarded("record a destination change")
    async def add_destination_revision(
        self: _StoreParts,
        destination_id: str,
        *,
        actor: str,
        action: str,
        config: dict[str, Any] | None,
        diff: str,
        reason: str | None = None,
    ) -> int:
        """Append a revision; returns its number (1, 2, …) for this destination."""
        async with self._transaction() as conn:
            current = await conn.scalar(
                select(func.coalesce(func.max(destination_revisions.c.revision), 0)).where(
                    destination_revisions.c.destination_id == destination_id
                )
            )
            number = int(current or 0) + 1
            await conn.execute(
                insert(destination_revisions).values(
                    destination_id=destination_id,
                    revision=number,
                    at=self._now(),
                    actor=actor,
                    action=action,
                    config=None if config is None else dump_json(config),
                    diff=diff,
                    reason=reason,
                )
            )
        return number

    @guarded("record a destination change")
    async def add_destination_revision_if_changed(
        self: _StoreParts,
        destination_id: str,
        *,
        actor: str,
        action: str,
        config: dict[str, Any],
        diff: str,
    ) -> int | None:
        """Append a revision unless the last one holds this exact definition (None then).

        The check and the insert share one transaction, so engines recording the same file at
        once record it once: the later one sees the earlier's row, or loses on the unique
        (destination, revision) index and gets ``Conflict``.
        """
        async with self._transaction() as conn:
            last = (
                await conn.execute(
                    select(destination_revisions.c.revision, destination_revisions.c.config)
                    .where(destination_revisions.c.destination_id == destination_id)
                    .order_by(destination_revisions.c.revision.desc())
                    .limit(1)
                )
            ).first()
            if last is not None and last.config is not None and load_json(last.config) == config:
                return None
            number = 1 if last is None else int(last.revision) + 1
            await conn.execute(
                insert(destination_revisions).values(
                    destination_id=destination_id,
                    revision=number,
                    at=self._now(),
                    actor=actor,
                    action=action,
                    config=dump_json(config),
                    diff=diff,
                    reason=None,
                )
            )
        return number

    @guarded("read destination history")
    async def list_destination_revisions(
        self: _StoreParts, destination_id: str
    ) -> list[DestinationRevision]:
        """Oldest first."""
        query = (
            select(destination_revisions)
            .where(destination_revisions.c.destination_id == destination_id)
            .order_by(destination_revisions.c.revision)
        )
        async with self._engine.connect() as conn:
            return [_record(row) for row in await conn.execute(query)]

    @guarded("read destination history")
    async def get_destination_revision(
        self: _StoreParts, destination_id: str, revision: int
    ) -> DestinationRevision | None:
        query = select(destination_revisions).where(
            destination_revisions.c.destination_id == destination_id,
            destination_revisions.c.revision == revision,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _record(row)


def _record(row: Any) -> DestinationRevision:
    return DestinationRevision(
        destination_id=row.destination_id,
        revision=row.revision,
        at=row.at,
        actor=row.actor,
        action=row.action,
        config=None if row.config is None else load_json(row.config),
        diff=row.diff,
        reason=row.reason,
    )
