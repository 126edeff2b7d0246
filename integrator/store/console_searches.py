"""The store's side of the console's kept searches (``integrator.kept_searches``).

A row is one search a person made in a console form, kept so that its pages are reached by GET
with a handle in the address instead of what was typed. The store knows only the handle's
hash, and a BSN only as its keyed hash (null for a search without one). The terms as typed (a
name, a birth date, a provider's free text: patient data) are sealed with the data keys, as
payloads are (``terms``, bound to the row's id; ``rotation.SEALED_COLUMNS``). Every read names the
person as well as the handle and asks for an unexpired row, so another person's handle, or an
expired one, reads as no row at all. How long a search lasts is the caller's to decide.

An expired row goes when the next search is kept (``add_console_search``) and at the daily
prune (``delete_expired_console_searches``, ``integrator.lifecycle.prune``), so the table holds
no more than the searches of the last minutes, even in a console nobody searches in any more.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.expiring import count_expired, delete_expired
from integrator.store.failures import guarded
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import console_searches as table


@dataclass(frozen=True, slots=True)
class ConsoleSearchRecord:
    """One kept search: whose, of what, its terms and the BSN's keyed hash (None: no BSN)."""

    id: str
    person_id: str
    kind: str
    terms: dict[str, str]
    bsn_hash: str | None
    created_at: datetime
    expires_at: datetime


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def terms_aad(search_id: str) -> bytes:
    """What a kept search's terms are sealed to: their column and row (``rotation`` too)."""
    return aad("console_searches", "terms", search_id)


def _record(row: Row[Any], sealer: Sealer) -> ConsoleSearchRecord:
    terms = json.loads(sealer.open_text(row.terms, terms_aad(row.id)))
    return ConsoleSearchRecord(
        id=row.id,
        person_id=row.person_id,
        kind=row.kind,
        terms={str(k): str(v) for k, v in terms.items()},
        bsn_hash=row.bsn_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class ConsoleSearchesMixin:
    @guarded("keep a search")
    async def add_console_search(
        self: _StoreParts,
        search_id: str,
        *,
        person_id: str,
        kind: str,
        terms: dict[str, str],
        bsn_hash: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Keep a search; expired ones go in the same transaction."""
        async with self._transaction() as conn:
            await conn.execute(delete(table).where(table.c.expires_at <= now))
            await conn.execute(
                insert(table).values(
                    id=search_id,
                    person_id=person_id,
                    kind=kind,
                    terms=self._sealer.seal_text(
                        json.dumps(terms, ensure_ascii=False, sort_keys=True), terms_aad(search_id)
                    ),
                    bsn_hash=bsn_hash,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    @guarded("read a kept search")
    async def get_console_search(
        self: _StoreParts, search_id: str, *, person_id: str, kind: str, now: datetime
    ) -> ConsoleSearchRecord | None:
        """The person's own unexpired search of ``kind``; anything else is None."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table).where(
                        table.c.id == search_id,
                        table.c.person_id == person_id,
                        table.c.kind == kind,
                        table.c.expires_at > now,
                    )
                )
            ).first()
        return None if row is None else _record(row, self._sealer)

    @guarded("count expired kept searches")
    async def count_expired_console_searches(self: _StoreParts, *, now: datetime) -> int:
        """How many kept searches have expired by ``now`` (what a prune would delete)."""
        return await count_expired(self._engine, table, now)

    @guarded("delete expired kept searches")
    async def delete_expired_console_searches(self: _StoreParts, *, now: datetime) -> int:
        """Delete the kept searches expired by ``now``; returns how many. One statement on the
        indexed ``expires_at``: the table holds the searches of minutes, not more."""
        return await delete_expired(self._transaction(), table, now)
