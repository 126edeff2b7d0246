"""Store.open migrates an empty database to head, does nothing the second time, and is safe when
several processes start at once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, select
from structlog.testing import capture_logs

import integrator
from deadletter import count_open_dead_letters, list_dead_letters
from integrator import kept_searches
from integrator.access import AccessService, Grant, Role
from integrator.access import tokens as secrets_
from integrator.access.permissions import Identity, IdentityKind
from integrator.clock import ManualClock
from integrator.kept_searches import LASTS
from integrator.lifecycle.agreement import kept_longer
from integrator.lifecycle.retention import Retention
from integrator.store import EnginePresence, Store, StoreError, sqlite_head
from integrator.store.codec import event_row
from integrator.store.engine import create_engine
from integrator.store.errors import EnginesStillRunning
from integrator.store.migrate import current_revision, head_revision, upgrade_to_head
from integrator.store.records import EventFilter, EventRecord, NewRouting
from integrator.store.schema_version import HEAD_REVISION
from integrator.store.sealing import Sealer
from integrator.store.tables import (
    api_tokens,
    console_searches,
    engine_presence,
    events,
    grants,
    messages,
    metadata,
    people,
    rejected_events,
    sessions,
)
from integrator.store.url import resolve
from tests.store.conftest import Site, postgres_site
from tests.store.factories import make_event, make_message
from tests.store.helpers import leave_old_engine_running, migrate_to, raw_connection, row_counts

# About making, opening or migrating a store: a new, empty schema on PostgreSQL.
pytestmark = pytest.mark.fresh_schema

ROOT = Path(integrator.__file__).resolve().parent.parent

STORE_TABLES = {
    "events",
    "rejected_events",
    "messages",
    "attempts",
    "audit_log",
    "audit_anchor",
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
    "engine_presence",
    "console_confirmations",
    "console_searches",
    "destination_pauses",
    "search_key_check",
    "idempotency_keys",
    "console_answers",
    "engine_retention",
    "late_answers",
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
    assert revision == head_revision() == "0039"
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
    assert indexes["ix_late_answers_message_id"] == (("message_id",), False)
    assert indexes["ix_console_confirmations_token_hash"] == (("token_hash",), True)
    assert schema["foreign_keys"] == {
        ("messages", ("event_id",), "events"),
        ("attempts", ("message_id",), "messages"),
        ("late_answers", ("message_id",), "messages"),
        ("resends", ("message_id",), "messages"),
        ("resends", ("original_id",), "messages"),
        ("api_tokens", ("owner_id",), "people"),
        ("api_tokens", ("maker_token_id",), "api_tokens"),
        ("api_tokens", ("maker_person_id",), "people"),
        ("grants", ("person_id",), "people"),
        ("grants", ("token_id",), "api_tokens"),
        ("invitations", ("person_id",), "people"),
        ("recovery_codes", ("person_id",), "people"),
        ("sessions", ("person_id",), "people"),
        ("saved_searches", ("person_id",), "people"),
        ("console_confirmations", ("person_id",), "people"),
        ("console_searches", ("person_id",), "people"),
    }
    assert indexes["ix_events_bsn_hash"] == (("bsn_hash",), False)
    assert indexes["ix_messages_control_id"] == (("control_id",), False)
    assert indexes["ix_messages_resend_of"] == (("resend_of",), False)
    assert indexes["ix_people_email"] == (("email",), True)
    assert indexes["ix_api_tokens_token_hash"] == (("token_hash",), True)
    assert indexes["ix_api_tokens_maker_token_id"] == (("maker_token_id",), False)
    assert indexes["ix_api_tokens_maker_person_id"] == (("maker_person_id",), False)
    assert indexes["ix_invitations_token_hash"] == (("token_hash",), True)
    assert indexes["ix_saved_searches_person_id_name"] == (("person_id", "name"), True)
    assert indexes["ix_audit_log_at"] == (("at",), False)  # the daily prune's count
    for column in ("zd_number", "provider_id", "bsn_hash"):  # rejected input found by them
        assert indexes[f"ix_rejected_events_{column}"] == ((column,), False)


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


def test_the_head_constant_is_the_newest_migration() -> None:
    """An open at HEAD_REVISION skips Alembic: a new revision must move the constant too."""
    assert head_revision() == HEAD_REVISION


_OPEN_AND_LIST_MODULES = """
import asyncio, json, sys
from integrator.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1], schema=sys.argv[2] or None)
    await store.close()

asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_open(site: Site) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_LIST_MODULES, site.url, site.schema or ""],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


async def test_opening_a_store_at_head_does_not_load_alembic(site: Site) -> None:
    """Each open at head (every command, engine start and test) used to run Alembic's upgrade:
    its import and script directory cost more than the rest of the open."""
    fresh = await asyncio.to_thread(_modules_after_open, site)
    # A new store gets the head schema without Alembic (integrator.store.sqlite_head,
    # integrator.store.postgres_head).
    assert f"integrator.store.{site.backend.replace('postgresql', 'postgres')}_head" in fresh
    assert "integrator.store.migrate" not in fresh
    again = await asyncio.to_thread(_modules_after_open, site)
    assert "integrator.store.store" in again  # the probe did open the store
    assert not any(m == "alembic" or m.startswith("alembic.") for m in again)
    assert "integrator.store.migrate" not in again
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_an_older_store_is_still_migrated_to_head(site: Site) -> None:
    opened = await site.open()
    assert await opened.accept_event(make_event(), [make_message()])
    await opened.close()
    # Back to the revision before: the open must see the difference and run the upgrade.
    async with raw_connection(site) as conn:
        await conn.exec_driver_sql("ALTER TABLE events DROP COLUMN caller")
        await conn.exec_driver_sql("ALTER TABLE sessions DROP COLUMN reason")
        await conn.exec_driver_sql("DROP TABLE late_answers")
        await conn.exec_driver_sql("DROP TABLE engine_retention")
        await conn.exec_driver_sql("DROP INDEX ix_messages_dead")
        await conn.exec_driver_sql("DROP INDEX ix_console_answers_owner")
        await conn.exec_driver_sql("ALTER TABLE console_answers DROP COLUMN owner")
        await conn.exec_driver_sql("DROP INDEX ix_messages_resend_of")
        await conn.exec_driver_sql("CREATE INDEX ix_messages_resend_of ON messages (resend_of)")
        await conn.exec_driver_sql("DROP INDEX ix_events_received_at_unrouted")
        await conn.exec_driver_sql("ALTER TABLE events DROP COLUMN unrouted")
        await conn.exec_driver_sql("ALTER TABLE engine_presence DROP COLUMN retention")
        await conn.exec_driver_sql("DROP TABLE console_answers")
        await conn.exec_driver_sql("ALTER TABLE jobs DROP COLUMN unmatched_zd")
        await conn.exec_driver_sql("ALTER TABLE jobs DROP COLUMN engine_id")
        await conn.exec_driver_sql("DROP INDEX ix_messages_family_root_status_seq")
        await conn.exec_driver_sql("ALTER TABLE messages DROP COLUMN family_root")
        await conn.exec_driver_sql("DROP TABLE idempotency_keys")
        await conn.exec_driver_sql("DROP TABLE search_key_check")
        await conn.exec_driver_sql("ALTER TABLE rejected_events DROP COLUMN caller")
        await conn.exec_driver_sql("DROP TABLE destination_pauses")
        await conn.exec_driver_sql("ALTER TABLE messages DROP COLUMN released_at")
        await conn.exec_driver_sql("DROP INDEX ix_api_tokens_maker_person_id")
        await conn.exec_driver_sql("ALTER TABLE api_tokens DROP COLUMN maker_person_id")
        await conn.exec_driver_sql("DROP TABLE console_searches")
        await conn.exec_driver_sql("DROP INDEX ix_api_tokens_maker_token_id")
        await conn.exec_driver_sql("ALTER TABLE api_tokens DROP COLUMN maker_token_id")
        await conn.exec_driver_sql("DROP TABLE console_confirmations")
        await conn.exec_driver_sql("DROP TABLE engine_presence")
        await conn.exec_driver_sql("DROP TABLE saved_searches")
        await conn.exec_driver_sql("DROP TABLE audit_anchor")
        await conn.exec_driver_sql("DROP INDEX ix_audit_log_at")
        for column in ("zd_number", "provider_id", "bsn_hash"):
            await conn.exec_driver_sql(f"DROP INDEX ix_rejected_events_{column}")
            await conn.exec_driver_sql(f"ALTER TABLE rejected_events DROP COLUMN {column}")
        await conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0006'")
        await conn.commit()

    again = await site.open()
    await again.close()

    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION
        migrated = await conn.run_sync(_describe)
        assert "saved_searches" in migrated["tables"]
        assert "console_searches" in migrated["tables"]
        assert "destination_pauses" in migrated["tables"]
        assert "search_key_check" in migrated["tables"]
        assert "idempotency_keys" in migrated["tables"]
        assert migrated["indexes"]["ix_messages_family_root_status_seq"] == (
            ("family_root", "status", "seq"),
            False,
        )
        assert migrated["indexes"]["ix_audit_log_at"] == (("at",), False)
        assert migrated["indexes"]["ix_rejected_events_zd_number"] == (("zd_number",), False)
    assert (await row_counts(site))["messages"] == 1


async def test_an_engine_that_crashed_on_this_machine_does_not_hold_the_upgrade(
    site: Site,
) -> None:
    """The old engine was killed with ``kill -9`` and the new version started at once: refused
    for 30 s, "1 engine(s) still run on it (… pid 8307 …)", a pid no process had, where the
    README promises such a row stops counting at once on its own machine."""
    import socket

    from integrator.store.presence import pid_namespace
    from integrator.store.tables import engine_presence

    await migrate_to(site, "0023")
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # its pid is no process's now (reaped)
    now = datetime.now(UTC)
    async with raw_connection(site) as conn:
        for row_id, pid in (("crashed", gone.pid), ("alive", os.getpid())):
            await conn.execute(
                insert(engine_presence).values(
                    id=row_id,
                    host=socket.gethostname(),
                    pid=pid,
                    http_address=None,
                    started_at=now - timedelta(hours=1),
                    heartbeat_at=now - timedelta(seconds=2),
                    pid_namespace=pid_namespace(),
                    data_keys="",
                    transport="embedded",
                )
            )
        await conn.commit()
    with pytest.raises(EnginesStillRunning) as refused:  # the live one still counts
        await site.open()
    assert f"1 engine still runs on it ({socket.gethostname()} pid {os.getpid()})" in str(
        refused.value
    )
    assert f"pid {gone.pid}" not in str(refused.value)
    async with raw_connection(site) as conn:
        await conn.execute(engine_presence.delete().where(engine_presence.c.id == "alive"))
        await conn.commit()
    await (await site.open()).close()  # the crashed one alone holds nothing
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_a_store_from_newer_code_is_refused_by_both_opens(site: Site) -> None:
    opened = await site.open()
    await opened.close()
    async with raw_connection(site) as conn:
        await conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
        await conn.commit()

    message = re.escape(
        "the database schema is at a revision this version does not know (9999_future; this "
        f"version knows up to {HEAD_REVISION}): a newer version migrated it. Run that version, "
        "or restore the backup made before the upgrade"
    )
    with pytest.raises(StoreError, match=message):
        await site.open()
    with pytest.raises(StoreError, match=message):
        await Store.open_existing(site.url, schema=site.schema)
    async with raw_connection(site) as conn:
        assert (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all() == [
            ("9999_future",)
        ]


async def test_an_older_store_is_not_migrated_while_an_engine_runs_on_it(site: Site) -> None:
    """A newer version's first command (a read too) migrated the store under the engines of
    the old version still running on it, which then wrote rows of the old shape into the new
    schema: a resend without its family root, and counts that disagreed for good."""
    await migrate_to(site, "0023")
    now = datetime.now(UTC)
    await leave_old_engine_running(site, now - timedelta(seconds=5))

    said = (
        f"the store is at revision 0023 and this version migrates it to {HEAD_REVISION}, but 1 "
        "engine still runs on it (ziekenhuis-app-01 pid 4242, HTTP at 127.0.0.1:8080): stop "
        "every engine of the old version first"
    )
    with pytest.raises(EnginesStillRunning, match=re.escape(said)) as refused:
        await site.open()
    assert refused.value.exit_code == 2
    with pytest.raises(EnginesStillRunning):
        await Store.open_existing(site.url, schema=site.schema)
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == "0023"

    async with raw_connection(site) as conn:  # it stopped (or crashed over 30 s ago)
        await conn.execute(
            engine_presence.update().values(heartbeat_at=now - timedelta(seconds=31))
        )
        await conn.commit()
    with capture_logs() as logs:
        opened = await site.open()
    await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION
    # When the store changed shape, and which process did it: said once, by that process.
    [line] = [e for e in logs if e["event"] == "store schema migrated"]
    assert (line["from_revision"], line["to_revision"]) == ("0023", HEAD_REVISION)
    # At warning: commands log no less, so a read (or a dry run) that migrated says it.
    assert line["log_level"] == "warning"
    with capture_logs() as logs:
        await (await site.open()).close()
    assert not [e for e in logs if e["event"] == "store schema migrated"]


async def test_migration_0016_keeps_older_tokens_working_and_ties_new_ones_to_their_maker(
    site: Site,
) -> None:
    """A token from before 0016 has no maker and goes on working; one it makes afterwards
    records it as its maker and stops when it is revoked (docs/access.md, "Not with a token")."""
    await migrate_to(site, "0015")
    raw = secrets_.new_token()
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(api_tokens).values(
                id="0b5e0000-0000-4000-8000-000000000001",
                name="admin-bot",
                token_hash=secrets_.hash_secret(raw),
                prefix=secrets_.visible_prefix(raw),
                owner_id=None,
                created_by="local:piet",
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(days=30),
            )
        )
        await conn.execute(
            insert(grants).values(
                token_id="0b5e0000-0000-4000-8000-000000000001",
                role="admin",
                cluster=None,
                active=True,
                created_at=clock.now(),
            )
        )
        await conn.commit()

    opened = await site.open(clock.now)
    try:
        access = AccessService(opened, clock)
        bot = await access.authenticate_token(raw)
        assert bot is not None and bot.display == "token:admin-bot"
        [old] = await opened.list_tokens()
        assert old.maker_token_id is None
        made = await access.create_token(bot, "api-made", [Grant(Role.INTAKE)])
        stored = await opened.get_token(token_id=made.id)
        assert stored is not None and stored.maker_token_id == old.id
        assert stored.expires_at == old.expires_at  # the default, cut to the maker's expiry
        assert await access.authenticate_token(made.token) is not None
        await opened.revoke_token(old.id, now=clock.now())
        assert await access.authenticate_token(made.token) is None
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION == "0039"
        if site.backend == "sqlite":
            assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []


async def test_migration_0018_binds_the_tokens_made_in_a_session_to_their_maker(
    site: Site,
) -> None:
    """A token made in a person's session before 0018 recorded its maker only as
    ``created_by = 'person:<email>'``: the migration records the person, so the token's
    ``resend`` goes when that person's does; one made on the server's CLI stays bound to
    nobody; one naming a person the store does not have (a hand-edited store) is bound to
    nobody either and so loses its ``resend`` at once, keeping its other roles
    (docs/access.md, "Who may make one")."""
    await migrate_to(site, "0017")
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    ada = "ada00000-0000-4000-8000-000000000001"
    tokens = {
        "support-bot": "person:ada@example.nl",
        "anna-support": "local:piet",
        "ghost-bot": "person:ghost@example.nl",
    }
    raws = {name: secrets_.new_token() for name in tokens}
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(people).values(
                id=ada, email="ada@example.nl", name="Ada", status="active", created_at=clock.now()
            )
        )
        for role in ("admin", "resend"):
            await conn.execute(
                insert(grants).values(
                    person_id=ada, role=role, cluster=None, active=True, created_at=clock.now()
                )
            )
        for number, (name, created_by) in enumerate(tokens.items()):
            token_id = f"0b5e0000-0000-4000-8000-00000000000{number}"
            await conn.execute(
                insert(api_tokens).values(
                    id=token_id,
                    name=name,
                    token_hash=secrets_.hash_secret(raws[name]),
                    prefix=secrets_.visible_prefix(raws[name]),
                    owner_id=None,
                    created_by=created_by,
                    created_at=clock.now(),
                    expires_at=clock.now() + timedelta(days=30),
                )
            )
            for role in ("resend", "viewer"):
                await conn.execute(
                    insert(grants).values(
                        token_id=token_id,
                        role=role,
                        cluster=None,
                        active=True,
                        created_at=clock.now(),
                    )
                )
        await conn.commit()

    opened = await site.open(clock.now)
    try:
        stored = {t.name: t for t in await opened.list_tokens()}
        assert stored["support-bot"].maker_person_id == ada
        assert stored["anna-support"].maker_person_id is None
        assert stored["ghost-bot"].maker_person_id is None
        access = AccessService(opened, clock)

        async def roles(name: str) -> set[str]:
            identity = await access.authenticate_token(raws[name])
            assert identity is not None  # every one still works
            return {g.role.value for g in identity.grants}

        assert await roles("support-bot") == {"resend", "viewer"}
        assert await roles("anna-support") == {"resend", "viewer"}
        assert await roles("ghost-bot") == {"viewer"}  # fail closed: nobody to hold resend
        await opened.deactivate_grant(ada, "resend", None)
        assert await roles("support-bot") == {"viewer"}
        assert await roles("anna-support") == {"resend", "viewer"}
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION
        if site.backend == "sqlite":
            assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []


async def test_migration_0020_lists_rejected_input_kept_before_it_without_a_caller(
    site: Site,
) -> None:
    """Rejected input kept before 0020 has no caller: it is listed and read as before, its
    caller None (shown as ``-``); input kept afterwards has the one it was given."""
    await migrate_to(site, "0019")
    kept_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(rejected_events).values(
                id="0ed00000-0000-4000-8000-000000000001",
                received_at=kept_at,
                source="http",
                raw=b"{not json",
                reason=json.dumps([{"path": "", "rule": "json", "message": "not JSON"}]),
                zd_number="ZD300000001",
            )
        )
        await conn.commit()

    opened = await site.open(ManualClock(kept_at + timedelta(hours=1)).now)
    try:
        newer = await opened.reject_event(b"[]", "http", [], caller="token:gp-system")
        listed = {r.id: r for r in await opened.list_rejected()}
        old = listed["0ed00000-0000-4000-8000-000000000001"]
        assert (old.caller, old.zd_number, old.size) == (None, "ZD300000001", 9)
        assert listed[newer].caller == "token:gp-system"
        read = await opened.get_rejected(old.id)
        assert read is not None and read.caller is None and read.raw == b"{not json"
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_migration_0021_keeps_an_engine_row_from_before_it_as_of_unknown_transport(
    site: Site,
) -> None:
    """An engine row written before 0021 reads back with transport None (unknown); rows
    written afterwards keep what the engine says it delivers through."""
    await migrate_to(site, "0020")
    seen = datetime.now(UTC) - timedelta(minutes=1)  # stopped since: it blocks no migration
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(engine_presence).values(
                id="old-engine",
                host="h",
                pid=1,
                http_address=None,
                started_at=seen,
                heartbeat_at=seen,
                pid_namespace=None,
                data_keys="",
            )
        )
        await conn.commit()

    opened = await site.open()
    try:
        newer = EnginePresence("new-engine", "h", 2, None, seen, seen, transport="embedded")
        await opened.register_engine(newer)
        found = {e.id: e for e in await opened.fresh_engines(seen - timedelta(minutes=1))}
        assert set(found) == {"old-engine", "new-engine"}
        assert found["old-engine"].transport is None
        assert found["new-engine"].transport == "embedded"
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_migration_0024_gives_every_resend_of_before_it_its_family_root(
    site: Site,
) -> None:
    """Resends made before 0024 get their family's root, however deep, so the open dead
    letters the store counts are the ones the family rule (``deadletter.family``) leaves open."""
    await migrate_to(site, "0023")
    at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    event = make_event()
    # first <- r1 <- r2 (delivered: resolves first and r1); second <- r3 (dead: both open).
    lines = [
        ("first", None, "dead"),
        ("r1", "first", "dead"),
        ("r2", "r1", "delivered"),
        ("r2b", "r2", "dead"),
        ("second", None, "dead"),
        ("r3", "second", "dead"),
    ]
    ids = {name: f"0e240000-0000-4000-8000-00000000000{n}" for n, (name, _, _) in enumerate(lines)}
    async with raw_connection(site) as conn:
        await conn.execute(insert(events).values(**row_before_0037(event)))
        for seq, (name, of, status) in enumerate(lines, 1):
            await conn.execute(
                insert(messages).values(
                    id=ids[name],
                    seq=seq,
                    event_id=event.id,
                    destination_id="noord",
                    version="ref-v2",
                    message_type="REF^I12^REF_I12",
                    control_id=f"C{seq}",
                    payload=b"MSH|",
                    status=status,
                    created_at=at,
                    updated_at=at,
                    resend_of=None if of is None else ids[of],
                )
            )
        await conn.commit()

    opened = await site.open()
    try:
        roots = {link.id: link for link in await opened.resend_family([ids["r2b"]])}
        assert set(roots) == {ids[n] for n in ("first", "r1", "r2", "r2b")}
        assert await count_open_dead_letters(opened) == {"noord": 3}  # r2b, second, r3
        open_ids = {x.message.id for x in await list_dead_letters(opened)}
        assert open_ids == {ids["r2b"], ids["second"], ids["r3"]}
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        rows = await conn.execute(select(messages.c.id, messages.c.family_root))
        family_root = {message_id: root for message_id, root in rows}
        assert await conn.run_sync(current_revision) == HEAD_REVISION
    assert family_root == {
        ids["first"]: None,
        ids["r1"]: ids["first"],
        ids["r2"]: ids["first"],
        ids["r2b"]: ids["first"],
        ids["second"]: None,
        ids["r3"]: ids["second"],
    }


async def test_migration_0026_keeps_searches_by_bsn_and_takes_ones_without(site: Site) -> None:
    """A search by BSN kept before 0026 still opens after it, and a search without a BSN (its
    hash null, which 0017's column refused) is kept and opens too."""
    await migrate_to(site, "0025")
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    person = "0e260000-0000-4000-8000-000000000001"
    anna = Identity(IdentityKind.PERSON, person, "person:anna@example.nl")
    handle = "kept-before-0026"
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(people).values(
                id=person,
                email="anna@example.nl",
                name="Anna",
                status="active",
                created_at=now,
            )
        )
        await conn.execute(
            insert(console_searches).values(
                id=hashlib.sha256(handle.encode()).hexdigest(),
                person_id=person,
                kind="messages",
                terms="{}",
                bsn_hash="ab" * 32,
                created_at=now,
                expires_at=now + LASTS,
            )
        )
        await conn.commit()

    opened = await site.open()
    try:
        before = await kept_searches.kept(opened, anna, "messages", handle, now=now)
        assert before.bsn_hash == "ab" * 32
        made = await kept_searches.keep(opened, anna, "audit", {"action": "x"}, None, now=now)
        found = await kept_searches.kept(opened, anna, "audit", made.handle, now=now)
        assert (found.terms, found.bsn_hash) == ({"action": "x"}, None)
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_migration_0030_marks_the_events_stored_without_a_message(site: Site) -> None:
    """Events kept before 0030 with no message are the unrouted ones after it, listed and
    counted as before; an event with a message is not, and routing one clears its mark."""
    await migrate_to(site, "0029")
    routed, waiting, other = make_event(), make_event(), make_event(provider_id="lab-oost")
    message = make_message(destination_id="noord")
    async with raw_connection(site) as conn:
        for event in (routed, waiting, other):
            await conn.execute(insert(events).values(**row_before_0037(event)))
        await conn.execute(
            insert(messages).values(
                id=message.id,
                seq=1000,  # past what PostgreSQL's identity gives the routed message
                event_id=routed.id,
                destination_id="noord",
                version="ref-v2",
                message_type="REF^I12^REF_I12",
                control_id="C1",
                payload=b"MSH|",
                status="delivered",
                created_at=routed.received_at,
                updated_at=routed.received_at,
            )
        )
        await conn.commit()

    opened = await site.open()
    try:
        unrouted = await opened.list_events(EventFilter(unrouted=True))
        assert {e.id for e in unrouted} == {waiting.id, other.id}
        assert await opened.count_unrouted_events() == {
            waiting.provider_id: 1,
            "lab-oost": 1,
        }
        await opened.add_routed_messages(
            [NewRouting(other.id, (make_message(destination_id="oost"),))],
            actor="local:test",
            reason="routed after 0030",
        )
        assert [e.id for e in await opened.list_events(EventFilter(unrouted=True))] == [waiting.id]
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


# -- a new SQLite store made from the head schema (integrator.store.sqlite_head) -------------


def _sqlite_schema(path: Path) -> tuple[list[str], list[str]]:
    """The schema statements and the recorded revisions of the SQLite database at ``path``."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name"
        ).fetchall()
        revisions = [r for (r,) in conn.execute("SELECT version_num FROM alembic_version")]
    return sorted(sql for _, _, sql in rows), revisions


async def test_migration_0036_keeps_a_session_from_before_it_working_with_no_reason(
    site: Site,
) -> None:
    """A console session opened before 0036 goes on working, with no reason stated (None: its
    views are recorded without one, as they were); its person can state one afterwards."""
    await migrate_to(site, "0035")
    clock = ManualClock(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    ada = "ada00000-0000-4000-8000-000000000036"
    raw = secrets_.new_token()
    async with raw_connection(site) as conn:
        await conn.execute(
            insert(people).values(
                id=ada, email="ada@example.nl", name="Ada", status="active", created_at=clock.now()
            )
        )
        await conn.execute(
            insert(sessions).values(
                id=secrets_.hash_secret(raw),
                person_id=ada,
                two_factor=True,
                created_at=clock.now(),
                last_seen_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=12),
            )
        )
        await conn.commit()

    opened = await site.open(clock.now)
    try:
        access = AccessService(opened, clock)
        before = await access.authenticate_session(raw)
        assert before is not None and before.session_reason is None
        assert await access.state_session_reason(raw, "storing bij noord")
        after = await access.authenticate_session(raw)
        assert after is not None and after.session_reason == "storing bij noord"
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


async def test_migration_0037_keeps_events_from_before_it_with_no_caller(site: Site) -> None:
    """An event accepted before 0037 reads with no caller (shown as ``-``) and is never found
    by a search for one; an event accepted after it keeps who sent it and is found by it."""
    await migrate_to(site, "0036")
    old = make_event(zd_number="ZD100000037")
    async with raw_connection(site) as conn:
        await conn.execute(insert(events).values(**row_before_0037(old)))
        await conn.commit()

    opened = await site.open()
    try:
        stored = await opened.get_event(old.id)
        assert stored is not None and stored.caller is None
        new = make_event(zd_number="ZD100000037", caller="token:ci-intake")
        assert await opened.accept_event(new, [])
        kept = await opened.get_event(new.id)
        assert kept is not None and kept.caller == "token:ci-intake"
        listed = await opened.list_events(EventFilter(zd_number="ZD100000037"))
        assert {(e.id, e.caller) for e in listed} == {
            (old.id, None),
            (new.id, "token:ci-intake"),
        }
        by_caller = await opened.list_events(EventFilter(caller="token:ci-intake"))
        assert [e.id for e in by_caller] == [new.id]
        assert await opened.count_events(EventFilter(caller="token:ci-intake")) == 1
    finally:
        await opened.close()
    async with raw_connection(site) as conn:
        assert await conn.run_sync(current_revision) == HEAD_REVISION


@pytest.mark.parametrize("held", [True, False], ids=["with-events", "empty"])
async def test_migration_0038_stands_in_for_the_last_engine_of_a_store_that_held_data(
    site: Site, held: bool
) -> None:
    """A store with events and no recorded periods was last run by a version from before
    engines recorded them, which kept unrouted events for ever: ``prune`` must be judged
    against that (docs/deploy.md, Upgrades). A store with no event was not: no row."""
    await migrate_to(site, "0037")
    if held:
        async with raw_connection(site) as conn:
            await conn.execute(insert(events).values(**event_row(make_event(), Sealer())))
            await conn.commit()
    opened = await site.open()
    try:
        last = await opened.last_engine_retention()
    finally:
        await opened.close()
    if not held:
        assert last is None
        return
    assert last is not None and (last.host, last.pid, last.retention) == ("", 0, "{}")
    assert kept_longer(last, Retention()) == [
        "INTEGRATOR_RETAIN_UNROUTED_DAYS is 0 (for ever) there, 90 days here"
    ]
    assert kept_longer(last, Retention(unrouted_days=0)) == []


async def test_migration_0039_lists_the_events_pruned_before_any_message_as_never_routed(
    site: Site,
) -> None:
    """Retention cleared a pruned unrouted event's mark, so no listing could name the referrals
    no hospital got: 0039 marks those pruned before, and they list as never routed."""
    await migrate_to(site, "0038")
    pruned = make_event()
    waiting = make_event()
    async with raw_connection(site) as conn:
        at = datetime(2026, 12, 1, 3, tzinfo=UTC)
        await conn.execute(
            insert(events).values(**event_row(pruned, Sealer()), pruned_at=at, unrouted=False)
        )
        await conn.execute(insert(events).values(**event_row(waiting, Sealer()), unrouted=True))
        await conn.commit()
    opened = await site.open()
    try:
        never = await opened.list_events(EventFilter(never_routed=True))
        unrouted = await opened.list_events(EventFilter(unrouted=True))
    finally:
        await opened.close()
    assert [(e.id, e.unrouted, e.pruned_at is not None) for e in never] == [
        (pruned.id, False, True)
    ]
    assert [e.id for e in unrouted] == [waiting.id]


def row_before_0037(event: EventRecord) -> dict[str, Any]:
    """``event``'s row as a store before 0037 holds it: without ``caller``."""
    row = event_row(event, Sealer())
    del row["caller"]
    return row


async def test_the_sqlite_head_file_is_what_the_migrations_make() -> None:
    """A new revision without a new file would make new stores without it (if the revisions
    matched) or slowly (they do not): the file must be written again with the revision."""
    made = await sqlite_head.migrated_statements()
    assert sqlite_head.head_statements() == tuple(made), (
        "integrator/store/migrations/sqlite_head.json is not what the migrations make: "
        "run `python -m integrator.store.sqlite_head` (or `make schemas`)"
    )


async def test_a_new_sqlite_store_has_exactly_the_schema_the_migrations_make(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'new.db'}")
    await store.close()
    migrated = await sqlite_head.migrated_statements()  # a scratch file, through Alembic

    schema, revisions = _sqlite_schema(tmp_path / "new.db")
    assert schema == sorted(migrated)
    assert revisions == [HEAD_REVISION]
    assert len(schema) > len(STORE_TABLES)  # tables and their indexes


async def test_a_head_file_of_another_revision_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "sqlite_head.json"
    stale.write_text(json.dumps({"revision": "0001", "statements": ["CREATE TABLE wrong (x)"]}))
    monkeypatch.setattr(sqlite_head, "HEAD_FILE", stale)
    sqlite_head.head_statements.cache_clear()
    try:
        store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
        await store.close()
    finally:
        sqlite_head.head_statements.cache_clear()
    schema, revisions = _sqlite_schema(tmp_path / "store.db")
    assert revisions == [HEAD_REVISION]  # migrated through Alembic instead
    assert not any("wrong" in statement for statement in schema)


async def test_a_database_with_a_table_of_its_own_is_left_to_alembic(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE someone_elses (x INTEGER)")
    store = await Store.open(f"sqlite:///{path}")
    await store.close()
    schema, revisions = _sqlite_schema(path)
    assert revisions == [HEAD_REVISION]
    assert any("someone_elses" in statement for statement in schema)


# -- a new PostgreSQL store made from the table definitions (integrator.store.postgres_head) -

_PG_COLUMNS = """SELECT table_name, column_name, data_type, character_maximum_length,
    numeric_precision, is_nullable, column_default
    FROM information_schema.columns WHERE table_schema = current_schema()"""
_PG_CONSTRAINTS = """SELECT cl.relname, c.conname, c.contype, pg_get_constraintdef(c.oid)
    FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = current_schema()"""
_PG_INDEXES = """SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema()"""


async def _pg_catalog(site: Site) -> dict[str, list[tuple[str, ...]]]:
    """The schema's columns, constraints and indexes as PostgreSQL describes them, with the
    schema's own name taken out so that two schemas can be compared."""
    described = {}
    async with raw_connection(site) as conn:
        for part, query in (
            ("columns", _PG_COLUMNS),
            ("constraints", _PG_CONSTRAINTS),
            ("indexes", _PG_INDEXES),
        ):
            rows = (await conn.exec_driver_sql(query)).all()
            described[part] = sorted(
                tuple(
                    str(value).replace(f'"{site.schema}".', "").replace(f"{site.schema}.", "")
                    for value in row
                )
                for row in rows
            )
    return described


@pytest.mark.postgres
async def test_a_new_postgres_store_has_exactly_the_schema_the_migrations_make() -> None:
    """The table definitions make what the migrations make, column for column, constraint
    for constraint, index for index: else a new store would differ from an upgraded one."""
    async with postgres_site() as new, postgres_site() as migrated:
        store = await new.open()
        await store.close()
        engine = create_engine(resolve(migrated.url, migrated.schema))
        try:
            await upgrade_to_head(engine, migrated.schema)  # revision by revision
        finally:
            await engine.dispose()

        made, replayed = await _pg_catalog(new), await _pg_catalog(migrated)
        assert made == replayed
        assert len(made["indexes"]) > len(STORE_TABLES)
        async with raw_connection(new) as conn:
            assert await conn.run_sync(current_revision) == HEAD_REVISION


@pytest.mark.postgres
async def test_a_postgres_schema_with_a_table_of_its_own_is_left_to_alembic() -> None:
    async with postgres_site() as site:
        engine = create_engine(resolve(site.url, site.schema))
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA "{site.schema}"')
                await conn.exec_driver_sql("CREATE TABLE someone_elses (x INTEGER)")
        finally:
            await engine.dispose()
        store = await site.open()
        await store.close()
        async with raw_connection(site) as conn:
            assert await conn.run_sync(current_revision) == HEAD_REVISION
            tables = await conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
            assert set(tables.scalars()) == STORE_TABLES | {"alembic_version", "someone_elses"}
