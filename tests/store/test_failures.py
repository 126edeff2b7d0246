"""Database failures reach callers as store errors that carry no message content."""

from __future__ import annotations

import sqlite3
import traceback
from pathlib import Path

import pytest
from sqlalchemy import text

from integrator.store import (
    Conflict,
    Store,
    StoreError,
    StoreUnavailable,
    UnknownMessage,
)
from integrator.store.failures import translate
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message
from tests.store.helpers import raw_connection, row_counts

SECRET = "BSN-123456782-Jansen"


def _everything_printed(error: BaseException) -> str:
    """What a log line with a traceback would show, causes and contexts included."""
    return "".join(traceback.format_exception(error)) + repr(error.__context__)


async def test_conflict_names_the_constraint_but_no_content(store: Store) -> None:
    taken = make_message(payload=SECRET.encode())
    await store.accept_event(make_event(payload={"bsn": SECRET}), [taken])

    clash = make_message(control_id=taken.control_id, warnings=(SECRET,))
    with pytest.raises(Conflict) as caught:
        await store.accept_event(make_event(payload={"bsn": SECRET}), [clash])

    error = caught.value
    assert str(error).startswith("accept events: a unique value is already taken")
    assert SECRET not in _everything_printed(error)
    assert error.__cause__ is None
    assert error.__context__ is None


async def test_database_refusal_with_row_details_is_not_leaked(store: Store, site: Site) -> None:
    # PostgreSQL answers a NOT NULL violation with "Failing row contains (…)": every value.
    broken = make_message(warnings=(SECRET,), version=SECRET)
    object.__setattr__(broken, "destination_id", None)

    with pytest.raises(StoreError) as caught:
        await store.accept_event(make_event(payload={"bsn": SECRET}), [broken])

    error = caught.value
    assert type(error) is StoreError
    assert "accept events failed" in str(error)
    assert SECRET not in _everything_printed(error)
    assert set((await row_counts(site)).values()) == {0}


async def test_unknown_message_is_a_lookup_error(store: Store) -> None:
    with pytest.raises(LookupError):
        await store.set_status("missing", "queued")
    assert issubclass(UnknownMessage, StoreError)


async def test_database_from_newer_code_is_refused(site: Site) -> None:
    opened = await site.open()
    await opened.close()
    async with raw_connection(site) as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        await conn.commit()

    with pytest.raises(StoreError, match="revision"):
        await site.open()


def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        holder.close()
        waiter.close()

    error = translate("record attempts", caught.value)

    assert isinstance(error, StoreUnavailable)
    assert "SQLITE_BUSY" in str(error)


@pytest.mark.postgres
async def test_unreachable_postgres_is_transient() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await Store.open("postgresql://postgres:s3cret@127.0.0.1:1/test")
    said = str(caught.value)
    # Which store did not answer and where that is set; never the password or the query.
    assert "nothing listens at 127.0.0.1:1 (INTEGRATOR_DATABASE_URL)" in said
    assert "s3cret" not in said


async def test_every_read_of_messages_maps_the_database_s_failure(tmp_path: Path) -> None:
    """``pending_messages`` lost its guard when a method was written above it: a store whose
    tables were gone raised SQLAlchemy's own error there (an API 500, not 503, and callers'
    retries on ``StoreError`` skipped), where ``list_messages`` raised a ``StoreError``."""
    url = f"sqlite:///{tmp_path}/store.db"
    store = await Store.open(url)
    try:
        with sqlite3.connect(tmp_path / "store.db") as db:
            db.execute("PRAGMA foreign_keys=OFF")
            db.execute("DROP TABLE attempts")
            db.execute("DROP TABLE resends")
            db.execute("DROP TABLE messages")
        for read in (
            lambda: store.list_messages(),
            lambda: store.pending_messages(),
            lambda: store.pending_messages(ids=["m"]),
            lambda: store.get_messages(["m"]),
            lambda: store.pending_refs(),
        ):
            with pytest.raises(StoreError):
                await read()
    finally:
        await store.close()
