"""The BSN search key: never a public one; the store's own random key, or the setting."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrator.cli import app
from integrator.engine import Engine
from integrator.search import BadSearch, build_filter
from integrator.searchkey import SearchKeyError, key_file_for, resolve_search_key
from integrator.settings import Settings

BSN = "999990019"


def settings_at(path: Path, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{path}", destinations_dir=path.parent, **extra)


def started_once(settings: Settings) -> None:
    """An engine started and stopped on ``settings``' store: the store has run before."""

    async def first() -> None:
        engine = Engine(settings)
        await engine.start()
        await engine.stop()

    asyncio.run(first())


def test_there_is_no_default_key() -> None:
    assert Settings().search_key is None
    assert "development" not in Settings.model_fields["search_key"].__repr__().lower()


def test_first_start_creates_a_random_key_with_mode_0600_and_later_starts_reuse_it(
    tmp_path: Path,
) -> None:
    settings = settings_at(tmp_path / "var" / "store.db")
    first = resolve_search_key(settings, create=True)
    key_file = tmp_path / "var" / "store.db.search-key"
    assert key_file_for(settings.database_url) == key_file
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.search_key is not None
    key = first.search_key.get_secret_value()
    assert len(key) == 64 and int(key, 16) >= 0
    assert key_file.read_text().strip() == key
    again = resolve_search_key(settings, create=True)
    assert again.search_key is not None and again.search_key.get_secret_value() == key
    read = resolve_search_key(settings, create=False)
    assert read.bsn_hash(BSN) == first.bsn_hash(BSN)
    assert [p.name for p in key_file.parent.iterdir()] == ["store.db.search-key"]


def test_two_stores_get_different_keys(tmp_path: Path) -> None:
    one = resolve_search_key(settings_at(tmp_path / "a.db"), create=True)
    two = resolve_search_key(settings_at(tmp_path / "b.db"), create=True)
    assert one.bsn_hash(BSN) != two.bsn_hash(BSN)


def test_the_setting_wins_and_no_file_is_made(tmp_path: Path) -> None:
    settings = settings_at(tmp_path / "store.db", search_key="a-key-of-sixteen-chars")
    assert resolve_search_key(settings, create=True) is settings
    assert not (tmp_path / "store.db.search-key").exists()


def test_a_read_command_makes_no_key_and_a_bsn_search_says_why(tmp_path: Path) -> None:
    settings = resolve_search_key(settings_at(tmp_path / "store.db"), create=False)
    assert settings.search_key is None
    assert not (tmp_path / "store.db.search-key").exists()
    with pytest.raises(BadSearch, match=r"store\.db\.search-key does not exist"):
        build_filter(settings, bsn=BSN)
    assert build_filter(settings, zd_number="ZD100000001").bsn_hash is None


def test_a_store_directory_that_is_a_file_is_said_to_be_one(tmp_path: Path) -> None:
    """Not "does not exist yet": nothing will ever be made there until the file is moved."""
    blocker = tmp_path / "store"
    blocker.write_text("a file where the store's directory should be\n")
    with pytest.raises(SearchKeyError) as created:
        resolve_search_key(settings_at(blocker / "store.db"), create=True)
    assert str(created.value) == (
        f"the search key file {blocker / 'store.db.search-key'} cannot be created: {blocker} is "
        "not a directory (INTEGRATOR_DATABASE_URL)"
    )
    settings = resolve_search_key(settings_at(blocker / "store.db"), create=False)
    with pytest.raises(BadSearch) as searched:
        build_filter(settings, bsn=BSN)
    said = str(searched.value)
    assert f"{blocker} is not a directory (INTEGRATOR_DATABASE_URL)" in said
    assert "does not exist" not in said and BSN not in said
    assert blocker.read_text() == "a file where the store's directory should be\n"


def test_a_short_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "store.db.search-key").write_text("short\n")
    with pytest.raises(SearchKeyError, match="at least 16"):
        resolve_search_key(settings_at(tmp_path / "store.db"), create=False)


def test_postgresql_without_the_setting_is_refused_naming_it() -> None:
    settings = Settings(database_url="postgresql://integrator@db.example/integrator")
    with pytest.raises(SearchKeyError, match="INTEGRATOR_SEARCH_KEY must be set"):
        resolve_search_key(settings, create=False)
    keyed = Settings(
        database_url="postgresql://integrator@db.example/integrator",
        search_key="a-key-of-sixteen-chars",
    )
    assert resolve_search_key(keyed, create=True) is keyed


def test_postgresql_without_the_setting_makes_commands_exit_2(tmp_path: Path) -> None:
    env = {
        "INTEGRATOR_DATABASE_URL": "postgresql://integrator@db.example/integrator",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["messages", "list"], env=env)
    assert result.exit_code == 2
    assert "INTEGRATOR_SEARCH_KEY must be set" in result.stderr


def test_a_bsn_search_from_the_cli_finds_what_the_engine_stored(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    settings = settings_at(tmp_path / "store.db")

    async def accept() -> str:
        engine = Engine(settings)
        await engine.start()
        try:
            result = await engine.intake.submit(json.dumps(referral_data), source="cli")
            assert await engine.wait_settled(timeout=10)
            return result.event_id
        finally:
            await engine.stop()

    event_id = asyncio.run(accept())
    assert (tmp_path / "store.db.search-key").stat().st_mode & 0o777 == 0o600
    env = {
        "INTEGRATOR_DATABASE_URL": settings.database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
    }
    found = CliRunner().invoke(app, ["events", "list", "--bsn", BSN, "--json"], env=env)
    assert found.exit_code == 0, found.output
    assert [row["id"] for row in json.loads(found.stdout)] == [event_id]
    other = CliRunner().invoke(app, ["events", "list", "--bsn", "999990020", "--json"], env=env)
    assert json.loads(other.stdout) == []


def test_another_search_key_than_the_stores_is_refused_by_the_engine_and_the_cli(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A store written with key A: an engine or a command with key B exits 2 naming the
    setting (never a key), writing nothing; with key A a BSN search finds the event."""
    from integrator.store.errors import SearchKeyMismatch
    from tests.cli_in_process import run_cli

    key_a, key_b = "the-right-search-key-0001", "the-wrong-search-key-0002"
    database = tmp_path / "store.db"

    async def accept(key: str) -> str:
        engine = Engine(settings_at(database, search_key=key))
        await engine.start()
        try:
            result = await engine.intake.submit(json.dumps(referral_data), source="cli")
            return result.event_id
        finally:
            await engine.stop()

    event_id = asyncio.run(accept(key_a))
    with pytest.raises(SearchKeyMismatch, match=r"^INTEGRATOR_SEARCH_KEY: the search key is not"):
        asyncio.run(accept(key_b))

    def counts() -> tuple[int, ...]:
        with sqlite3.connect(database) as conn:
            return tuple(
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("events", "messages", "audit_log", "search_key_check")
            )

    before = counts()
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{database}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_SEARCH_KEY": key_b,
    }
    sample = tmp_path / "event.json"
    sample.write_text(json.dumps({**referral_data, "event_id": str(uuid.uuid4())}))
    for command in (
        ("messages", "list", "--bsn", BSN),
        ("events", "list", "--bsn", BSN, "--json"),
        ("submit", str(sample)),
    ):
        result = run_cli(*command, env=env)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "INTEGRATOR_SEARCH_KEY: the search key is not the one this store" in result.stderr
        assert key_a not in result.stderr and key_b not in result.stderr
    assert counts() == before  # nothing written

    found = run_cli(
        "events", "list", "--bsn", BSN, "--json", env={**env, "INTEGRATOR_SEARCH_KEY": key_a}
    )
    assert found.returncode == 0, found.stderr
    assert [row["id"] for row in json.loads(found.stdout)] == [event_id]


def test_integrator_run_with_another_search_key_exits_2(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    database = tmp_path / "store.db"

    started_once(settings_at(database, search_key="the-right-search-key-0001"))
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{database}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_SEARCH_KEY": "the-wrong-search-key-0002",
        "INTEGRATOR_HTTP_PORT": "0",
    }
    text = refused_run(env, "the engine ran with another search key instead of being refused")
    assert "the engine could not start: INTEGRATOR_SEARCH_KEY: the search key is not" in text
    assert "nothing was written" in text


def test_a_lost_key_file_is_not_made_anew_and_the_start_says_where_to_restore_it_from(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The store's BSN hashes were made with its key file's key, and the file is gone: a new
    random key would never find them. Neither the engine nor ``submit`` makes one; each
    refuses (exit 2), naming the file and the backup's copy, never blaming a setting that is
    not set; and no file is left behind."""
    from tests.cli_in_process import run_cli

    database = tmp_path / "store.db"
    key_file = tmp_path / "store.db.search-key"

    async def start() -> None:
        engine = Engine(settings_at(database))
        await engine.start()
        await engine.stop()

    asyncio.run(start())
    key_file.rename(tmp_path / "moved-away")

    with pytest.raises(SearchKeyError) as refused:
        asyncio.run(start())
    said = str(refused.value)
    assert f"the search key file {key_file} is missing" in said
    assert "Copy the .search-key file from the store's backup" in said
    assert "INTEGRATOR_SEARCH_KEY:" not in said
    assert not key_file.exists()
    assert [p.name for p in tmp_path.iterdir() if "search-key" in p.name] == []

    sample = tmp_path / "event.json"
    sample.write_text(json.dumps(referral_data))
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{database}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_HTTP_PORT": "1",
    }
    submitted = run_cli("submit", str(sample), env=env)
    assert submitted.returncode == 2, submitted.stdout + submitted.stderr
    text = " ".join(submitted.stderr.split())
    assert f"the search key file {key_file} is missing" in text
    assert "INTEGRATOR_SEARCH_KEY: the search key is not" not in text
    assert not key_file.exists()

    (tmp_path / "moved-away").rename(key_file)  # put back: it starts as before
    asyncio.run(start())


def test_integrator_run_with_a_lost_key_file_exits_2_naming_it(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    key_file = tmp_path / "store.db.search-key"

    started_once(settings_at(database))
    key_file.unlink()
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{database}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_HTTP_PORT": "0",
    }
    env.pop("INTEGRATOR_SEARCH_KEY", None)
    text = refused_run(env, "the engine ran with a new search key instead of being refused")
    assert f"the engine could not start: the search key file {key_file} is missing" in text
    assert not key_file.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["messages", "list", "--bsn", BSN],
        ["events", "list", "--bsn", BSN],
        ["rejected", "list", "--bsn", BSN],
        ["audit", "list", "--bsn", BSN],
    ],
)
def test_a_bsn_search_on_a_store_that_lost_its_key_file_says_to_restore_it(
    tmp_path: Path, command: list[str]
) -> None:
    """A search by BSN said the file did "not exist yet (the engine creates it at its first
    start)", sending people to start an engine that then refused for the lost file. The store
    was started before: the search says the file is missing and where to restore it from, as
    ``run`` does. What needs no key still works, and nothing is made or changed."""
    from tests.cli_in_process import run_cli

    database = tmp_path / "store.db"
    key_file = tmp_path / "store.db.search-key"

    started_once(settings_at(database))
    key_file.unlink()
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{database}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
    }
    assert run_cli(*command[:2], env=env).returncode == 0
    searched = run_cli(*command, env=env)
    assert searched.returncode == 2, searched.stdout + searched.stderr
    said = " ".join(searched.stderr.split())
    assert said.startswith(
        f"error: --bsn: no BSN search key: the search key file {key_file} is missing, and this "
        "store's BSN hashes were made with the key it held. Copy the .search-key file from the "
        "store's backup (the FILE.search-key beside the backup's FILE), or from where it was "
        f"moved, to {key_file} (mode 0600), or set INTEGRATOR_SEARCH_KEY to that key"
    )
    assert "does not exist yet" not in said and "first start" not in said and BSN not in said
    assert not key_file.exists()


def test_a_key_file_with_another_key_is_named_in_the_refusal(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The key came from the store's key file, not the setting: the refusal names the file."""
    from integrator.store.errors import SearchKeyMismatch

    database = tmp_path / "store.db"
    key_file = tmp_path / "store.db.search-key"

    async def start() -> None:
        engine = Engine(settings_at(database))
        await engine.start()
        await engine.stop()

    asyncio.run(start())
    key_file.write_text("another-stores-search-key-0003\n")
    with pytest.raises(SearchKeyMismatch) as refused:
        asyncio.run(start())
    said = str(refused.value)
    assert said.startswith(f"the search key in {key_file} is not the one")
    assert "nothing was written" in said
    assert "another-stores-search-key-0003" not in said


def refused_run(env: dict[str, str], if_it_runs: str) -> str:
    """``integrator run`` that must be refused (exit 2): its stderr as words. A process with a
    time limit: an engine that wrongly starts would run on for good."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "integrator", "run", "--no-http"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(if_it_runs)
    assert result.returncode == 2, result.stderr
    return " ".join(result.stderr.split())
