"""Recovery re-publishes the store's pending messages a chunk at a time (``Outbox.pending_chunks``).

After the broker was away for hours, what recovery publishes again is every message accepted
meanwhile; loaded at once, that was the memory the transport no longer holds while the broker
is away (``test_unconfirmed_by_id.py``), all at the reconnect. On a real SQLite store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from integrator.store import MessageRecord, Store
from integrator.transport.outbox import Outbox
from tests.store.factories import make_event, make_message

NOORD, ELDERS = "ziekenhuis-noord", "elders"


async def test_pending_messages_come_a_chunk_at_a_time_oldest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        made = []
        for n in range(10):
            message = make_message(destination_id=NOORD, payload=f"MSG {n}".encode())
            unconfigured = make_message(destination_id=ELDERS, payload=b"MSG elsewhere")
            assert await store.accept_event(make_event(), [message, unconfigured])
            made.append(message.id)
        await store.set_status(made[4], "delivered")  # no longer owed

        asked: list[int | None] = []
        load = store.pending_messages

        async def counted(
            *args: Any, ids: Sequence[str] | None = None, **kwargs: Any
        ) -> list[MessageRecord]:
            if not asked:  # delivered after its id was read, before its chunk is loaded
                await store.set_status(made[8], "delivered")
            asked.append(None if ids is None else len(ids))
            return await load(*args, ids=ids, **kwargs)

        monkeypatch.setattr(store, "pending_messages", counted)
        chunks = [c async for c in Outbox(store, lambda: {NOORD}).pending_chunks(size=3)]
        assert [[m.message_id for m in c] for c in chunks] == [
            made[0:3],
            [made[3], made[5], made[6]],
            [made[7], made[9]],
        ]
        assert all(m.destination_id == NOORD for c in chunks for m in c)
        assert asked == [3, 3, 3]  # never every pending message at once
    finally:
        await store.close()
