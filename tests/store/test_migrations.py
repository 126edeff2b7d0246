"""Store.open migrates an empty database to head, does nothing the second time, and is safe when
several processes start at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from integrator.store import Store
from integrator.store.migrate import current_revision, head_revision
from integrator.store.tables import metadata
from tests.store.conftest import Site, postgres_site
from tests.store.factories import make_event, make_message
from tests.store.helpers import raw_connection, row_counts

STORE_TABLES = {
    "events",
    "rejected_events",
    "messages",
    "attempts",
    "audit_log",
    "destination_revisions",
    "resends",
    "people",
    "grants",
    "api_tokens",
    "invitations",
    "recovery_codes",
    "sessions",
    "jobs",
    "leases",
    "saved_searches",
}


def _describe(conn: Connection) -> dict[str, Any]:
    inspector = inspect(conn)
    indexes = {
        index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
        for table in STORE_TABLES
        for index in inspector.get_indexes(table)
    }
    foreign_keys = {
        (table, tuple(fk["constrained_columns"]), fk["referred_table"])
        for table in STORE_TABLES
        for fk in inspector.get_foreign_keys(table)
    }
    return {
        "tables": set(inspector.get_table_names()),
        "indexes": indexes,
        "foreign_keys": foreign_keys,
    }


async def test_open_creates_every_table_index_and_key(store: Store, site: Site) -> None:
    async with raw_connection(site) as conn:
        schema = await conn.run_sync(_describe)
        revision = await conn.run_sync(current_revision)
    assert schema["tables"] == STORE_TABLES | {"alembic_version"}
    assert revision == head_revision() == "0007"
    indexes = schema["indexes"]
    assert indexes["ix_events_zd_number"] == (("zd_number",), False)
    assert indexes["uq_messages_control_id"] == (("control_id",), True)
    assert indexes["uq_messages_seq"] == (("seq",), True)
    assert indexes["ix_messages_destination_id_status_seq"] == (
        ("destination_id", "status", "seq"),
        False,
    )
    assert indexes["ix_messages_event_id"] == (("event_id",), False)
    assert indexes["ix_attempts_message_id_number"] == (("message_id", "number"), False)
    assert schema["foreign_keys"] == {
        ("messages", ("event_id",), "events"),
        ("attempts", ("message_id",), "messages"),
        ("resends", ("message_id",), "messages"),
        ("resends", ("original_id",), "messages"),
        ("api_tokens", ("owner_id",), "people"),
        ("grants", ("person_id",), "people"),
        ("grants", ("token_id",), "api_tokens"),
        ("invitations", ("person_id",), "people"),
        ("recovery_codes", ("person_id",), "people"),
        ("sessions", ("person_id",), "people"),
        ("saved_searches", ("person_id",), "people"),
    }
    assert indexes["ix_events_bsn_hash"] == (("bsn_hash",), False)
    assert indexes["ix_messages_control_id"] == (("control_id",), False)
    assert indexes["ix_messages_resend_of"] == (("resend_of",), False)
    assert indexes["ix_people_email"] == (("email",), True)
    assert indexes["ix_api_tokens_token_hash"] == (("token_hash",), True)
    assert indexes["ix_invitations_token_hash"] == (("token_hash",), True)
    assert indexes["ix_saved_searches_person_id_name"] == (("person_id", "name"), True)


async def test_store_knows_its_backend_and_answers_ping(store: Store, site: Site) -> None:
    assert store.backend == site.backend
    assert store.schema == site.schema
    await store.ping()


async def test_migrated_schema_matches_the_table_definitions(store: Store, site: Site) -> None:
    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with raw_connection(site) as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_opening_again_keeps_data_and_changes_nothing(site: Site) -> None:
    first = await site.open()
    assert await first.accept_event(make_event(), [make_message()])
    await first.close()
    before = await row_counts(site)

    second = await site.open()
    await second.close()

    assert await row_counts(site) == before
    assert before["events"] == before["messages"] == 1
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == head_revision()


async def test_several_processes_opening_a_fresh_database_at_once(site: Site) -> None:
    stores = await asyncio.gather(*(site.open() for _ in range(4)))
    try:
        for opened in stores:
            await opened.ping()
        assert await stores[0].accept_event(make_event(), [make_message()])
        assert len(await stores[3].list_messages()) == 1
    finally:
        for opened in stores:
            await opened.close()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    site = Site("sqlite", f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'store.db'}")
    opened = await site.open()
    await opened.close()
    assert (tmp_path / "nested" / "deeper" / "store.db").is_file()
    async with raw_connection(site) as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "page_size",
                "wal_autocheckpoint",
            )
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 15000,
        "page_size": 8192,  # a new store's; set before WAL, or it would stay 4096
        "wal_autocheckpoint": 5000,
    }


async def test_a_store_made_with_4_kib_pages_keeps_them_and_opens(tmp_path: Path) -> None:
    """Page size is fixed once a WAL database exists: an older store must simply go on."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE before_us (x INTEGER)")
    site = Site("sqlite", f"sqlite:///{path}")
    opened = await site.open()
    try:
        assert await opened.accept_event(make_event(), [make_message()])
        assert len(await opened.list_messages()) == 1
    finally:
        await opened.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.postgres
async def test_postgres_store_lives_in_its_own_schema() -> None:
    async with postgres_site() as site:
        opened = await site.open()
        await opened.close()
        async with raw_connection(site) as conn:
            result = await conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.tables "
                f"WHERE table_schema = '{site.schema}'"
            )
            tables = set(result.scalars())
    assert tables == STORE_TABLES | {"alembic_version"}
