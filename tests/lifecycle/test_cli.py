"""``integrator prune`` and ``integrator backup`` as operators run them, on a SQLite store.

Rows are written with a clock 200 days back, so the command's own clock finds them past their
period. The backup is taken while a writer keeps adding events and audit entries, then restored
to a new path as docs/operators.md says, and read there.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import shutil
import sqlite3
import stat
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.cli import app
from integrator.engine import Engine
from integrator.logging import configure_logging
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import Store
from tests.cli_in_process import json_error
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

LONG_AGO = datetime.now(UTC) - timedelta(days=200)


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'integrator.db'}",
        "USER": "tester",
        "INTEGRATOR_HTTP_PORT": "1",
    }


def key_settings(env: dict[str, str]) -> Settings:
    return resolve_search_key(Settings(database_url=env["INTEGRATOR_DATABASE_URL"]), create=True)


async def fill(env: dict[str, str], count: int, *, at: datetime) -> list[str]:
    """``count`` delivered messages written at ``at``, each with a patient's BSN hash."""
    settings = key_settings(env)
    store = await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=lambda: at)
    ids = []
    try:
        for _ in range(count):
            message = make_message()
            event = make_event(received_at=at, bsn_hash=settings.bsn_hash("999990019"))
            assert await store.accept_event(event, [message])
            await store.set_status(message.id, "delivered")
            ids.append(message.id)
        await store.add_audit("local:tester", "test.fill", "store", details={"n": count})
    finally:
        await store.close()
    return ids


def test_prune_dry_run_then_real_run_and_show_says_pruned(env: dict[str, str]) -> None:
    [old, *_] = asyncio.run(fill(env, 3, at=LONG_AGO))
    asyncio.run(fill(env, 1, at=datetime.now(UTC)))

    dry = cli(env, "prune", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True
    assert planned["counts"] == {
        "messages": 3,
        "dead_letters": 0,
        "events": 3,
        "unrouted": 0,
        "rejected": 0,
        "jobs": 0,
        "confirmations": 0,
        "searches": 0,
        "answers": 0,
        "idempotency_keys": 0,
        "sessions": 0,
        "audit": 0,
    }
    shown = cli(env, "messages", "show", old)
    assert "payload pruned" not in shown.stdout and "MSH" in shown.stdout

    real = cli(env, "prune", "--json")
    assert real.exit_code == 0, real.output
    assert json.loads(real.stdout)["counts"] == planned["counts"]

    shown = cli(env, "messages", "show", old)
    assert shown.exit_code == 0, shown.output
    assert "payload pruned on" in shown.stdout and "HL7 fields" not in shown.stdout
    detail = json.loads(cli(env, "messages", "show", old, "--json").stdout)
    assert detail["pruned_at"] is not None and detail["status"] == "delivered"
    listed = json.loads(cli(env, "messages", "list", "--json").stdout)
    assert len(listed) == 4  # the rows stay

    audit = json.loads(cli(env, "audit", "list", "--action", "data.prune", "--json").stdout)
    assert len(audit) == 1 and audit[0]["actor"] == "local:tester"
    assert cli(env, "audit", "verify").exit_code == 0

    again = cli(env, "prune", "--json")
    assert json.loads(again.stdout)["counts"]["messages"] == 0


def test_audit_verify_says_where_the_chain_starts_after_a_prune(env: dict[str, str]) -> None:
    asyncio.run(fill(env, 1, at=LONG_AGO))
    asyncio.run(fill(env, 1, at=datetime.now(UTC)))
    env = {**env, "INTEGRATOR_RETAIN_AUDIT_DAYS": "100"}
    assert json.loads(cli(env, "prune", "--dry-run", "--json").stdout)["counts"]["audit"] == 1

    pruned = cli(env, "prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["counts"]["audit"] == 1  # the old fill's entry

    shown = cli(env, "audit", "verify", "--quiet")
    assert shown.exit_code == 0, shown.output
    assert "the chain starts after pruned entries (up to 1, pruned on 20" in shown.stdout
    # the new fill's, the prune's three (its start, the anchor's entry, its end)
    assert "audit log intact: 4 entries checked" in shown.stdout
    view = json.loads(cli(env, "audit", "verify", "--json").stdout)
    assert view["intact"] and view["starts_after"]["seq"] == 1
    assert set(view["starts_after"]) == {"seq", "hash", "pruned_at"}
    table = cli(env, "prune", "--quiet")
    assert "audit entries" in table.stdout and "100 days" in table.stdout


def test_prune_prints_a_table_per_kind(env: dict[str, str]) -> None:
    asyncio.run(fill(env, 2, at=LONG_AGO))
    result = cli(env, "prune", "--quiet")
    assert result.exit_code == 0, result.output
    assert "message payloads" in result.stdout and "90 days" in result.stdout
    # The console's confirmations have no period: each expires by itself, and goes then.
    assert "console confirmations, expired (deleted)" in result.stdout
    assert "until it expires" in result.stdout
    assert "space: incremental_vacuum" in result.stdout


def test_prune_vacuum_switches_an_old_store_to_incremental(
    env: dict[str, str], tmp_path: Path
) -> None:
    # A store from before auto_vacuum: the file existed, not empty, when the store was made.
    path = tmp_path / "var" / "integrator.db"
    path.parent.mkdir()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE older (x INTEGER)")
    asyncio.run(fill(env, 1, at=LONG_AGO))

    plain = cli(env, "prune", "--json")
    assert plain.exit_code == 0, plain.output
    assert "run prune --vacuum once" in json.loads(plain.stdout)["space"]
    assert cli(env, "prune", "--vacuum", "--dry-run").exit_code == 2

    result = cli(env, "prune", "--vacuum", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["space"] == "vacuum"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental


def test_a_bad_retention_setting_names_the_variable_and_rule(env: dict[str, str]) -> None:
    asyncio.run(fill(env, 1, at=LONG_AGO))
    result = cli({**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "-1"}, "prune")
    assert result.exit_code == 2
    assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS" in result.stderr
    assert "greater than or equal to 0" in result.stderr


@pytest.mark.parametrize(
    ("days", "rule"),
    [
        ("-1", "greater than or equal to 0"),
        ("60", "shorter than INTEGRATOR_RETAIN_PAYLOAD_DAYS (90 days): the audit trail must be"),
    ],
)
def test_a_bad_audit_retention_names_the_variable_and_rule(
    env: dict[str, str], days: str, rule: str
) -> None:
    asyncio.run(fill(env, 1, at=LONG_AGO))
    result = cli({**env, "INTEGRATOR_RETAIN_AUDIT_DAYS": days}, "prune")
    assert result.exit_code == 2
    assert "INTEGRATOR_RETAIN_AUDIT_DAYS" in result.stderr and rule in result.stderr


@pytest.mark.parametrize(
    "variable",
    [
        "INTEGRATOR_RETAIN_PAYLOAD_DAYS",
        "INTEGRATOR_RETAIN_DEAD_LETTER_DAYS",
        "INTEGRATOR_RETAIN_REJECTED_DAYS",
        "INTEGRATOR_RETAIN_AUDIT_DAYS",
    ],
)
@pytest.mark.parametrize("days", ["1000000", "99999999999"])
def test_a_period_past_the_calendar_is_refused_naming_the_variable(
    env: dict[str, str], variable: str, days: str
) -> None:
    """A million days ("for ever, surely") reached back before year 1: ``prune`` ended in an
    OverflowError traceback and the engine's daily prune failed every 15 minutes, so nothing,
    not even what expires by itself, was pruned. Now it is refused like any bad period."""
    asyncio.run(fill(env, 1, at=LONG_AGO))
    periods = {"INTEGRATOR_RETAIN_AUDIT_DAYS": "0"}  # so that the audit rule does not speak first
    for dry_run in (["--dry-run"], []):
        result = cli({**env, **periods, variable: days}, "prune", *dry_run, "--json")
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        refused = json_error(result.stdout, 2)  # --json: the error as JSON, no report
        assert f"{variable}: at most 36525 days (100 years); 0 keeps" in result.stderr
        assert f"{variable}: at most 36525 days (100 years); 0 keeps" in refused["message"]
    assert json.loads(cli(env, "prune", "--dry-run", "--json").stdout)["counts"]["messages"] == 1
    longest = cli({**env, **periods, variable: "36525"}, "prune", "--json")
    assert longest.exit_code == 0, longest.output


def test_prune_never_creates_a_store(env: dict[str, str], tmp_path: Path) -> None:
    result = cli(env, "prune")
    assert result.exit_code == 1
    assert not (tmp_path / "var" / "integrator.db").exists()


async def test_backup_while_the_engine_writes_then_restore_and_verify(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    # As `integrator run` logs: to stderr. structlog's default writes to stdout, which the CLI
    # runner below captures process-wide, so the engine's lines would land in the JSON.
    configure_logging()
    receiver = MllpReceiver()
    await receiver.start()
    noord = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    engine = Engine(
        settings_for(tmp_path, database_url=env["INTEGRATOR_DATABASE_URL"]),
        catalog=build_catalog([("ziekenhuis-noord.yaml", noord)], today=date.today()),
    )
    await engine.start()
    stop = asyncio.Event()
    under_way = asyncio.Event()
    written = 0

    async def keep_submitting() -> None:
        """The engine takes referrals, delivers them and records the attempts meanwhile."""
        nonlocal written
        while not stop.is_set():
            data = copy.deepcopy(referral_data)
            data["event_id"] = str(uuid.uuid4())
            result = await engine.intake.submit(json.dumps(data), source="cli")
            await engine.store.add_audit("local:tester", "test.write", result.event_id)
            written += 1
            if written == 5:
                under_way.set()

    writer = asyncio.create_task(keep_submitting())
    backup = tmp_path / "backups" / "integrator.db"
    backup.parent.mkdir()
    try:
        await under_way.wait()
        result = await asyncio.to_thread(cli, env, "backup", str(backup), "--json")
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        await writer
        await engine.stop()
        await receiver.stop()
    report = json.loads(result.stdout)
    assert report["path"] == str(backup) and report["pages"] > 0
    key_copy = Path(report["search_key_file"])
    assert key_copy == backup.with_name("integrator.db.search-key")
    assert stat.S_IMODE(os.stat(key_copy).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600

    # Restore as docs/operators.md says: the file and its key file to the store's path.
    restored = tmp_path / "restored" / "var" / "integrator.db"
    restored.parent.mkdir(parents=True)
    shutil.copy2(backup, restored)
    shutil.copy2(key_copy, restored.with_name("integrator.db.search-key"))
    restored_env = {**env, "INTEGRATOR_DATABASE_URL": f"sqlite:///{restored}"}

    copied = await Store.open_existing(restored_env["INTEGRATOR_DATABASE_URL"])
    try:
        messages = await copied.list_messages(limit=100000)
        audited = await copied.count_audit()
    finally:
        await copied.close()
    assert 5 <= len(messages) <= written  # a consistent moment while the engine wrote
    assert audited >= 5
    verified = await asyncio.to_thread(cli, restored_env, "audit", "verify", "--quiet")
    assert verified.exit_code == 0, verified.output
    # The key came along: a BSN search on the copy finds the patient's messages.
    found = await asyncio.to_thread(
        cli, restored_env, "messages", "list", "--bsn", "999990019", "--json", "--limit", "1000"
    )
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.stdout)) == len(messages)


def test_backup_refuses_to_overwrite_unless_forced(env: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(fill(env, 1, at=LONG_AGO))
    target = tmp_path / "copy.db"
    target.write_bytes(b"something else")
    refused = cli(env, "backup", str(target))
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert target.read_bytes() == b"something else"
    forced = cli(env, "backup", str(target), "--force", "--quiet")
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes().startswith(b"SQLite format 3")
    audit = json.loads(cli(env, "audit", "list", "--action", "data.backup", "--json").stdout)
    assert len(audit) == 1  # the refused one is not recorded
    assert audit[0]["actor"] == "local:tester" and audit[0]["target"] == str(target)


def test_backup_to_a_directory_or_a_missing_one_is_refused_before_copying(
    env: dict[str, str], tmp_path: Path
) -> None:
    asyncio.run(fill(env, 1, at=LONG_AGO))
    folder = tmp_path / "backups"
    folder.mkdir()
    for force in ([], ["--force"]):
        into_folder = cli(env, "backup", str(folder), *force, "--quiet")
        assert into_folder.exit_code == 2, into_folder.output
        assert f"{folder} is a directory: FILE names the backup file itself" in into_folder.stderr
        assert "Traceback" not in into_folder.output
    assert list(folder.iterdir()) == []  # no partial copy left behind
    missing = cli(env, "backup", str(tmp_path / "nowhere" / "copy.db"), "--quiet")
    assert missing.exit_code == 2
    assert f"{tmp_path / 'nowhere'} does not exist: make the directory first" in missing.stderr
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize(
    ("suffix", "named"),
    [
        (".search-key", "search key file"),
        ("-wal", "write-ahead log"),
        ("-shm", "shared-memory index"),
    ],
)
def test_backup_never_writes_over_a_file_of_the_store_even_forced(
    env: dict[str, str], tmp_path: Path, suffix: str, named: str
) -> None:
    """``backup var/integrator.db.search-key --force`` replaced the store's search key with a
    copy of the database: the store then opened for nobody, and its BSNs could never be found."""
    asyncio.run(fill(env, 1, at=LONG_AGO))
    store = tmp_path / "var" / "integrator.db"
    key_file = tmp_path / "var" / "integrator.db.search-key"
    key = key_file.read_bytes()
    own = store.with_name(store.name + suffix)
    for force in ([], ["--force"]):
        refused = cli(env, "backup", str(own), *force, "--quiet")
        assert refused.exit_code == 2, refused.output
        assert f"FILE would be {own}, the store's {named}, not a backup" in refused.stderr
        assert "nothing was copied" in refused.stderr and "Traceback" not in refused.output
    assert key_file.read_bytes() == key
    assert not list(store.parent.glob("*.partial")) and not list(
        store.parent.glob("*.search-key.*")
    )
    assert json.loads(cli(env, "audit", "list", "--action", "data.backup", "--json").stdout) == []
    shown = cli(env, "messages", "list", "--json")  # the store still opens, with its own key
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)) == 1


def test_backup_refuses_a_postgresql_store_pointing_to_pg_dump(tmp_path: Path) -> None:
    env = {
        "INTEGRATOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        "INTEGRATOR_SEARCH_KEY": "k" * 32,
    }
    result = cli(env, "backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 2
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_of_a_missing_store_fails_and_makes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = cli(env, "backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 1 and "no store" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_of_the_default_relative_store_from_the_engines_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README's ``integrator backup FILE`` with the default store URL, a relative path: run from
    the engine's directory as the docs say, and the copy opens where it is restored."""
    monkeypatch.chdir(tmp_path)
    env = {"INTEGRATOR_DATABASE_URL": "sqlite:///var/integrator.db", "USER": "tester"}
    (tmp_path / "var").mkdir()
    [kept] = asyncio.run(fill(env, 1, at=datetime.now(UTC)))
    (tmp_path / "backups").mkdir()

    result = cli(env, "backup", "backups/integrator.db", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    backup = tmp_path / "backups" / "integrator.db"
    assert report["path"] == str(backup)  # absolute: it says where, whichever directory
    assert Path(report["search_key_file"]) == backup.with_name("integrator.db.search-key")

    restored = tmp_path / "restored" / "var" / "integrator.db"
    restored.parent.mkdir(parents=True)
    shutil.copy2(backup, restored)
    shutil.copy2(report["search_key_file"], restored.with_name("integrator.db.search-key"))
    monkeypatch.chdir(tmp_path / "restored")
    shown = cli(env, "messages", "show", kept, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == kept
