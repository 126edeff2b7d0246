"""Resend families in SQL: each resend carries its family's root (``messages.family_root``).

A resend's ``family_root`` is the first message of its family, written once with the resend
(revision 0024); a message that is not a resend has none and is its own root. So a family is
one indexed look-up, and the rule ``deadletter.family`` keeps in Python (a dead letter is
resolved when a member made after it was delivered) is one ``NOT EXISTS``: the dead letters
page, the dashboard's figures and the metric then read the open dead letters only, however
many resolved ones the history holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from integrator.store.records import MessageStatus
from integrator.store.tables import messages


async def family_roots(conn: AsyncConnection, message_ids: Sequence[str]) -> dict[str, str]:
    """The root of each given message's family: its ``family_root``, or itself when it is not
    a resend. A resend of one of them takes that root, so the whole family shares one."""
    rows = await conn.execute(
        select(messages.c.id, func.coalesce(messages.c.family_root, messages.c.id)).where(
            messages.c.id.in_(sorted(set(message_ids)))
        )
    )
    return {message_id: root for message_id, root in rows}


def no_later_member_delivered() -> ColumnElement[bool]:
    """No member of the message's family made after it was delivered: a dead letter that is
    not resolved (``deadletter.family``).

    The root is made before every other member of its family, so the members made after a
    message are exactly those sharing its root with a greater ``seq``; the root itself never
    is one. Served by the partial index on ``(family_root, status, seq)``.
    """
    later = messages.alias("later")
    return ~(
        select(later.c.id)
        .where(
            later.c.family_root == func.coalesce(messages.c.family_root, messages.c.id),
            later.c.status == MessageStatus.DELIVERED.value,
            later.c.seq > messages.c.seq,
        )
        .exists()
    )
