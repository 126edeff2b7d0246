"""A new SQLite store made beside another store warns, naming both: a mistyped
``INTEGRATOR_DATABASE_URL`` (``integrater.db`` for ``integrator.db``) made a new, empty store
that an engine ran on, taking the destination files in as its own, with only an info line
saying "new store". And the line of a new store names the key file only where one is kept."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from integrator import searchkey
from integrator.store import Store
from integrator.store.beside import KEY_SUFFIX
from integrator.store.searchcheck import RECORDED_ON_NEW, search_key_check
from tests.store.conftest import Site

CHECK = search_key_check("a-test-search-key-of-enough-length")
BESIDE = "new store made beside another store"


async def _opened(database: Path) -> list[MutableMapping[str, Any]]:
    """The log of opening (making) the store at ``database``, and its key file beside it, as
    every store an engine ran on has."""
    with capture_logs() as logs:
        store = await Store.open(f"sqlite:///{database}", search_check=CHECK)
    await store.close()
    database.with_name(database.name + KEY_SUFFIX).write_text("key\n")
    return logs


async def test_a_new_store_beside_another_warns_naming_both(tmp_path: Path) -> None:
    real = tmp_path / "integrator.db"
    assert not [e for e in await _opened(real) if e["event"].startswith(BESIDE)]
    typo = tmp_path / "integrater.db"
    [warned] = [e for e in await _opened(typo) if e["event"].startswith(BESIDE)]
    assert warned["log_level"] == "warning"
    assert (warned["store"], warned["beside"]) == (str(typo), [str(real)])
    assert "INTEGRATOR_DATABASE_URL names the wrong file" in warned["event"]
    # Opened again, it is no new store: nothing more is said.
    assert not [e for e in await _opened(typo) if e["event"].startswith(BESIDE)]


async def test_a_file_that_only_looks_like_a_key_is_no_store(tmp_path: Path) -> None:
    (tmp_path / "gone.db.search-key").write_text("key\n")  # its store was moved away
    logs = await _opened(tmp_path / "integrator.db")
    assert not [e for e in logs if e["event"].startswith(BESIDE)]


def test_the_key_file_is_named_as_the_search_key_names_it() -> None:
    assert KEY_SUFFIX == searchkey.KEY_SUFFIX


async def test_a_new_store_s_line_names_the_key_file_only_where_there_is_one(site: Site) -> None:
    with capture_logs() as logs:
        store = await Store.open(site.url, schema=site.schema, search_check=CHECK)
    await store.close()
    [new] = [e for e in logs if e["event"] == RECORDED_ON_NEW]
    assert (".search-key" in new["meaning"]) is (site.backend == "sqlite"), new
