"""The operator's short database URLs become async ones; unusable ones are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.store import Store, StoreConfigError
from integrator.store.url import NoStore, resolve


def test_relative_sqlite_url_uses_aiosqlite_and_creates_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    target = resolve("sqlite:///var/integrator.db")

    assert target.backend == "sqlite"
    assert target.url.drivername == "sqlite+aiosqlite"
    assert target.url.database == "var/integrator.db"
    assert (tmp_path / "var").is_dir()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cret@db.example:5433/integrator",
        "postgres://app:s3cret@db.example:5433/integrator",
        "postgresql+asyncpg://app:s3cret@db.example:5433/integrator",
    ],
)
def test_postgres_urls_use_asyncpg(url: str) -> None:
    target = resolve(url, schema="integrator_2")
    assert target.backend == "postgresql"
    assert target.url.drivername == "postgresql+asyncpg"
    assert (target.url.host, target.url.port, target.url.database) == (
        "db.example",
        5433,
        "integrator",
    )
    assert target.url.password == "s3cret"
    assert target.schema == "integrator_2"


@pytest.mark.parametrize(
    ("url", "schema", "complaint"),
    [
        ("mysql://app:s3cret@db/integrator", None, "unsupported database driver 'mysql'"),
        ("sqlite://", None, "in-memory"),
        ("sqlite:///:memory:", None, "in-memory"),
        ("sqlite:///file:x.db?uri=true", None, "URI"),
        ("sqlite:///x.db?timeout=5", None, "takes no query"),
        ("sqlite:///x.db", "tenant", "only be given for PostgreSQL"),
        ("postgresql://app:s3cret@db/integrator", 'x"; DROP TABLE events; --', "schema name"),
        ("postgresql://app:s3cret@db/integrator", "Upper", "schema name"),
        ("not a url at all", None, "cannot be parsed"),
    ],
)
def test_unusable_settings_are_refused_without_echoing_secrets(
    url: str, schema: str | None, complaint: str
) -> None:
    with pytest.raises(StoreConfigError) as caught:
        resolve(url, schema)
    assert complaint in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_sqlite_folder_that_cannot_exist(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreConfigError, match="folder"):
        resolve(f"sqlite:///{blocker / 'store.db'}")


async def test_store_open_refuses_a_bad_url() -> None:
    with pytest.raises(StoreConfigError):
        await Store.open("oracle://scott:tiger@db/orcl")


def test_without_create_a_missing_sqlite_file_is_no_store_and_nothing_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoStore) as refused:
        resolve("sqlite:///var/integrator.db", create=False)
    assert str(refused.value) == f"no store at sqlite:///{tmp_path}/var/integrator.db"
    assert list(tmp_path.iterdir()) == []


def test_without_create_a_file_where_the_sqlite_folder_should_be_is_named(
    tmp_path: Path,
) -> None:
    """Not just "no store": nothing can be there, the folder (or one above it) is a file."""
    (tmp_path / "var").write_text("not a folder")
    with pytest.raises(NoStore) as refused:
        resolve(f"sqlite:///{tmp_path}/var/db/integrator.db", create=False)
    assert str(refused.value) == (
        f"no store at sqlite:///{tmp_path}/var/db/integrator.db: {tmp_path / 'var'} is not a "
        "directory"
    )


def test_a_store_is_named_for_people_without_password_or_query(tmp_path: Path) -> None:
    pg = resolve("postgresql://app:s3cret@db.example:5433/integrator?sslpassword=x&sslmode=require")
    assert pg.display == "postgresql://app:***@db.example:5433/integrator"
    assert resolve("postgres://db/integrator", "tenant").display == (
        "postgres://db/integrator (schema tenant)"
    )
    assert resolve(f"sqlite+aiosqlite:///{tmp_path}/s.db").display == f"sqlite:///{tmp_path}/s.db"
