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
