"""The store's side of saved searches: rows owned by one person each.

Every read and delete names the owner as well as the id, so a query can never reach another
person's saved search, whatever id it is given. The store knows no rule about what terms may
be saved; it only keeps the most a person may have at once, counted under a lock on the
person's row so that two saves at the same moment cannot both slip past it.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.failures import guarded
from integrator.store.tables import people, saved_searches


@dataclass(frozen=True, slots=True)
class SavedSearchRecord:
    id: str
    person_id: str
    name: str
    terms: dict[str, str]
    created_at: datetime


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


def _record(row: Row[Any]) -> SavedSearchRecord:
    terms = json.loads(row.terms)
    return SavedSearchRecord(
        id=row.id,
        person_id=row.person_id,
        name=row.name,
        terms={str(k): str(v) for k, v in terms.items()},
        created_at=row.created_at,
    )


class SavedSearchesMixin:
    @guarded("save a search")
    async def add_saved_search(
        self: _StoreParts,
        search_id: str,
        *,
        person_id: str,
        name: str,
        terms: dict[str, str],
        now: datetime,
        most: int,
    ) -> bool:
        """Store a saved search unless the person has ``most`` already (then False).

        Raises ``Conflict`` (nothing written) when the person has one by that name.
        """
        async with self._transaction() as conn:
            # PostgreSQL: one save per person at a time (SQLite has one writer anyway).
            await conn.execute(
                select(people.c.id).where(people.c.id == person_id).with_for_update()
            )
            count = (
                await conn.execute(
                    select(func.count())
                    .select_from(saved_searches)
                    .where(saved_searches.c.person_id == person_id)
                )
            ).scalar_one()
            if count >= most:
                return False
            await conn.execute(
                insert(saved_searches).values(
                    id=search_id,
                    person_id=person_id,
                    name=name,
                    terms=json.dumps(terms, ensure_ascii=False, sort_keys=True),
                    created_at=now,
                )
            )
        return True

    @guarded("list saved searches")
    async def list_saved_searches(self: _StoreParts, person_id: str) -> list[SavedSearchRecord]:
        """The person's saved searches, by name."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(saved_searches)
                .where(saved_searches.c.person_id == person_id)
                .order_by(saved_searches.c.name, saved_searches.c.id)
            )
            return [_record(row) for row in rows]

    @guarded("read a saved search")
    async def get_saved_search(
        self: _StoreParts, person_id: str, search_id: str
    ) -> SavedSearchRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(saved_searches).where(
                        saved_searches.c.id == search_id,
                        saved_searches.c.person_id == person_id,
                    )
                )
            ).first()
        return None if row is None else _record(row)

    @guarded("delete a saved search")
    async def delete_saved_search(self: _StoreParts, person_id: str, search_id: str) -> bool:
        """Delete the person's saved search; False when they have none with that id."""
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(saved_searches).where(
                    saved_searches.c.id == search_id,
                    saved_searches.c.person_id == person_id,
                )
            )
        return bool(result.rowcount)
