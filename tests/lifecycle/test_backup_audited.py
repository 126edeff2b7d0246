"""``integrator backup`` never leaves a copy without its audit entry (docs/operators.md, Backups).

The store is opened before the first page is copied, so data keys that do not fit it are
refused with nothing written; whatever fails once copying has started (the key file, the audit
write, a signal) deletes the copy and its key file, and the error says so. The command runs in
this process (``tests.cli_in_process``), so a failure can be put where it is wanted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from sqlalchemy.exc import OperationalError

from integrator.datakeys import sealer_for
from integrator.errors import RetryableError
from integrator.lifecycle import backup as backup_module
from integrator.lifecycle.backup import (
    BACKUP_ACTION,
    BACKUP_FAILED_ACTION,
    BackupReport,
    Progress,
)
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import AuditFilter, Store
from integrator.store.schema_version import HEAD_REVISION
from tests.cli_in_process import run_cli
from tests.store.factories import make_event, make_message

KEYS = "k4:" + base64.b64encode(b"4" * 32).decode()
OTHER_K4 = "k4:" + base64.b64encode(b"x" * 32).decode()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A store with messages sealed under data key ``k4`` and a search key file beside it."""
    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'var' / 'integrator.db'}"
    resolve_search_key(Settings(database_url=url), create=True)

    async def fill() -> None:
        async with await Store.open(url, sealer=sealer_for(KEYS)) as store:
            for _ in range(20):
                assert await store.accept_event(make_event(), [make_message()])

    asyncio.run(fill())
    return url


def env_for(url: str, keys: str | None = KEYS) -> dict[str, str]:
    env = {"INTEGRATOR_DATABASE_URL": url, "USER": "tester", "INTEGRATOR_HTTP_PORT": "1"}
    if keys is not None:
        env["INTEGRATOR_DATA_KEYS"] = keys
    return env


def backups_recorded(url: str, action: str = BACKUP_ACTION) -> int:
    async def count() -> int:
        async with await Store.open_existing(url, sealer=sealer_for(KEYS)) as store:
            return len(await store.list_audit(AuditFilter(action=action)))

    return asyncio.run(count())


def nothing_written(target: Path) -> bool:
    """Neither the copy, its key file, nor either's temporary file is there."""
    return not [p for p in target.parent.iterdir() if p.name.startswith(target.name)]


@pytest.fixture
def target(tmp_path: Path) -> Path:
    (tmp_path / "backups").mkdir()
    return tmp_path / "backups" / "copy.db"


@pytest.fixture
def no_copying(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Fails the test if a page is copied; the copies asked for, if any."""
    asked: list[Path] = []

    def refuse(source: Path, target: Path, progress: Progress | None) -> int:
        asked.append(target)
        raise AssertionError("a page was copied before the store was checked")

    monkeypatch.setattr(backup_module, "_copy", refuse)
    return asked


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (None, "the store holds values sealed with data key 'k4' and INTEGRATOR_DATA_KEYS"),
        (OTHER_K4, "the key under id 'k4' is not the key"),
    ],
    ids=["missing", "wrong"],
)
def test_data_keys_that_do_not_fit_are_refused_before_any_file_is_written(
    store_url: str, target: Path, no_copying: list[Path], keys: str | None, said: str
) -> None:
    refused = run_cli("backup", str(target), "--quiet", env=env_for(store_url, keys))
    assert refused.returncode == 2, refused.stderr
    assert said in refused.stderr and "INTEGRATOR_DATA_KEYS" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert no_copying == []
    assert nothing_written(target)
    assert backups_recorded(store_url) == 0


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("INSERT INTO audit_log", {}, Exception("database is locked")),
        RetryableError("the store did not answer"),
    ],
    ids=["store-error", "integrator-error"],
)
def test_a_failed_audit_write_deletes_the_copy_and_its_key_file(
    store_url: str, target: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    written: list[BackupReport] = []

    async def fails(store: Store, report: BackupReport, *, actor: str) -> None:
        # Complete under temporary names; FILE's names are taken only after the entry.
        assert report.path == target and report.key_file == target.with_name("copy.db.search-key")
        assert not report.path.exists() and not report.key_file.exists()
        assert target.with_name("copy.db.partial").exists()
        assert target.with_name("copy.db.search-key.partial").exists()
        written.append(report)
        raise failure

    monkeypatch.setattr(backup_module, "record_backup", fails)
    failed = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert failed.returncode == 1, failed.stderr
    assert "the backup could not be recorded in the audit trail" in failed.stderr
    assert "no backup was made: what was copied is deleted" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert written  # the copy was complete when the audit write failed
    assert nothing_written(target)
    assert backups_recorded(store_url) == 0


def test_a_failed_key_file_copy_deletes_the_copy(
    store_url: str, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(source: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_copy_key", full_disk)
    failed = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert failed.returncode == 1, failed.stderr
    assert "backup failed: OSError" in failed.stderr
    assert "no backup was made: what was copied is deleted" in failed.stderr
    assert nothing_written(target)
    assert backups_recorded(store_url) == 0


@pytest.fixture
def caught_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM noted here while the test runs, so that a backup that does not handle
    them fails the test instead of ending pytest; the handlers before are put back after."""
    caught: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    saved = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_copying_stops_the_copy_and_deletes_it(
    store_url: str,
    target: Path,
    monkeypatch: pytest.MonkeyPatch,
    caught_signals: list[int],
    sig: signal.Signals,
) -> None:
    monkeypatch.setattr(backup_module, "PAGES_PER_STEP", 1)
    real_copy = backup_module._copy
    steps: list[int] = []

    def signalled(source: Path, partial: Path, progress: Progress | None) -> int:
        def step(done: int, total: int) -> None:
            steps.append(done)
            if len(steps) == 2:
                os.kill(os.getpid(), sig)  # as `kill` or Ctrl-C would, mid-copy
            if progress is not None:
                progress(done, total)

        return real_copy(source, partial, step)

    monkeypatch.setattr(backup_module, "_copy", signalled)
    stopped = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert stopped.returncode == 128 + sig, stopped.stderr
    assert f"backup interrupted by {sig.name}" in stopped.stderr
    assert "no backup was made: what was copied is deleted" in stopped.stderr
    assert len(steps) == 2  # stopped at the step after the signal, not at the end
    assert caught_signals == []  # the backup's handler had it, and put the test's back after
    assert nothing_written(target)
    assert backups_recorded(store_url) == 0


def test_a_backup_that_fits_is_copied_and_audited(store_url: str, target: Path) -> None:
    done = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert done.returncode == 0, done.stderr
    assert target.exists() and target.with_name("copy.db.search-key").exists()
    assert not list(target.parent.glob("*.partial"))
    assert backups_recorded(store_url) == 1


def test_a_store_this_version_would_migrate_is_refused_and_left_as_it_is(
    store_url: str, target: Path, no_copying: list[Path]
) -> None:
    """A newer integrator installed before the backup: it would migrate the store on opening
    it, and copy the migrated store. Refused, naming both revisions; nothing copied or changed."""
    database = store_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '0019'")

    refused = run_cli("backup", str(target), "--quiet", env=env_for(store_url))

    assert refused.returncode == 2, refused.stderr
    said = " ".join(refused.stderr.split())
    assert (
        f"at revision 0019 and this version of integrator would migrate it to {HEAD_REVISION}"
        in said
    )
    assert "nothing was copied or changed" in said
    assert no_copying == []
    assert nothing_written(target)
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0019",)]


def test_forced_over_an_earlier_backup_without_a_key_file_removes_its_stale_key_file(
    store_url: str, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier backup left FILE.search-key; the key is now the setting, so this backup has
    no key file to copy. Beside the new copy the old key file would be taken for its key (and
    the restored store refuse to open): ``--force`` removes it, after the new copy has FILE's
    name, and says so. Without ``--force`` either file refuses, as before."""
    first = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert first.returncode == 0, first.stderr
    key_copy = target.with_name("copy.db.search-key")
    old_key = key_copy.read_bytes()
    old_copy = target.read_bytes()
    store_key = Path(store_url.removeprefix("sqlite:///") + ".search-key")
    setting = {**env_for(store_url), "INTEGRATOR_SEARCH_KEY": store_key.read_text().strip()}
    store_key.unlink()  # the key moved to the setting

    refused = run_cli("backup", str(target), "--quiet", env=setting)
    assert refused.returncode == 2 and "--force" in refused.stderr, refused.stderr
    target.unlink()  # FILE.search-key alone refuses too
    refused = run_cli("backup", str(target), "--quiet", env=setting)
    assert refused.returncode == 2 and f"{key_copy} exists; --force" in refused.stderr
    assert key_copy.read_bytes() == old_key
    target.write_bytes(old_copy)

    # A copy that fails leaves the earlier backup whole: FILE and its key file.
    def fails(source: Path, partial: Path, progress: Progress | None) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(backup_module, "_copy", fails)
        failed = run_cli("backup", str(target), "--force", "--quiet", env=setting)
    assert failed.returncode == 1, failed.stderr
    assert target.read_bytes() == old_copy and key_copy.read_bytes() == old_key

    forced = run_cli("backup", str(target), "--force", env=setting)
    assert forced.returncode == 0, forced.stderr
    assert not key_copy.exists()
    assert target.read_bytes() != old_copy and target.read_bytes().startswith(b"SQLite format 3")
    said = " ".join(forced.stdout.split())
    assert "search key: not in a file (INTEGRATOR_SEARCH_KEY)" in said
    assert f"removed {key_copy}: an earlier backup's search key, not this copy's" in said
    assert forced.stdout.count("removed") == 1
    assert backups_recorded(store_url) == 2

    key_copy.write_bytes(old_key)
    as_json = run_cli("backup", str(target), "--force", "--json", "--quiet", env=setting)
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["search_key_file"] is None
    assert answer["stale_search_key_file_removed"] == str(key_copy)
    assert not key_copy.exists()
    again = run_cli("backup", str(target), "--force", "--json", "--quiet", env=setting)
    assert json.loads(again.stdout)["stale_search_key_file_removed"] is None


def test_a_stale_key_file_that_cannot_be_set_aside_fails_the_backup_and_keeps_the_older(
    store_url: str, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FILE beside a key file of another copy is no backup: the older key file is set aside
    before the new copy takes FILE's name; if it cannot be, nothing is renamed, the older
    backup stays whole, the new copy is deleted and a second entry says the first names a
    backup that was not made."""
    target.write_bytes(b"an earlier backup")
    key_copy = target.with_name("copy.db.search-key")
    key_copy.write_bytes(b"an earlier backup's key")
    store_key = Path(store_url.removeprefix("sqlite:///") + ".search-key")
    setting = {**env_for(store_url), "INTEGRATOR_SEARCH_KEY": store_key.read_text().strip()}
    store_key.unlink()
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(src) == key_copy:
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    failed = run_cli("backup", str(target), "--force", "--quiet", env=setting)
    assert failed.returncode == 1, failed.stderr
    said = " ".join(failed.stderr.split())
    assert "backup failed: PermissionError" in said
    assert f"the older backup {target} and its key file are kept as they were" in said
    assert "no backup was made: what was copied is deleted" in said
    assert target.read_bytes() == b"an earlier backup"
    assert key_copy.read_bytes() == b"an earlier backup's key"
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db", "copy.db.search-key"]
    assert backups_recorded(store_url) == 1  # written before the renames, naming FILE
    assert backups_recorded(store_url, BACKUP_FAILED_ACTION) == 1  # and said not made


@pytest.fixture
def older_backup(store_url: str, target: Path) -> tuple[bytes, bytes]:
    """An earlier backup at ``target`` with its key file, told apart from any new one: the
    bytes of FILE and FILE.search-key."""
    first = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert first.returncode == 0, first.stderr
    target.write_bytes(target.read_bytes() + b"older")
    key_copy = target.with_name("copy.db.search-key")
    key_copy.write_bytes(b"the older backup's key")
    return target.read_bytes(), key_copy.read_bytes()


def test_forced_backup_whose_audit_write_fails_keeps_the_older_backup(
    store_url: str,
    target: Path,
    older_backup: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fails(store: Store, report: BackupReport, *, actor: str) -> None:
        raise RetryableError("the store did not answer")

    monkeypatch.setattr(backup_module, "record_backup", fails)
    failed = run_cli("backup", str(target), "--force", "--quiet", env=env_for(store_url))
    assert failed.returncode == 1, failed.stderr
    assert "the backup could not be recorded in the audit trail" in failed.stderr
    key_copy = target.with_name("copy.db.search-key")
    assert (target.read_bytes(), key_copy.read_bytes()) == older_backup
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db", "copy.db.search-key"]
    assert backups_recorded(store_url) == 1  # the older backup's


def test_forced_backup_whose_key_file_copy_fails_keeps_the_older_backup(
    store_url: str,
    target: Path,
    older_backup: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full_disk(source: Path, target: Path) -> None:
        target.write_bytes(b"half a k")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_copy_key", full_disk)
    failed = run_cli("backup", str(target), "--force", "--quiet", env=env_for(store_url))
    assert failed.returncode == 1, failed.stderr
    assert "backup failed: OSError" in failed.stderr
    key_copy = target.with_name("copy.db.search-key")
    assert (target.read_bytes(), key_copy.read_bytes()) == older_backup
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db", "copy.db.search-key"]
    assert backups_recorded(store_url) == 1


def test_forced_backup_whose_final_rename_fails_puts_the_older_backup_back(
    store_url: str,
    target: Path,
    older_backup: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The entry is written before the renames (it cannot be one step with them); when the
    copy's rename then fails, the key file already renamed is undone and a second entry says
    the backup the first names was not made."""
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == target:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    failed = run_cli("backup", str(target), "--force", "--quiet", env=env_for(store_url))
    assert failed.returncode == 1, failed.stderr
    said = " ".join(failed.stderr.split())
    assert "backup failed: OSError" in said and "kept as they were" in said
    key_copy = target.with_name("copy.db.search-key")
    assert (target.read_bytes(), key_copy.read_bytes()) == older_backup
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db", "copy.db.search-key"]
    assert backups_recorded(store_url) == 2
    assert backups_recorded(store_url, BACKUP_FAILED_ACTION) == 1


def test_forced_backup_replaces_the_older_copy_and_key_file(
    store_url: str, target: Path, older_backup: tuple[bytes, bytes]
) -> None:
    done = run_cli("backup", str(target), "--force", "--quiet", env=env_for(store_url))
    assert done.returncode == 0, done.stderr
    key_copy = target.with_name("copy.db.search-key")
    store_key = Path(store_url.removeprefix("sqlite:///") + ".search-key")
    assert target.read_bytes() != older_backup[0]
    assert target.read_bytes().startswith(b"SQLite format 3")
    assert key_copy.read_bytes() == store_key.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db", "copy.db.search-key"]
    assert backups_recorded(store_url) == 2
    assert backups_recorded(store_url, BACKUP_FAILED_ACTION) == 0


def test_with_the_setting_the_key_file_beside_the_store_is_not_copied(
    store_url: str, target: Path, older_backup: tuple[bytes, bytes]
) -> None:
    """The key file beside the store is from before INTEGRATOR_SEARCH_KEY was set; the setting
    is the key in use, so a restore with that file would be refused (SearchKeyMismatch). It is
    not copied, the output says why, and with --force the earlier backup's key file goes."""
    store_key = Path(store_url.removeprefix("sqlite:///") + ".search-key")
    before = store_key.read_bytes()
    setting = {**env_for(store_url), "INTEGRATOR_SEARCH_KEY": "another key, set since then"}
    key_copy = target.with_name("copy.db.search-key")

    done = run_cli("backup", str(target), "--force", env=setting)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert (
        f"not copied: {store_key}, the key file beside the store: INTEGRATOR_SEARCH_KEY is the "
        "key in use" in said
    )
    assert "keep that setting with the backup" in said
    assert f"removed {key_copy}: an earlier backup's search key" in said
    assert not key_copy.exists() and store_key.read_bytes() == before
    assert target.read_bytes() != older_backup[0]
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]

    again = run_cli("backup", str(target), "--force", "--json", "--quiet", env=setting)
    answer = json.loads(again.stdout)
    assert answer["search_key_file"] is None
    assert answer["search_key_file_not_copied"] == str(store_key)
    assert not key_copy.exists()


def test_a_store_whose_search_key_file_is_missing_is_refused_naming_the_file(
    store_url: str, target: Path, no_copying: list[Path], tmp_path: Path
) -> None:
    """The store's BSN hashes were made with the key in its key file (its check is registered);
    the file was moved away and INTEGRATOR_SEARCH_KEY is not set. A copy without the key could
    never be searched by BSN: refused before a page is copied, naming the file and where to
    restore it from, never telling of a setting that is not set."""
    settings = resolve_search_key(Settings(database_url=store_url), create=False)

    async def register() -> None:
        check = settings.search_check()
        async with await Store.open(store_url, sealer=sealer_for(KEYS), search_check=check):
            pass

    asyncio.run(register())
    store_key = Path(store_url.removeprefix("sqlite:///") + ".search-key")
    store_key.rename(tmp_path / "moved-away")

    refused = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = " ".join(refused.stderr.split())
    assert f"the search key file {store_key} is missing" in said
    assert "from a backup of this store (the FILE.search-key" in said
    assert "nothing was copied" in said
    assert "not in a file" not in refused.stdout + refused.stderr
    assert nothing_written(target) and no_copying == []
    assert backups_recorded(store_url) == 0


def test_a_store_without_a_search_key_yet_is_copied_without_naming_the_setting(
    store_url: str, target: Path
) -> None:
    """No BSN was hashed with a key (no check registered) and no key file: nothing to keep, and
    the output does not send the operator after a setting that is not set."""
    Path(store_url.removeprefix("sqlite:///") + ".search-key").unlink()
    done = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert done.returncode == 0, done.stderr
    assert "search key: none yet" in done.stdout
    assert "INTEGRATOR_SEARCH_KEY" not in done.stdout


K5 = "k5:" + base64.b64encode(b"5" * 32).decode()


def test_the_backup_names_the_data_keys_it_opens_with_and_the_audit_keeps_them(
    store_url: str, target: Path, tmp_path: Path
) -> None:
    """The copy opens only with the keys it was sealed with, also once a rotation has retired
    them in the live store; the backup said which pages it copied, not which keys it needs, so
    how long a retired key must be kept had to be worked out from dates."""
    before = run_cli("backup", str(target), "--quiet", env=env_for(store_url))
    assert before.returncode == 0, before.stderr
    assert "data keys: k4 (the copy opens only with them" in before.stdout

    rotated = run_cli("keys", "rotate", "--quiet", env=env_for(store_url, f"{K5},{KEYS}"))
    assert rotated.returncode == 0, rotated.stderr
    after_copy = tmp_path / "backups" / "after.db"
    after = run_cli("backup", str(after_copy), "--json", env=env_for(store_url, K5))
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["data_keys"] == ["k5"]  # k4 retired: this copy needs k5 only

    async def recorded() -> list[object]:
        async with await Store.open_existing(store_url, sealer=sealer_for(K5)) as store:
            entries = await store.list_audit(AuditFilter(action=BACKUP_ACTION))
            return [entry.details["data_keys"] for entry in entries]

    assert asyncio.run(recorded()) == [["k5"], ["k4"]]  # newest first
    # What the first backup said holds: restored, it needs k4, retired since.
    restored = f"sqlite:///{target}"
    refused = run_cli("messages", "list", "--json", env=env_for(restored, K5))
    assert refused.returncode == 2 and "'k4'" in refused.stderr


def test_a_store_with_nothing_sealed_says_its_backup_needs_no_data_key(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'var' / 'integrator.db'}"

    async def fill() -> None:
        async with await Store.open(url) as store:
            assert await store.accept_event(make_event(), [make_message()])

    asyncio.run(fill())
    done = run_cli("backup", str(tmp_path / "copy.db"), "--quiet", env=env_for(url, None))
    assert done.returncode == 0, done.stderr
    assert "data keys: none (nothing in the copy is sealed)" in done.stdout
