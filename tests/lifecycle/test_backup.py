"""The backup's fall-back: a store written between every step still gives one consistent copy."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from integrator.lifecycle import backup as backup_module
from integrator.lifecycle.backup import plan_backup, run_backup


def test_a_copy_restarted_by_writes_falls_back_to_one_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "store.db"
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE rows (n INTEGER, pad TEXT)")
        conn.executemany("INSERT INTO rows VALUES (?, ?)", [(n, "x" * 500) for n in range(200)])
        conn.commit()
    monkeypatch.setattr(backup_module, "PAGES_PER_STEP", 1)
    writer = sqlite3.connect(source)
    seen: list[tuple[int, int]] = []

    def write_between_steps(done: int, total: int) -> None:
        # Another connection, as the engine: each write makes the next step start over.
        seen.append((done, total))
        writer.execute("INSERT INTO rows VALUES (?, 'y')", (1000 + len(seen),))
        writer.commit()

    try:
        plan = plan_backup(f"sqlite:///{source}", tmp_path / "copy.db")
        report = run_backup(plan, progress=write_between_steps)
    finally:
        writer.close()
    restarts = backup_module.RESTARTS_BEFORE_ONE_STEP
    assert len(seen) == restarts + 2  # the step-wise tries, then the single step
    assert seen[-1][0] == seen[-1][1] == report.pages  # the single step copied every page
    with contextlib.closing(sqlite3.connect(tmp_path / "copy.db")) as copy:
        count = copy.execute("SELECT count(*) FROM rows").fetchone()[0]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every write made before the single step began is in the copy; none is half there.
    assert count == 200 + restarts + 1
    assert report.key_file is None  # no key file beside this store


def test_a_backup_to_a_full_disk_names_the_backups_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite said "database or disk is full" of the copy, which read as the live store being
    full: the error names the backup's directory, the disk that is full, and its room."""
    source = tmp_path / "store.db"
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("CREATE TABLE rows (n INTEGER)")
    target = tmp_path / "full" / "b.db"
    target.parent.mkdir()

    def copy_to_a_full_disk(_source: Path, partial: Path, _progress: object) -> int:
        # A real SQLITE_FULL from the copy: the disk of its directory takes no more pages.
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            copy.execute("PRAGMA max_page_count = 1")
            copy.execute("CREATE TABLE rows (n INTEGER)")
        raise AssertionError("the copy grew")

    monkeypatch.setattr(backup_module, "_copy", copy_to_a_full_disk)
    plan = plan_backup(f"sqlite:///{source}", target)
    with pytest.raises(backup_module.BackupFailed) as failed:
        run_backup(plan)
    said = str(failed.value)
    assert "database or disk is full" in said
    assert f"the disk of the backup's directory {target.parent} is full" in said
    assert " free: make room there, or back up to another disk" in said
    assert said.endswith("no backup was made: what was copied is deleted")
    assert not list(target.parent.iterdir())
