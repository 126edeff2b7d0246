"""Every migration's ``downgrade()`` runs: a store goes to head, down to base, and up again.

Nothing ran them before, so one that no longer matched its ``upgrade()`` (a column dropped
twice, an index left behind that the next upgrade makes again) would have been found by an
operator rolling a release back. On both backends: the migrations branch on the dialect.
"""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text

from integrator import kept_searches
from integrator.store import NewMessage, NewResend
from integrator.store.engine import create_engine
from integrator.store.migrate import alembic_config, current_revision, head_revision
from integrator.store.sealing import DataKey, Sealer
from integrator.store.url import resolve
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message, new_id
from tests.store.helpers import raw_connection
from tests.store.test_confirmations import NOW, _person
from tests.store.test_kept_searches import _identity
from tests.store.test_sealed_totp import enrolled

# Makes and unmakes a whole schema: a new, empty one on PostgreSQL.
pytestmark = pytest.mark.fresh_schema


async def _run(site: Site, step: str, revision: str) -> tuple[str | None, set[str]]:
    """``alembic <step> <revision>`` on the site's store; then its revision and its tables."""
    engine = create_engine(resolve(site.url, site.schema))

    def migrate(conn: Connection) -> tuple[str | None, set[str]]:
        getattr(command, step)(alembic_config(conn), revision)
        return current_revision(conn), set(inspect(conn).get_table_names())

    try:
        async with engine.connect() as conn:
            if site.schema is not None:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{site.schema}"'))
            else:  # in one transaction, as the store migrates (integrator.store.migrate)
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            found = await conn.run_sync(migrate)
            await conn.commit()
            return found
    finally:
        await engine.dispose()


async def test_head_down_to_base_and_up_again(site: Site) -> None:
    head = head_revision()
    revision, tables = await _run(site, "upgrade", "head")
    assert revision == head
    at_head = tables

    revision, tables = await _run(site, "downgrade", "base")
    assert revision is None
    assert tables <= {"alembic_version"}, tables  # every table of the store is gone

    revision, tables = await _run(site, "upgrade", "head")
    assert (revision, tables) == (head, at_head)


async def _resent(site: Site) -> None:
    """A store at head holding a resend in original mode, which repeats its original's
    control id (MSH-10), as the receiver must see it."""
    store = await site.open()
    try:
        message = make_message()
        assert await store.accept_event(make_event(), [message])
        await store.set_status(message.id, "delivered")
        original = await store.get_message(message.id)
        assert original is not None
        copy = NewMessage(
            id=new_id(),
            destination_id=original.destination_id,
            version=original.version,
            message_type=original.message_type,
            control_id=original.control_id,
            payload=original.payload,
            resend_of=original.id,
        )
        await store.add_resends([NewResend(original, copy, "original", "anna", "GP called")])
    finally:
        await store.close()


async def _sealed_secret(site: Site) -> None:
    """A store at head holding a TOTP secret sealed under a data key."""
    store = await site.open(sealer=Sealer([DataKey("k" * 32, os.urandom(32))]))
    try:
        await enrolled(store, "anna@example.nl")
    finally:
        await store.close()


async def _revision(site: Site) -> str | None:
    async with raw_connection(site) as conn:
        return await conn.run_sync(current_revision)


async def test_a_store_with_messages_goes_down_and_up_again(site: Site) -> None:
    """Batch mode's copy of ``messages`` and ``events`` on SQLite failed once attempts or
    messages referred to their rows (``FOREIGN KEY constraint failed``, below 0024)."""
    store = await site.open()
    try:
        message = make_message()
        assert await store.accept_event(make_event(), [message])
        await store.set_status(message.id, "delivered")
        await enrolled(store, "anna@example.nl")  # a plain secret fits back
    finally:
        await store.close()
    revision, _ = await _run(site, "downgrade", "0002")
    assert revision == "0002"
    async with raw_connection(site) as conn:
        kept = await conn.scalar(text("SELECT COUNT(*) FROM messages"))
    assert kept == 1
    revision, _ = await _run(site, "upgrade", "head")
    assert revision == head_revision()
    store = await site.open()
    try:
        found = await store.get_message(message.id)
        assert found is not None and found.status == "delivered"
    finally:
        await store.close()


async def test_resends_stop_the_downgrade_below_0003_saying_why(site: Site) -> None:
    await _resent(site)
    with pytest.raises(RuntimeError) as refused:
        await _run(site, "downgrade", "base")
    assert str(refused.value).startswith(
        "migration 0003 cannot be undone: the store holds 1 resend(s)"
    )
    assert "restore the backup made before the upgrade" in str(refused.value)
    assert await _revision(site) == head_revision()  # the whole run undone, not half of it


async def test_a_sealed_secret_stops_the_downgrade_below_0008_saying_why(site: Site) -> None:
    """PostgreSQL failed in the middle of the step; SQLite kept the envelope where the release
    before reads a plain secret, so its person could not sign in."""
    await _sealed_secret(site)
    with pytest.raises(RuntimeError) as refused:
        await _run(site, "downgrade", "base")
    assert str(refused.value).startswith(
        "migration 0008 cannot be undone: 1 person(s) have a TOTP secret sealed"
    )
    assert await _revision(site) == head_revision()


async def test_searches_without_a_bsn_go_with_the_downgrade_below_0026(site: Site) -> None:
    """0025's column takes no search without a BSN: those go (each lasts minutes, and a page
    of one that is gone says to search again); one by BSN stays, and opens again at head."""
    store = await site.open()
    try:
        anna = _identity(await _person(store))
        by_bsn = await kept_searches.keep(store, anna, "messages", {}, "ab" * 32, now=NOW)
        await kept_searches.keep(store, anna, "audit", {"action": "x"}, None, now=NOW)
    finally:
        await store.close()
    revision, _ = await _run(site, "downgrade", "0025")
    assert revision == "0025"
    async with raw_connection(site) as conn:
        rows = (await conn.execute(text("SELECT kind, bsn_hash FROM console_searches"))).all()
    assert [tuple(row) for row in rows] == [("messages", "ab" * 32)]
    revision, _ = await _run(site, "upgrade", "head")
    assert revision == head_revision()
    store = await site.open()
    try:
        found = await kept_searches.kept(store, anna, "messages", by_bsn.handle, now=NOW)
        assert found.bsn_hash == "ab" * 32
    finally:
        await store.close()
