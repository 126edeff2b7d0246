"""A store failure the operator must fix is said in words: what is wrong, where, which setting.

Real failures only: a SQLite directory that is read-only, a side file SQLite cannot write, a
database that is full (SQLite's ``max_page_count``, a real SQLITE_FULL), a PostgreSQL database
that does not exist, a user PostgreSQL refuses, a database without the store's tables (42P01),
a user without a privilege the store needs (42501), and a port nothing listens on. Never the
password.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool
from structlog.testing import capture_logs

from integrator.presence import Presence
from integrator.store import Store, StoreConfigError, StoreError, StoreUnavailable
from integrator.store.engine import create_engine
from integrator.store.failures import CONNECTION_CLOSED, POOL_MOST
from integrator.store.url import resolve
from tests.cli_in_process import run_cli
from tests.file_powers import without_file_powers
from tests.services import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    free_port,
    postgres_admin_sql,
    require_postgres,
    scratch_database,
)
from tests.store.factories import make_event, make_message

# About making, opening or migrating a store: a new, empty schema on PostgreSQL.
pytestmark = pytest.mark.fresh_schema

SECRET = "BSN-123456782-Jansen"


async def fill_up(store: Store, *, full: bool) -> None:
    """``full``: the store's writer connection (where events are written) may not grow the
    file any more, a real SQLITE_FULL without a small disk; else as far as SQLite allows."""

    def limit(conn: sqlite3.Connection) -> None:
        count = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {count if full else 2**31 - 2}")

    # Only a pragma on the store's own connection: the write below is the store's usual one.
    await store._hot._writer.read(limit)  # type: ignore[union-attr]


@without_file_powers
async def test_a_read_only_sqlite_directory_is_named_with_what_the_engine_must_create(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "var"
    url = f"sqlite:///{folder / 'integrator.db'}"
    await (await Store.open(url)).close()
    for side in folder.glob("integrator.db-*"):
        side.unlink()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await Store.open(url)
    finally:
        folder.chmod(0o700)
    said = str(caught.value)
    assert f"cannot open {folder / 'integrator.db'}: its directory is read-only" in said
    assert "integrator.db-wal and integrator.db-shm" in said


def test_a_file_where_the_sqlite_folder_should_be_is_named(tmp_path: Path) -> None:
    """As root too: the folder cannot be made, and the error says which and where it is set."""
    (tmp_path / "var").write_text("not a folder")
    with pytest.raises(StoreConfigError) as caught:
        resolve(f"sqlite:///{tmp_path / 'var' / 'integrator.db'}")
    assert str(caught.value) == (
        f"the folder {tmp_path / 'var'} for the SQLite database cannot be created: "
        f"{tmp_path / 'var'} is not a directory (INTEGRATOR_DATABASE_URL)"
    )


@without_file_powers
async def test_a_read_only_directory_and_store_file_are_both_named(tmp_path: Path) -> None:
    """The directory and the file made read-only together: the sentence named the directory
    only, and of a file alone it stopped short ("it must be a file it can")."""
    folder = tmp_path / "var"
    path = folder / "integrator.db"
    await (await Store.open(f"sqlite:///{path}")).close()
    path.chmod(0o400)
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await Store.open(f"sqlite:///{path}")
    finally:
        folder.chmod(0o700)
        path.chmod(0o600)
    assert str(caught.value).endswith(
        f"cannot open {path}: its directory is read-only; the engine must be able to create "
        f"integrator.db-wal and integrator.db-shm there; and the engine cannot write {path}; "
        "it must be a file it can read and write"
    )


async def test_a_sqlite_side_file_the_engine_cannot_write_is_named(tmp_path: Path) -> None:
    """As root too: a directory where SQLite's shared-memory file must be."""
    path = tmp_path / "integrator.db"
    await (await Store.open(f"sqlite:///{path}")).close()
    os.mkdir(f"{path}-shm")

    with pytest.raises(StoreUnavailable) as caught:
        await Store.open(f"sqlite:///{path}")

    error = caught.value
    assert error.code is not None and error.code.startswith("SQLITE_")
    assert str(error).endswith(
        f"cannot open {path}: the engine cannot write {path}-shm; it must be a file it can read "
        "and write"
    )


async def test_a_full_sqlite_store_says_so_and_its_writes_count_as_failing(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'integrator.db'}")
    try:
        presence = Presence(store, None).row
        await store.register_engine(presence)
        payload = (SECRET * 2000).encode()
        await fill_up(store, full=True)
        with capture_logs() as logs:
            for _ in range(2):
                with pytest.raises(StoreUnavailable) as caught:
                    await store.accept_event(make_event(), [make_message(payload=payload)])
        assert caught.value.code == "SQLITE_FULL"
        assert "accept events failed (OperationalError, SQLITE_FULL): the disk is full" in str(
            caught.value
        )
        assert store.writes_failing == "SQLITE_FULL"
        # The engine's heartbeat changes its row in place, which a full disk still takes: it
        # said writes work again every ten seconds between refused events (readiness flapped).
        assert await store.beat_engine(presence.id, datetime.now(UTC))
        assert store.writes_failing == "SQLITE_FULL"
        [failing] = [e for e in logs if e["event"] == "store writes fail"]  # once per outage
        assert failing["code"] == "SQLITE_FULL" and "the disk is full" in failing["cause"]
        assert SECRET not in str(logs) + str(caught.value)

        await fill_up(store, full=False)
        with capture_logs() as logs:
            await store.accept_event(make_event(), [make_message(payload=payload)])
            await store.accept_event(make_event(), [make_message()])
        assert store.writes_failing is None
        [back] = [e for e in logs if e["event"] == "store writes work again"]
        assert back["after"] == "SQLITE_FULL"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_database_that_does_not_exist_is_named_with_its_server() -> None:
    require_postgres()
    name = f"t_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://postgres:s3cret@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"

    with pytest.raises(StoreUnavailable) as caught:
        await Store.open(url)

    said = str(caught.value)
    assert (
        f"the database '{name}' does not exist on {POSTGRES_HOST}:{POSTGRES_PORT} "
        "(INTEGRATOR_DATABASE_URL)"
    ) in said
    assert "s3cret" not in said


@pytest.mark.postgres
async def test_a_user_postgresql_refuses_is_named() -> None:
    require_postgres()
    user = f"nobody_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://{user}:s3cret@{POSTGRES_HOST}:{POSTGRES_PORT}/test"

    for opening in (Store.open, Store.open_existing):
        with pytest.raises(StoreError) as caught:
            await opening(url)
        said = str(caught.value)
        assert f"the user '{user}' was refused by PostgreSQL" in said, said
        assert "INTEGRATOR_DATABASE_URL" in said and "s3cret" not in said


@pytest.mark.postgres
async def test_a_store_whose_tables_are_gone_is_unavailable_and_says_why() -> None:
    """The database dropped and made again, empty: in a schema of this test's own."""
    url = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = await Store.open(url, schema=schema)
    try:
        await postgres_admin_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await postgres_admin_sql(f'CREATE SCHEMA "{schema}"')
        with pytest.raises(StoreUnavailable) as caught:
            await store.accept_event(make_event(), [make_message()])
        assert caught.value.code == "42P01"
        assert "has no store tables" in str(caught.value)
        assert store.writes_failing == "42P01"
        with pytest.raises(StoreUnavailable):
            await store.ping()  # what /readyz asks: not ready either
    finally:
        await store.close()
        await postgres_admin_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
async def test_a_user_without_a_privilege_the_store_needs_is_unavailable_and_says_so() -> None:
    """42501: a grant taken from the store's user (a role changed by a DBA, a managed database
    that takes write rights away) refuses every write whatever it holds: the store is unusable,
    not the request. It was a StoreError ("other"): a 500, and writes were not counted as
    failing, so ``/readyz`` said ready. In a database and a role of this test's own."""
    import asyncpg

    require_postgres()
    role = f"t_role_{uuid.uuid4().hex[:12]}"
    await postgres_admin_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        async with scratch_database() as (name, _):
            await postgres_admin_sql(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
            store = await Store.open(f"postgresql://{role}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}")
            admin = await asyncpg.connect(
                host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database=name
            )
            try:
                await admin.execute(f'REVOKE INSERT ON events FROM "{role}"')
                with pytest.raises(StoreUnavailable) as caught:
                    await store.accept_event(make_event(), [make_message()])
                assert caught.value.code == "42501"
                said = str(caught.value)
                assert f"the user '{role}' lacks a privilege the store needs on " in said, said
                assert store.writes_failing == "42501"

                await admin.execute(f'GRANT INSERT ON events TO "{role}"')
                assert await store.accept_event(make_event(), [make_message()])
                assert store.writes_failing is None
            finally:
                await admin.close()
                await store.close()
    finally:
        await postgres_admin_sql(f'DROP ROLE IF EXISTS "{role}"')


def test_the_cli_names_the_address_nothing_listens_at(env: dict[str, str]) -> None:
    port = free_port()
    env["INTEGRATOR_DATABASE_URL"] = f"postgresql://postgres:s3cret@127.0.0.1:{port}/test"
    env["INTEGRATOR_SEARCH_KEY"] = "a-test-search-key-of-enough-length"
    for command in (["tokens", "list"], ["messages", "list"]):
        outcome = run_cli(*command, env=env)
        assert outcome.returncode == 1, outcome
        said = outcome.stderr
        assert f"nothing listens at 127.0.0.1:{port} (INTEGRATOR_DATABASE_URL)" in said, said
        assert "s3cret" not in said + outcome.stdout


async def _ended_then_refused(store: Store, sessions: str) -> StoreUnavailable:
    """The server's ``sessions`` (a condition on ``pg_stat_activity``) ended, then a write
    refused as unavailable: the first tries may meet a connection the server ended
    (unavailable, said as a closed connection: ``CONNECTION_CLOSED``), a new one is refused
    with the server's code, which is returned."""
    await postgres_admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE {sessions} AND pid <> pg_backend_pid()"
    )
    for _ in range(3):
        with pytest.raises(StoreUnavailable) as caught:
            await store.accept_event(make_event(), [make_message()])
        if caught.value.code not in CONNECTION_CLOSED:
            break
    return caught.value


@pytest.mark.postgres
async def test_a_database_that_takes_no_connections_is_unavailable_and_says_so() -> None:
    """55000: ``ALLOW_CONNECTIONS false`` (a DBA's maintenance, a managed service moving the
    database) refused the store's new connections, and the error was "other": every API route
    answered 500 without ``Retry-After`` while ``/readyz`` said the store was unavailable, and
    a client that retries on 503 gave the referral up. In a database of this test's own."""
    async with scratch_database() as (name, url):
        store = await Store.open(url)
        try:
            assert await store.accept_event(make_event(), [make_message()])
            await postgres_admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            refused = await _ended_then_refused(store, f"datname = '{name}'")
            assert refused.code == "55000"
            said = str(refused)
            assert f"the database '{name}' on " in said and "takes no connections now" in said
            await postgres_admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert await store.accept_event(make_event(), [make_message()])
        finally:
            await postgres_admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await store.close()


@pytest.mark.postgres
async def test_a_user_no_longer_let_in_is_unavailable_and_says_so() -> None:
    """28000: the store's user refused at a new connection (a role made NOLOGIN; a password
    rotated under the engine is 28P01) while the engine ran. It was "other": 500s, and an
    attempt delivered meanwhile was refused by the store, not kept for later, and sent again
    at the next start. In a database and a role of this test's own."""
    require_postgres()
    role = f"t_role_{uuid.uuid4().hex[:12]}"
    await postgres_admin_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        async with scratch_database() as (name, _):
            await postgres_admin_sql(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
            store = await Store.open(f"postgresql://{role}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}")
            try:
                assert await store.accept_event(make_event(), [make_message()])
                await postgres_admin_sql(f'ALTER ROLE "{role}" NOLOGIN')
                refused = await _ended_then_refused(store, f"usename = '{role}'")
                assert refused.code == "28000"
                assert f"the user '{role}' was refused by PostgreSQL on " in str(refused)
                await postgres_admin_sql(f'ALTER ROLE "{role}" LOGIN')
                assert await store.accept_event(make_event(), [make_message()])
            finally:
                await store.close()
    finally:
        await postgres_admin_sql(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
async def test_a_server_with_no_connection_left_is_unavailable_and_says_so() -> None:
    """53300: the server's max_connections, or a database's or user's CONNECTION LIMIT, used up
    (by this engine's pool and other clients) refuses new connections. The error named the
    code only: nothing said what was used up or what to change. In a database and a role of
    this test's own (a database's limit binds no superuser, so the store's user is not one);
    the limit taken away afterwards."""
    require_postgres()
    role = f"t_role_{uuid.uuid4().hex[:12]}"
    await postgres_admin_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        async with scratch_database() as (name, _):
            await postgres_admin_sql(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
            store = await Store.open(f"postgresql://{role}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}")
            try:
                assert await store.accept_event(make_event(), [make_message()])
                await postgres_admin_sql(f'ALTER DATABASE "{name}" CONNECTION LIMIT 0')
                refused = await _ended_then_refused(store, f"datname = '{name}'")
                assert refused.code == "53300"
                assert str(refused).endswith(
                    f": the database server at {POSTGRES_HOST}:{POSTGRES_PORT} takes no more "
                    f"connections: its max_connections, or the CONNECTION LIMIT of the database "
                    f"'{name}' or of the user '{role}', is used up by this engine's pool (up to "
                    f"{POOL_MOST} connections per engine process) and other clients; raise that "
                    "limit, or run fewer engines or clients"
                ), str(refused)
                assert refused.cause is not None and store.writes_failing == "53300"
                await postgres_admin_sql(f'ALTER DATABASE "{name}" CONNECTION LIMIT -1')
                assert await store.accept_event(make_event(), [make_message()])
            finally:
                await postgres_admin_sql(f'ALTER DATABASE "{name}" CONNECTION LIMIT -1')
                await store.close()
    finally:
        await postgres_admin_sql(f'DROP ROLE IF EXISTS "{role}"')


def test_the_pool_the_sentence_names_is_the_store_engines() -> None:
    """The 53300 sentence says how many connections an engine process opens at most: the
    store's engine's pool, as it is made."""
    engine = create_engine(resolve(f"postgresql://x@{POSTGRES_HOST}:{POSTGRES_PORT}/test"))
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() + pool._max_overflow == POOL_MOST


def test_an_io_error_on_a_full_disk_is_said_as_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store on a full disk, opened: SQLite could not grow its shared-memory file and said
    SQLITE_IOERR_SHMSIZE, which the engine's start reported as "no answer from the store"
    (docs/deploy.md promises "the disk is full"). An I/O error with room on the disk is left
    as it was said."""
    import shutil

    from sqlalchemy.engine import make_url

    from integrator.store.failures import cause

    url = make_url(f"sqlite:///{tmp_path / 'integrator.db'}")
    room = shutil.disk_usage(tmp_path)
    assert cause("SQLITE_IOERR_SHMSIZE", url) is None  # this disk has room: not a full disk
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: room._replace(free=4096))
    full = f"the disk is full (of {tmp_path}): free some space there first; nothing is written "
    full += "until then, a prune included"  # the prune an operator runs to make room, too
    assert cause("SQLITE_IOERR_SHMSIZE", url) == full
    assert cause("SQLITE_IOERR_WRITE", url) == full
    assert cause("SQLITE_FULL", url) == full


def damage_every_index_of(path: Path, table: str) -> None:
    """Overwrite the first page of each index every row of ``table`` is in (not the partial
    ones) with bytes no b-tree page starts with: the next row written there meets the damage,
    whichever keys it has. (Pages picked by their place in the file met it only when the new
    row's random keys sorted into them: a test that failed now and then.)"""
    with sqlite3.connect(path) as conn:
        roots = [
            number
            for number, sql in conn.execute(
                "SELECT rootpage, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                (table,),
            )
            if sql is None or " WHERE " not in sql.upper()
        ]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    assert roots, f"{table} has no index"
    data = bytearray(path.read_bytes())
    for number in roots:
        start = (number - 1) * size
        data[start : start + size] = b"\xff" * size
    path.write_bytes(bytes(data))


async def test_a_damaged_sqlite_store_is_unavailable_and_says_so(tmp_path: Path) -> None:
    """A restored copy with the replaced store's ``-wal`` left beside it was damaged: the engine
    said each attempt "was not recorded: the store refused it" (SQLITE_CORRUPT_INDEX, taken
    for a value the store refused, whose record is not kept) and answered ready. A damaged file
    is now the store unavailable (writes refused, the recorder holds its attempts, readiness
    says why), named, with what to do."""
    url = f"sqlite:///{tmp_path / 'integrator.db'}"
    async with await Store.open(url) as store:
        for _ in range(30):
            await store.accept_event(make_event(), [make_message(payload=b"MSH|x" * 200)])
    damage_every_index_of(tmp_path / "integrator.db", "events")

    store = await Store.open(url)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await store.accept_event(make_event(), [make_message()])
        assert caught.value.code is not None and caught.value.code.startswith("SQLITE_CORRUPT")
        assert f"the SQLite store {tmp_path / 'integrator.db'} is damaged" in str(caught.value)
        assert "restore the last backup" in str(caught.value)
        assert store.writes_failing is not None and store.writes_failing.startswith(
            "SQLITE_CORRUPT"
        )
    finally:
        await store.close()
