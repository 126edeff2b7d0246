"""The store's side of late answers: kept with the message they answer, for support to see.

An answer that came after the answer that settled its message (``destinations.worker``'s
``LateAnswer``: an ``AR`` after the ``AA`` that delivered it) changes nothing about the message:
the first answer stood, and the hospital's interface engine has had the message. But support,
looking at that message when a GP calls, must see that the hospital said something else
after; it was only in the engine's log and a metric. A row per such answer: when, its MSA-1,
how it was met. Not its text: the hospital's words may be about the patient, and the sealed
copies of what a receiver said are the attempts' to keep and prune.

Written off the delivery path (``integrator.late_answers.LateAnswerKeeper``), and only for a
negative answer (``AE``, ``AR``, ``CE``, ``CR``): a receiver that refuses what it took.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.failures import guarded
from integrator.store.tables import late_answers

How = Literal["skipped", "dropped"]


@dataclass(frozen=True, slots=True)
class LateAnswerRecord:
    """One answer that came for a message after its answer."""

    received_at: datetime
    ack_code: str
    """Its MSA-1 as the receiver sent it (at most 8 characters kept)."""
    how: How
    """``skipped``: it came while the next message waited for its own answer; ``dropped``: it
    came with nothing waiting, and the connection was closed for it at the next send."""


class _StoreParts(Protocol):
    _engine: AsyncEngine

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class LateAnswersMixin:
    @guarded("record a late answer")
    async def record_late_answer(
        self: _StoreParts, message_id: str, answer: LateAnswerRecord
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                insert(late_answers).values(
                    message_id=message_id,
                    received_at=answer.received_at,
                    ack_code=answer.ack_code[:8],
                    how=answer.how,
                )
            )

    @guarded("read late answers")
    async def late_answers_of(self: _StoreParts, message_id: str) -> list[LateAnswerRecord]:
        """The message's late answers, oldest first."""
        query = (
            select(late_answers.c.received_at, late_answers.c.ack_code, late_answers.c.how)
            .where(late_answers.c.message_id == message_id)
            .order_by(late_answers.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [LateAnswerRecord(r.received_at, r.ack_code, r.how) for r in rows]
