"""The hot write paths (accepting events, recording attempts) store exactly what the general
SQLAlchemy path stores: the same rows, column for column, as the driver holds them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from integrator.store import (
    AttemptRecord,
    MessageStatus,
    Store,
    StoreError,
    StoreUnavailable,
    UnknownMessage,
)
from integrator.store.sealing import MAGIC, TEXT_MAGIC, DataKey, Sealer
from integrator.store.store import AttemptUpdate
from tests.store.conftest import Site, postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message, new_id
from tests.store.helpers import raw_connection

KEY = DataKey("hot", bytes(range(32)))
ZERO = {status.value: 0 for status in MessageStatus}


@asynccontextmanager
async def two_sites(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Site, Site]]:
    if backend == "sqlite":
        yield (
            Site("sqlite", f"sqlite:///{tmp_path / 'hot.db'}"),
            Site("sqlite", f"sqlite:///{tmp_path / 'general.db'}"),
        )
        return
    async with postgres_site() as hot, postgres_site() as general:
        yield hot, general


def general_path(store: Store) -> Store:
    """The store with its hot paths switched off: everything through SQLAlchemy, as before."""
    store._hot = None
    return store


def workload() -> tuple[list[Any], list[Any], list[list[AttemptUpdate]]]:
    """Two accept batches (a duplicate within one, a repeat of a stored event, an event with
    two messages, warnings, a test message, a resend) and attempt batches that touch one
    message twice (applied in order: the last update wins)."""
    first = [make_event() for _ in range(3)]
    messages = [[make_message()] for _ in first]
    messages[1].append(
        make_message(destination_id="lab", warnings=("PID-5 cut to 50", "café"), is_test=True)
    )
    batch_one = [(event, msgs) for event, msgs in zip(first, messages, strict=True)]
    batch_one.append((first[0], [make_message()]))  # the same event again: skipped
    resend = make_message(resend_of=messages[0][0].id, control_id=messages[0][0].control_id)
    batch_two = [(first[2], [make_message()]), (make_event(source="cli"), [resend])]
    target, other = messages[0][0].id, messages[1][1].id
    nack = b"MSH|^~\\&|HIS|ZNOORD|||20261120||ACK|a1|P|2.5.1\rMSA|AE|x|busy\r"

    def attempt(message_id: str, number: int, outcome: str, **extra: Any) -> AttemptRecord:
        return AttemptRecord(
            message_id=message_id,
            number=number,
            started_at=T0 + timedelta(seconds=number),
            duration_ms=12.5 * number,
            outcome=outcome,
            **extra,
        )

    retry_at = T0 + timedelta(minutes=2)
    retry = attempt(target, 1, "retry", ack_code="AE", ack_bytes=nack, error="AE: busy")
    delivered = attempt(other, 1, "delivered", ack_code="AA", ack_bytes=b"MSH|ack")
    again = attempt(target, 2, "delivered", ack_code="AA", ack_bytes=b"MSH|ack2")
    failed = attempt(resend.id, 1, "failed", error="refused")
    attempts: list[list[AttemptUpdate]] = [
        [
            (retry, "retrying", retry_at, "AE: busy"),
            (delivered, "delivered", None, None),
            (again, "delivered", None, None),
        ],
        [(failed, "retrying", retry_at, "refused")],
    ]
    return batch_one, batch_two, attempts


async def run_workload(store: Store, work: tuple[list[Any], list[Any], Any]) -> list[list[bool]]:
    batch_one, batch_two, attempts = work
    accepted = [await store.accept_events(batch_one), await store.accept_events(batch_two)]
    for batch in attempts:
        await store.record_attempts(batch)
    return accepted


async def stored_rows(site: Site) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as the driver returns it (SQLite: datetimes as the text stored)."""
    order = {"events": "id", "messages": "seq", "attempts": "message_id, number"}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with raw_connection(site) as conn:
        for table, key in order.items():
            result = await conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {key}")
            rows[table] = [tuple(row) for row in result]
    return rows


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_the_hot_paths_store_what_the_general_path_stores(
    backend: str, tmp_path: Path
) -> None:
    work = workload()
    async with two_sites(backend, tmp_path) as (hot_site, general_site):
        hot = await hot_site.open(StepClock())
        general = general_path(await general_site.open(StepClock()))
        try:
            accepted = await run_workload(hot, work)
            assert accepted == [[True, True, True, False], [False, True]]
            assert accepted == await run_workload(general, work)
            for store in (hot, general):  # every event stored already: nothing new
                assert await store.accept_events(work[0]) == [False] * 4
        finally:
            await hot.close()
            await general.close()
        hot_rows, general_rows = await stored_rows(hot_site), await stored_rows(general_site)
    assert [len(hot_rows[t]) for t in ("events", "messages", "attempts")] == [4, 5, 4]
    assert hot_rows == general_rows


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_the_hot_paths_seal_the_same_columns(backend: str, tmp_path: Path) -> None:
    work = workload()
    async with two_sites(backend, tmp_path) as (hot_site, general_site):
        hot = await hot_site.open(StepClock(), sealer=Sealer([KEY]))
        general = general_path(await general_site.open(StepClock(), sealer=Sealer([KEY])))
        try:
            await run_workload(hot, work)
            await run_workload(general, work)
            # What the store reads back (opening every sealed value with its row) is the same.
            for store in (hot, general):
                messages = await store.list_messages(limit=100)
                assert len(messages) == 5
            assert [m.payload for m in await hot.list_messages(limit=100)] == [
                m.payload for m in await general.list_messages(limit=100)
            ]
            target = work[2][0][0][0].message_id
            assert await hot.list_attempts(target) == await general.list_attempts(target)
            assert await hot.get_message(target) == await general.get_message(target)
        finally:
            await hot.close()
            await general.close()
        hot_rows, general_rows = await stored_rows(hot_site), await stored_rows(general_site)
    for table, rows in hot_rows.items():
        for hot_row, general_row in zip(rows, general_rows[table], strict=True):
            for mine, theirs in zip(hot_row, general_row, strict=True):
                # Sealed values differ by their random nonce; all else is equal.
                if _sealed(theirs):
                    assert _sealed(mine)
                else:
                    assert mine == theirs


def _sealed(value: object) -> bool:
    if isinstance(value, bytes | memoryview):
        return bytes(value).startswith(MAGIC)
    return isinstance(value, str) and value.startswith(TEXT_MAGIC)


async def test_an_attempt_for_an_unknown_message_writes_nothing(store: Store) -> None:
    message = make_message()
    await store.accept_event(make_event(), [message])
    known = AttemptRecord(message.id, 1, T0, 1.0, "delivered", ack_code="AA")
    unknown = AttemptRecord(new_id(), 1, T0, 1.0, "delivered", ack_code="AA")
    with pytest.raises(UnknownMessage):
        await store.record_attempts(
            [(known, "delivered", None, None), (unknown, "delivered", None, None)]
        )
    assert await store.list_attempts(message.id) == []
    stored = await store.get_message(message.id)
    assert stored is not None and stored.status == "queued"


async def test_sqlite_writer_waits_for_another_process_holding_the_lock(tmp_path: Path) -> None:
    """Another process's write transaction makes the hot path wait (busy timeout), not fail."""
    site = Site("sqlite", f"sqlite:///{tmp_path / 'locked.db'}")
    store = await site.open(StepClock())
    other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        accepting = asyncio.create_task(store.accept_event(make_event(), [make_message()]))
        await asyncio.sleep(0.3)
        assert not accepting.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(accepting, 10) is True
    finally:
        other.close()
        await store.close()


async def test_a_cancelled_hot_write_keeps_the_write_turn_until_it_is_done(
    tmp_path: Path,
) -> None:
    """Cancelling the caller does not let the next writer in while the thread still writes."""
    site = Site("sqlite", f"sqlite:///{tmp_path / 'cancel.db'}")
    store = await site.open(StepClock())
    other = sqlite3.connect(tmp_path / "cancel.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        event = make_event()
        accepting = asyncio.create_task(store.accept_event(event, [make_message()]))
        await asyncio.sleep(0.2)
        accepting.cancel()
        await asyncio.sleep(0.1)
        assert not accepting.done()  # still holding the turn: the thread waits on the lock
        other.execute("COMMIT")
        with pytest.raises(asyncio.CancelledError):
            await accepting
        # The transaction itself went through: the caller was told nothing, not a lie.
        assert await store.get_event(event.id) is not None
        assert await store.accept_event(make_event(), [make_message()]) is True
    finally:
        other.close()
        await store.close()


@pytest.mark.postgres
async def test_a_value_too_long_for_its_column_is_refused_not_cut() -> None:
    """PostgreSQL refuses a value longer than its VARCHAR column; the hot paths must not cast
    it to the column's length first (an explicit cast would cut it silently)."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            too_long = make_message(destination_id="d" * 65)
            with pytest.raises(StoreError):
                await store.accept_events([(make_event(), [too_long])])
            message = make_message()
            await store.accept_event(make_event(), [message])
            long_code = AttemptRecord(message.id, 1, T0, 1.0, "delivered", ack_code="A" * 9)
            with pytest.raises(StoreError):
                await store.record_attempts([(long_code, "delivered", None, None)])
            assert await store.list_attempts(message.id) == []
            assert await store.count_by_status() == {**ZERO, "queued": 1}
        finally:
            await store.close()


async def test_closing_finishes_the_queued_write_and_a_later_write_reopens(tmp_path: Path) -> None:
    """As with SQLAlchemy's disposed pool: close() loses nothing handed in, and the store can
    still write afterwards (on a new connection)."""
    site = Site("sqlite", f"sqlite:///{tmp_path / 'closing.db'}")
    store = await site.open(StepClock())
    first, second = make_event(), make_event()
    accepting = asyncio.create_task(store.accept_event(first, [make_message()]))
    await asyncio.sleep(0)  # the write is handed to the writer thread
    await store.close()
    assert accepting.done() and accepting.result() is True
    try:
        assert await store.accept_event(second, [make_message()]) is True
    finally:
        await store.close()
    reopened = await site.open(StepClock())
    try:
        for event in (first, second):
            assert await reopened.get_event(event.id) is not None
    finally:
        await reopened.close()


@pytest.mark.postgres
async def test_a_kept_postgres_connection_found_broken_is_replaced() -> None:
    """The hot paths keep a pooled connection; when the server drops it, one call fails as
    unavailable (nothing written) and the next one works on a fresh connection."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            assert await store.accept_event(make_event(), [make_message()]) is True
            kept = store._hot._accepting.raw  # type: ignore[union-attr]
            async with raw_connection(site) as conn:
                await conn.exec_driver_sql(f"SELECT pg_terminate_backend({kept.get_server_pid()})")
            event = make_event()
            with pytest.raises(StoreUnavailable):
                await store.accept_event(event, [make_message()])
            assert await store.get_event(event.id) is None
            assert await store.accept_event(event, [make_message()]) is True
            assert store._hot._accepting.raw is not kept  # type: ignore[union-attr]
        finally:
            await store.close()
