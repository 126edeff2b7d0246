"""``Store.get_token(token_hash=...)``, what every API request is authenticated by, reads on the
hot paths' own connection (``integrator.store.hot_reads``): the same record, field for field, as
the SQLAlchemy form of the same two queries (``PeopleMixin``'s listing), on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

from integrator.store import Store
from integrator.store.pg_hot_writes import PostgresHotWrites
from integrator.store.tables import grants
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock, make_event, make_message, new_id
from tests.store.helpers import raw_connection


@contextmanager
def pool_checkouts(store: Store) -> Iterator[list[object]]:
    """Every connection taken from the store's SQLAlchemy pool meanwhile."""
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    pool = store._engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    try:
        yield checkouts
    finally:
        event.remove(pool, "checkout", checked_out)


async def _token(store: Store, name: str, grant_specs: list[tuple[str, str | None]]) -> str:
    token_id = new_id()
    await store.add_token(
        token_id,
        name=name,
        token_hash=f"{name:0>64}",
        prefix=name[:8],
        owner_id=None,
        created_by="local:tester",
        created_at=T0,
        expires_at=T0 + timedelta(days=90, microseconds=123_456),
        grant_specs=grant_specs,
    )
    return token_id


async def test_a_token_read_by_its_hash_is_the_one_the_listing_reads(
    store: Store, site: Site
) -> None:
    plain = await _token(store, "plain", [("intake", None)])
    many = await _token(store, "many", [("viewer", "CARD"), ("resend", None), ("metrics", None)])
    await store.add_token(
        new_id(),
        name="made",
        token_hash=f"{'made':0>64}",
        prefix="made",
        owner_id=None,
        created_by="token:many",
        created_at=T0 + timedelta(hours=1),
        expires_at=T0 + timedelta(days=1),
        grant_specs=[("viewer", "CARD")],
        maker_token_id=many,
    )
    await store.touch_token(many, now=T0 + timedelta(minutes=5), used_before=T0)
    assert await store.revoke_token(plain, now=T0 + timedelta(minutes=7))
    async with raw_connection(site) as conn:  # a grant switched off is read as such
        await conn.execute(
            update(grants)
            .where(grants.c.token_id == many, grants.c.role == "resend")
            .values(active=False)
        )
        await conn.commit()

    await _token(store, "none", [])  # a token without grants reads as one

    listed = {token.name: token for token in await store.list_tokens()}
    assert listed["none"].grants == ()
    for name in ("plain", "many", "made", "none"):
        read = await store.get_token(token_hash=f"{name:0>64}")
        assert read == listed[name]
        assert read is not None and read.created_at.tzinfo is not None
    assert listed["many"].grants and not all(g.active for g in listed["many"].grants)
    assert listed["plain"].revoked_at is not None and listed["many"].last_used_at is not None
    assert await store.get_token(token_hash="0" * 64) is None


async def test_a_token_is_read_without_a_connection_from_the_pool(
    store: Store,
) -> None:
    """Taking a pooled connection and giving it back was most of the read's cost; the hot
    paths' connection is kept (PostgreSQL: taken at the first read) or is the writer's."""
    await _token(store, "alone", [("intake", None)])
    assert await store.get_token(token_hash=f"{'alone':0>64}") is not None

    with pool_checkouts(store) as checkouts:
        read = await store.get_token(token_hash=f"{'alone':0>64}")
    assert read is not None and read.name == "alone"
    assert checkouts == []


async def test_on_sqlite_a_token_is_read_while_a_write_waits_for_another_process(
    tmp_path: Path,
) -> None:
    """Another process holds SQLite's write lock and the store's writer waits for it (the busy
    timeout): the API still authenticates, its token read is not queued behind that write."""
    path = tmp_path / "locked.db"
    store = await Site("sqlite", f"sqlite:///{path}").open(StepClock())
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await _token(store, "waiting", [("intake", None)])
        other.execute("BEGIN IMMEDIATE")
        accepting = asyncio.create_task(store.accept_event(make_event(), [make_message()]))
        await asyncio.sleep(0.3)
        assert not accepting.done()  # the writer waits on the other process's lock
        read = await asyncio.wait_for(store.get_token(token_hash=f"{'waiting':0>64}"), 2)
        assert read is not None and read.name == "waiting"
        other.execute("COMMIT")
        assert await asyncio.wait_for(accepting, 10) is True
    finally:
        other.close()
        await store.close()


async def test_concurrent_reads_wait_for_a_kept_connection_not_the_pool(store: Store) -> None:
    """Every API request reads its token: with several at once, each that found the reading
    connection in use took one from the pool (its checkout and pre-ping cost more than the
    read). They wait for one of the connections kept for reading now."""
    await _token(store, "crowd", [("intake", None)])

    async def reads() -> None:
        found = await asyncio.gather(
            *(store.get_token(token_hash=f"{'crowd':0>64}") for _ in range(8))
        )
        assert [token.name if token else None for token in found] == ["crowd"] * 8

    await reads()  # the kept connections are open from here on
    with pool_checkouts(store) as checkouts:
        await reads()
    assert checkouts == []


async def test_a_token_and_its_grants_are_one_statement(store: Store) -> None:
    """The token, then its grants, were two statements: on PostgreSQL two round trips for
    every API request. One now (an outer join)."""
    await _token(store, "joined", [("viewer", "CARD"), ("resend", None)])
    statements: list[str] = []

    class Counting:
        def __init__(self, conn: Any) -> None:
            self._conn = conn

        def __getattr__(self, name: str) -> Any:
            found = getattr(self._conn, name)
            if name == "cursor":  # SQLite's statements may go through a cursor
                return lambda: Counting(found())
            if name in ("execute", "fetch"):

                def counted(sql: str, *args: Any) -> Any:
                    statements.append(sql)
                    return found(sql, *args)

                return counted
            return found

    hot = store._hot
    if isinstance(hot, PostgresHotWrites):
        real_run = hot._run

        async def run(held: Any, call: Any) -> Any:
            return await real_run(held, lambda conn: call(Counting(conn)))

        hot._run = run  # type: ignore[method-assign]
    else:
        reader = hot._reader
        real_read = reader.read

        async def read(work: Any) -> Any:
            return await real_read(lambda conn: work(Counting(conn)))

        reader.read = read  # type: ignore[method-assign]
    read_back = await store.get_token(token_hash=f"{'joined':0>64}")
    assert read_back is not None and [g.role for g in read_back.grants] == ["viewer", "resend"]
    assert len(statements) == 1, statements
