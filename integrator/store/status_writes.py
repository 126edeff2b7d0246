"""Messages moved to a status with an error text, each sealed on its own.

The text may quote a receiver, so it is sealed per message (``codec.seal_last_error``: the
message's id is in the sealed value's associated data). A removal's dead letters and any change
made with its audit entry (``Store.set_status_audited``) write them alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from integrator.store.codec import seal_last_error
from integrator.store.sealing import Sealer
from integrator.store.tables import messages


async def set_each(
    conn: AsyncConnection,
    message_ids: Sequence[str],
    values: Mapping[str, Any],
    last_error: str | None,
    sealer: Sealer,
) -> list[str]:
    """Give each of ``message_ids`` ``values`` and its own sealing of ``last_error``, in
    ``conn``'s transaction; the ids of those that do not exist (none written for them)."""
    missing: list[str] = []
    for message_id in message_ids:
        result = await conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values({**values, "last_error": seal_last_error(last_error, message_id, sealer)})
        )
        if result.rowcount == 0:
            missing.append(message_id)
    return missing
