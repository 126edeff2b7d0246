"""The hot writes warmed up at start (``Store.warm_up``): the first batch of events and of
attempts finds its connections open and its statements prepared, as the later ones do, and
the warm-up itself writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integrator.store import AttemptRecord, Store
from tests.store.conftest import Site, postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message


async def _prepared(conn: Any) -> list[str]:
    """The statements the server holds prepared for this connection's session."""
    rows = await conn.fetch("SELECT statement FROM pg_prepared_statements ORDER BY statement")
    return [row[0] for row in rows]


async def _first_batches(store: Store) -> None:
    """An event with its message accepted, its attempt recorded, its ZD number's history
    read and a token looked up: what the first events after a start do."""
    event, message = make_event(), make_message()
    assert await store.accept_events([(event, [message])]) == [True]
    attempt = AttemptRecord(message.id, 1, T0, 1.0, "delivered", ack_code="AA")
    await store.record_attempts([(attempt, "delivered", None, None)])
    await store.zd_history([event.zd_number])
    assert await store.get_token(token_hash="0" * 64) is None


@pytest.mark.postgres
async def test_postgres_first_batches_find_their_connections_and_statements_ready() -> None:
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            hot: Any = store._hot
            await store.warm_up()
            kept = [hot._accepting.raw, hot._recording.raw]
            kept += [reader.raw for reader in hot._readers if reader.raw is not None]
            assert None not in kept[:2] and len(kept) == 3  # one reading connection
            ready = [await _prepared(conn) for conn in kept]
            assert all(ready)

            await _first_batches(store)

            # The same connections, and none had a statement to prepare.
            after = [hot._accepting.raw, hot._recording.raw]
            after += [reader.raw for reader in hot._readers if reader.raw is not None]
            assert after == kept
            assert [await _prepared(conn) for conn in kept] == ready
        finally:
            await store.close()


async def test_sqlite_first_batches_find_their_statements_built(tmp_path: Path) -> None:
    store = await Site("sqlite", f"sqlite:///{tmp_path / 'store.db'}").open(StepClock())
    try:
        hot: Any = store._hot
        await store.warm_up()
        built = dict(hot._prepared)
        assert sorted(name for name, _ in built) == ["attempt", "event", "messages", "update"]
        await _first_batches(store)
        assert hot._prepared == built  # nothing built anew for the first batches
    finally:
        await store.close()


async def test_warming_up_writes_nothing(store: Store) -> None:
    event, message = make_event(), make_message()
    await store.accept_events([(event, [message])])
    attempt = AttemptRecord(message.id, 1, T0, 1.0, "retry", error="refused")
    await store.record_attempts([(attempt, "retrying", T0, "refused")])
    before = (await store.count_by_status(), await store.get_message(message.id))

    await store.warm_up()
    await store.warm_up()  # as often as it is called

    assert (await store.count_by_status(), await store.get_message(message.id)) == before
    assert await store.list_attempts(message.id) == [attempt]
    assert [e.id for e in await store.list_events()] == [event.id]
