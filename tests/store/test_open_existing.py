"""Commands that only read open the store with ``Store.open_existing``: it never creates one.

A read command that created an empty store where a wrong setting pointed would answer "0 shown";
instead it is told, by name, that there is no store there.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from integrator.store import Store
from integrator.store.url import NoStore
from tests.services import require_postgres
from tests.store.conftest import Site, postgres_site
from tests.store.factories import make_event, make_message
from tests.store.helpers import scalar

# About making, opening or migrating a store: a new, empty schema on PostgreSQL.
pytestmark = pytest.mark.fresh_schema


async def test_an_existing_store_is_opened_and_named(site: Site) -> None:
    async with await site.open() as created:
        message = make_message()
        await created.accept_event(make_event(), [message])
    async with await Store.open_existing(site.url, schema=site.schema) as store:
        assert await store.resolve_message_id(message.id[:8]) == message.id
        if site.backend == "sqlite":
            assert store.location == f"sqlite:///{make_url(site.url).database}"
        else:
            assert store.location.endswith(f"/test (schema {site.schema})")


async def test_a_missing_sqlite_file_and_its_folder_are_not_created(tmp_path: Path) -> None:
    path = tmp_path / "var" / "integrator.db"
    with pytest.raises(NoStore) as refused:
        await Store.open_existing(f"sqlite:///{path}")
    assert str(refused.value) == f"no store at sqlite:///{path}"
    assert refused.value.exit_code == 1
    assert not (tmp_path / "var").exists()


async def test_a_sqlite_file_without_a_store_is_not_made_one(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(NoStore, match=r"it holds no Integrator store$"):
        await Store.open_existing(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


@pytest.mark.postgres
async def test_an_empty_postgres_schema_is_not_migrated() -> None:
    async with postgres_site() as site:
        with pytest.raises(NoStore, match=r"it holds no Integrator store$"):
            await Store.open_existing(site.url, schema=site.schema)
        exists = await scalar(
            Site("postgresql", site.url),
            f"SELECT count(*) FROM pg_namespace WHERE nspname = '{site.schema}'",
        )
        assert exists == 0


@pytest.mark.postgres
async def test_a_missing_postgres_database_is_named_without_its_password() -> None:
    url = make_url(require_postgres()).set(
        password="s3cret", database=f"missing_{uuid.uuid4().hex[:8]}"
    )
    with pytest.raises(NoStore) as refused:
        await Store.open_existing(url.render_as_string(hide_password=False))
    text = str(refused.value)
    assert text.startswith("no store at postgresql+asyncpg://postgres:***@")
    assert text.endswith(f"/{url.database}: the database does not exist")
    assert "s3cret" not in text
