"""The store's side of paused destinations: which are paused, and when each was last resumed.

A message waiting behind a paused destination (``enabled: false``) cannot be tried, so its
``max_age`` must not run out meanwhile: it counts from the destination's last resume at the
earliest (``destinations.retry.age_start``). The engine learns of a pause or a resume only by
seeing the destination's definition change (a command, the API, the console or a hand edit,
perhaps while it was stopped), so it tells the store what it sees each time it applies
definitions, and the store keeps the transitions: a row is written when a destination goes
from enabled to paused or back, never per message and never on the delivery path. In the store,
not in memory, so a restart (or another engine on the same store) knows the same resume.

Engines sharing the store may see the same change at once: the writes are conditional, so of
two engines seeing one resume, the first records it and the second reads that same moment.

``destination_pause`` reads one destination's row back for the tools that show a destination:
support reads a dead letter's age from its last resume. A resume clears ``paused_at``, so
the moment of a pause is known only while the destination is still paused; who paused or
resumed it, and why, is in its revision history, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.failures import guarded
from integrator.store.tables import destination_pauses


@dataclass(frozen=True, slots=True)
class DestinationPause:
    """A destination's pause row as an engine last saw it change."""

    destination_id: str
    paused_at: datetime | None
    """Since when it is paused (when an engine first saw it so); None: not paused now."""
    resumed_at: datetime | None
    """When an engine last saw it go from paused to enabled; None: never seen resumed."""


class _StoreParts(Protocol):
    _engine: AsyncEngine

    @property
    def backend(self) -> str: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class DestinationPausesMixin:
    @guarded("record paused destinations")
    async def observe_enabled(
        self: _StoreParts, enabled: Mapping[str, bool], *, now: datetime
    ) -> dict[str, datetime]:
        """Record which of these destinations are paused now (``enabled[id]`` False); returns
        when each that was ever resumed was last resumed.

        A destination seen paused gets ``paused_at`` (if it had none); one seen enabled that had
        ``paused_at`` is resumed at ``now``. A destination never seen paused has no resume.
        """
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        table = destination_pauses
        ids = list(enabled)
        async with self._transaction() as conn:
            rows = await conn.execute(
                select(table.c.destination_id, table.c.paused_at).where(
                    table.c.destination_id.in_(ids)
                )
            )
            paused = {row.destination_id: row.paused_at is not None for row in rows}
            for destination_id, on in enabled.items():
                if not on and not paused.get(destination_id, False):
                    await conn.execute(
                        dialect_insert(table)
                        .values(destination_id=destination_id, paused_at=now)
                        .on_conflict_do_update(
                            index_elements=[table.c.destination_id],
                            set_={"paused_at": now},
                            where=table.c.paused_at.is_(None),
                        )
                    )
                elif on and paused.get(destination_id, False):
                    await conn.execute(
                        update(table)
                        .where(table.c.destination_id == destination_id)
                        .where(table.c.paused_at.is_not(None))
                        .values(paused_at=None, resumed_at=now)
                    )
            rows = await conn.execute(
                select(table.c.destination_id, table.c.resumed_at).where(
                    table.c.destination_id.in_(ids), table.c.resumed_at.is_not(None)
                )
            )
            return {row.destination_id: row.resumed_at for row in rows}

    @guarded("read a destination's pause")
    async def destination_pause(self: _StoreParts, destination_id: str) -> DestinationPause | None:
        """The destination's pause row; None when no engine ever saw it paused.

        Read when a destination is shown, never on the delivery path (the runner gets its
        resume from ``observe_enabled``).
        """
        table = destination_pauses
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.paused_at, table.c.resumed_at).where(
                        table.c.destination_id == destination_id
                    )
                )
            ).first()
        if row is None:
            return None
        return DestinationPause(destination_id, row.paused_at, row.resumed_at)
