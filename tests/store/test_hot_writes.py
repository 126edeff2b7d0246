"""The hot write paths (accepting events, recording attempts) store exactly what the plain
SQLAlchemy form of the same transactions stores: the same rows, column for column, as the driver
holds them. That form is kept here, as the reference (``ReferenceStore``), not in the product."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from integrator.store import (
    AttemptRecord,
    EventRecord,
    MessageStatus,
    NewMessage,
    Store,
    StoreError,
    UnknownMessage,
)
from integrator.store.codec import attempt_row, event_row
from integrator.store.failures import guarded
from integrator.store.sealing import MAGIC, TEXT_MAGIC, DataKey, Sealer
from integrator.store.store import AttemptUpdate, _message_row
from integrator.store.tables import attempts, events, messages
from integrator.store.zd_history import HistoryJudge
from tests.store.conftest import Site, postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message, new_id
from tests.store.helpers import raw_connection
from tests.transport.helpers import eventually

KEY = DataKey("hot", bytes(range(32)))
ZERO = {status.value: 0 for status in MessageStatus}


@asynccontextmanager
async def two_sites(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Site, Site]]:
    if backend == "sqlite":
        yield (
            Site("sqlite", f"sqlite:///{tmp_path / 'hot.db'}"),
            Site("sqlite", f"sqlite:///{tmp_path / 'reference.db'}"),
        )
        return
    async with postgres_site() as hot, postgres_site() as reference:
        yield hot, reference


_UPDATE_AFTER_ATTEMPT = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempt_count=bindparam("b_attempt_count"),
        updated_at=bindparam("b_updated_at"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        last_error=bindparam("b_last_error"),
    )
)


class ReferenceStore(Store):
    """The store with both hot transactions written the plain way: SQLAlchemy Core statements
    built here from the tables, executed in one ``_transaction`` each. The rows are the ones
    the store builds for its hot paths (same sealing, same clock), so any difference in what
    lands in the database comes from how the hot paths write them."""

    @guarded("accept events")
    async def accept_events(
        self,
        batch: Sequence[tuple[EventRecord, Sequence[NewMessage]]],
        *,
        judge: HistoryJudge | None = None,
    ) -> list[bool]:
        # A judged batch is held to this form with the judge's warnings put on its messages
        # beforehand (tests/store/test_zd_history.py).
        assert judge is None, "the reference accepts unjudged batches only"
        if not batch:
            return []
        first_index: dict[str, int] = {}
        for index, (event, _) in enumerate(batch):
            first_index.setdefault(event.id, index)
        now = self._now()
        rows = sorted(
            (
                {**event_row(batch[i][0], self._sealer), "unrouted": not batch[i][1]}
                for i in first_index.values()
            ),
            key=lambda row: str(row["id"]),
        )
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        insert_events = (
            dialect_insert(events)
            .on_conflict_do_nothing(index_elements=[events.c.id])
            .returning(events.c.id)
        )
        next_seq = select(func.coalesce(func.max(messages.c.seq), 0) + 1).scalar_subquery()
        insert_messages = (
            insert(messages)
            if self.backend == "postgresql"
            else insert(messages).values(seq=next_seq)
        )
        async with self._transaction() as conn:
            inserted = set((await conn.execute(insert_events, rows)).scalars())
            message_rows = [
                _message_row(event.id, message, now, self._sealer)
                for index, (event, new_messages) in enumerate(batch)
                if event.id in inserted and first_index[event.id] == index
                for message in new_messages
            ]
            if message_rows:
                await conn.execute(insert_messages, message_rows)
        return [
            event.id in inserted and first_index[event.id] == index
            for index, (event, _) in enumerate(batch)
        ]

    @guarded("record attempts", on_foreign_key=UnknownMessage)
    async def record_attempts(self, batch: Sequence[AttemptUpdate], *, again: bool = False) -> None:
        if not batch:
            return
        updates = [self._attempt_update(*item) for item in batch]
        attempt_rows = [attempt_row(item[0], self._sealer) for item in batch]
        async with self._transaction() as conn:
            await conn.execute(_UPDATE_AFTER_ATTEMPT, updates)
            await conn.execute(insert(attempts), attempt_rows)


async def open_reference(site: Site, sealer: Sealer | None = None) -> Store:
    return await ReferenceStore.open(site.url, clock=StepClock(), schema=site.schema, sealer=sealer)


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
async def test_the_hot_paths_store_what_the_reference_stores(backend: str, tmp_path: Path) -> None:
    work = workload()
    async with two_sites(backend, tmp_path) as (hot_site, reference_site):
        hot = await hot_site.open(StepClock())
        reference = await open_reference(reference_site)
        try:
            accepted = await run_workload(hot, work)
            assert accepted == [[True, True, True, False], [False, True]]
            assert accepted == await run_workload(reference, work)
            for store in (hot, reference):  # every event stored already: nothing new
                assert await store.accept_events(work[0]) == [False] * 4
        finally:
            await hot.close()
            await reference.close()
        hot_rows, reference_rows = await stored_rows(hot_site), await stored_rows(reference_site)
    assert [len(hot_rows[t]) for t in ("events", "messages", "attempts")] == [4, 5, 4]
    assert hot_rows == reference_rows


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_the_hot_paths_seal_the_same_columns(backend: str, tmp_path: Path) -> None:
    work = workload()
    async with two_sites(backend, tmp_path) as (hot_site, reference_site):
        hot = await hot_site.open(StepClock(), sealer=Sealer([KEY]))
        reference = await open_reference(reference_site, Sealer([KEY]))
        try:
            await run_workload(hot, work)
            await run_workload(reference, work)
            # What the store reads back (opening every sealed value with its row) is the same.
            for store in (hot, reference):
                messages = await store.list_messages(limit=100)
                assert len(messages) == 5
            assert [m.payload for m in await hot.list_messages(limit=100)] == [
                m.payload for m in await reference.list_messages(limit=100)
            ]
            target = work[2][0][0][0].message_id
            assert await hot.list_attempts(target) == await reference.list_attempts(target)
            assert await hot.get_message(target) == await reference.get_message(target)
        finally:
            await hot.close()
            await reference.close()
        hot_rows, reference_rows = await stored_rows(hot_site), await stored_rows(reference_site)
    for table, rows in hot_rows.items():
        for hot_row, reference_row in zip(rows, reference_rows[table], strict=True):
            for mine, theirs in zip(hot_row, reference_row, strict=True):
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
    """The hot paths keep a pooled connection; when the server ends it while it is idle, the
    driver sees the socket close, and the next call works on a fresh connection at the first
    try (tests/store/test_pg_outage.py: the same after a network cut)."""
    async with postgres_site() as site:
        store = await site.open(StepClock())
        try:
            assert await store.accept_event(make_event(), [make_message()]) is True
            kept = store._hot._accepting.raw  # type: ignore[union-attr]
            async with raw_connection(site) as conn:
                await conn.exec_driver_sql(f"SELECT pg_terminate_backend({kept.get_server_pid()})")
            assert await eventually(kept.is_closed, timeout=5)
            event = make_event()
            assert await store.accept_event(event, [make_message()]) is True
            assert await store.get_event(event.id) is not None
            assert store._hot._accepting.raw is not kept  # type: ignore[union-attr]
        finally:
            await store.close()


@pytest.mark.postgres
async def test_postgres_compresses_stored_payloads_with_lz4_where_the_server_offers_it() -> None:
    """Compressing the payloads of a batch of events (2-3 KB each) with PostgreSQL's default,
    pglz, was the dearest part of accepting them on the server; every store session asks for
    lz4 instead, also on a pooled connection after a rollback, and values read back as given."""
    async with postgres_site() as site:
        async with raw_connection(site) as conn:
            offered = await conn.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
            if not offered.scalar():
                pytest.skip("this PostgreSQL server has no lz4 (before 14, or built without it)")
        store = await site.open(StepClock())
        try:
            body = b"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD\r" + b"OBX|1|TX|||Verwijzing\r" * 150
            event = make_event(payload={"note": "verwijzing " * 400})
            message = make_message(payload=body)
            assert await store.accept_events([(event, [message])]) == [True]
            async with store._engine.connect() as conn:  # a pooled session, after its rollback
                await conn.rollback()
                setting = await conn.exec_driver_sql("SHOW default_toast_compression")
                assert setting.scalar() == "lz4"
            async with raw_connection(site) as conn:
                stored = await conn.exec_driver_sql(
                    "SELECT pg_column_compression(m.payload), pg_column_compression(e.payload), "
                    "m.payload FROM messages m JOIN events e ON e.id = m.event_id"
                )
                assert stored.one() == ("lz4", "lz4", body)
        finally:
            await store.close()
