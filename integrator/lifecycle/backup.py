"""``integrator backup FILE``: a consistent copy of a SQLite store, taken while the engine runs.

SQLite's online backup API copies the database page by page as of one moment, however the
engine writes meanwhile (it restarts a copy that another connection changed under it, so
under a steady stream of writes it falls back to copying all pages in one step, which reads
one snapshot and, in WAL mode, does not block the engine's writers). The copy is written
beside FILE and renamed into place when complete, so FILE is never half a database.

The store's search key file (``<database>.search-key``) is copied too, as ``FILE.search-key``
(mode 0600): without it the BSN search column of a restored store cannot be searched, and no
key can be made that matches it. A PostgreSQL store is refused: ``pg_dump`` is its tool.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.errors import IntegratorError, PermanentError
from integrator.searchkey import KEY_SUFFIX, key_file_for
from integrator.store import Store

BACKUP_ACTION = "data.backup"
PAGES_PER_STEP = 1024
RESTARTS_BEFORE_ONE_STEP = 3
BUSY_TIMEOUT_S = 15.0

Progress = Callable[[int, int], None]
"""Told ``(pages copied, pages in all)`` after each step."""


class BackupRefused(PermanentError):
    """Asked for a backup this command does not make (exit 2); the message says why."""

    exit_code = 2


class BackupFailed(IntegratorError):
    exit_code = 1


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    pages: int
    key_file: Path | None
    """The copy of the search key file, or None when the key is not in a file (the setting)."""

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "pages": self.pages,
            "search_key_file": None if self.key_file is None else str(self.key_file),
        }


async def record_backup(store: Store, report: BackupReport, *, actor: str) -> None:
    """Audit the copy: it holds every patient's data, so who made one, and where, is kept.

    Written after the copy is complete, so it is in the store, not in the copy it describes.
    """
    await store.add_audit(
        actor,
        BACKUP_ACTION,
        str(report.path),
        details={"pages": report.pages, "search_key_copied": report.key_file is not None},
    )


class _Restarted(Exception):
    """The engine changed the database under a step-wise copy too often."""


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite store; refuses anything else, pointing PostgreSQL to pg_dump."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise BackupRefused("INTEGRATOR_DATABASE_URL is not a database URL") from None
    if url.drivername.startswith("postgres"):
        raise BackupRefused(
            "integrator backup copies a SQLite store; back up a PostgreSQL store with pg_dump "
            "(see docs/operators.md, 'Backups')"
        )
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        raise BackupRefused("integrator backup needs a SQLite store in a file")
    return Path(url.database or "").expanduser()


@dataclass(frozen=True, slots=True)
class BackupPlan:
    """A backup checked and ready to run: every refusal is made before any page is copied."""

    source: Path
    target: Path
    key_source: Path | None
    key_target: Path


def plan_backup(database_url: str, target: Path, *, force: bool = False) -> BackupPlan:
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupFailed(f"no store at {source} (set INTEGRATOR_DATABASE_URL to the engine's)")
    target = target.expanduser()
    key_target = target.with_name(target.name + KEY_SUFFIX)
    if target.resolve() == source.resolve():
        raise BackupRefused("FILE is the store itself; give another path")
    # Checked before anything is copied: a refusal after copying every page helps nobody.
    for path in (target, key_target):
        if path.is_dir():
            raise BackupRefused(f"{path} is a directory: FILE names the backup file itself")
    if not force:
        for path in (target, key_target):
            if path.exists():
                raise BackupRefused(f"{path} exists; --force replaces it")
    if not target.parent.exists():
        raise BackupRefused(f"{target.parent} does not exist: make the directory first")
    if not target.parent.is_dir():
        raise BackupRefused(f"{target.parent} is not a directory")
    return BackupPlan(source, target, key_file_for(database_url), key_target)


def run_backup(plan: BackupPlan, *, progress: Progress | None = None) -> BackupReport:
    """Copy the store, then its key file beside the copy."""
    partial = plan.target.with_name(plan.target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        # Made 0600 before the first page goes in: the copy holds patient data.
        os.close(
            os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        )
        pages = _copy(plan.source, partial, progress)
        os.replace(partial, plan.target)
        copied_key = None
        if plan.key_source is not None and plan.key_source.exists():
            _copy_key(plan.key_source, plan.key_target)
            copied_key = plan.key_target
    except (sqlite3.Error, OSError) as exc:
        raise BackupFailed(f"backup failed: {type(exc).__name__}: {exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(plan.target, pages, copied_key)


def backup_sqlite(
    database_url: str, target: Path, *, force: bool = False, progress: Progress | None = None
) -> BackupReport:
    """Copy the store at ``database_url`` to ``target`` (and its key file beside it)."""
    return run_backup(plan_backup(database_url, target, force=force), progress=progress)


def _copy(source: Path, target: Path, progress: Progress | None) -> int:
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    try:
        try:
            return _backup(src, target, PAGES_PER_STEP, progress)
        except _Restarted:
            return _backup(src, target, -1, progress)
    finally:
        src.close()


def _backup(src: sqlite3.Connection, target: Path, pages: int, progress: Progress | None) -> int:
    dst = sqlite3.connect(target)
    restarts = 0
    last_remaining: int | None = None
    copied = 0

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal restarts, last_remaining, copied
        # A step that left no fewer pages to copy started over: the store changed under it.
        if last_remaining is not None and remaining >= last_remaining:
            restarts += 1
            if restarts > RESTARTS_BEFORE_ONE_STEP:
                raise _Restarted
        last_remaining = remaining
        copied = total
        if progress is not None:
            progress(total - remaining, total)

    try:
        src.backup(dst, pages=pages, progress=step, sleep=0)
        if copied == 0:  # an empty database, or one step without a callback
            copied = dst.execute("PRAGMA page_count").fetchone()[0]
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupFailed(f"the copy does not pass SQLite's quick_check: {check}")
        return int(copied)
    finally:
        dst.close()


def _copy_key(source: Path, target: Path) -> None:
    """Copy the key file with mode 0600 from the first byte on (never readable by others)."""
    data = source.read_bytes()
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
