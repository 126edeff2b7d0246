"""``integrator backup FILE``: a consistent copy of a SQLite store, taken while the engine runs.

SQLite's online backup API copies the database page by page as of one moment, however the
engine writes meanwhile (it restarts a copy that another connection changed under it, so
under a steady stream of writes it falls back to copying all pages in one step, which reads
one snapshot and, in WAL mode, does not block the engine's writers). The copy is written
beside FILE and renamed into place when complete, so FILE is never half a database.

The store's search key file (``<database>.search-key``) is copied too, as ``FILE.search-key``
(mode 0600): without it the BSN search column of a restored store cannot be searched, and no
key can be made that matches it. When the key is not in a file (``INTEGRATOR_SEARCH_KEY``),
there is none to copy; with ``--force`` an earlier backup's ``FILE.search-key`` is then
removed once the new copy has FILE's name: beside the new copy it would be taken for its key,
and a store restored with it refuses to open (``SearchKeyMismatch``). A PostgreSQL store is
refused: ``pg_dump`` is its tool.

A copy holds every patient's data, so none is left on disk without its audit entry
(``data.backup``, written once the copy is complete: it then says what was made, and lands in
the store rather than in the copy it describes). ``make_backup`` is the one way in: it runs
with the store already open, so a store the configured data keys or the schema do not fit is
refused before the first page is copied; and whatever fails once copying has started (the copy,
the key file, the audit write, or SIGINT, SIGTERM or SIGHUP while the pages are copied) deletes
the partial or unaudited copy and its key file, and the error says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.errors import IntegratorError, PermanentError
from integrator.searchkey import KEY_SUFFIX, key_file_for
from integrator.store import Store
from integrator.store.schema_version import HEAD_REVISION

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


class BackupInterrupted(BackupFailed):
    """A signal asked the command to stop while the pages were copied; exit 128 + its number,
    as a shell reports a process that signal ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"backup interrupted by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    pages: int
    key_file: Path | None
    """The copy of the search key file, or None when the key is not in a file (the setting)."""
    stale_key_file: Path | None = None
    """An earlier backup's ``FILE.search-key`` this backup removed (``--force``, no key file to
    copy): it was not this copy's key."""

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "pages": self.pages,
            "search_key_file": None if self.key_file is None else str(self.key_file),
            "stale_search_key_file_removed": None
            if self.stale_key_file is None
            else str(self.stale_key_file),
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


async def make_backup(
    store: Store, plan: BackupPlan, *, actor: str, progress: Progress | None = None
) -> BackupReport:
    """Copy the store as ``plan`` says, then audit the copy; a copy is never left unaudited.

    ``store`` is the store being copied, opened by the caller before this runs: opening it
    checks the data keys and the schema, and a refusal after every page was copied helps nobody
    (and left a full copy behind). If the audit entry cannot be written, the copy and its key
    file are deleted and ``BackupFailed`` says so. SIGINT, SIGTERM and SIGHUP stop the copy at
    its next step (``_Interruptions``); once the pages are in, the key file and the audit entry
    take moments, and the backup is finished and kept.
    """
    with _Interruptions() as interruptions:

        def step(done: int, total: int) -> None:
            interruptions.check()
            if progress is not None:
                progress(done, total)

        report = run_backup(plan, progress=step, before_rename=interruptions.check)
        try:
            await record_backup(store, report, actor=actor)
        except BaseException as exc:
            said = _discarded([report.path, report.key_file])
            if not isinstance(exc, Exception):  # cancelled or ended: say so, and go on ending
                exc.add_note(said)
                raise
            reason = str(exc) if isinstance(exc, IntegratorError) else type(exc).__name__
            raise BackupFailed(
                f"the backup could not be recorded in the audit trail ({reason}); {said}"
            ) from exc
    return report


class _Interruptions:
    """SIGINT, SIGTERM and SIGHUP while a backup runs: noted, and acted on at the next step.

    Without this, SIGTERM (and SIGHUP, a closed terminal) would end the process where it stood,
    leaving a partial copy under its temporary name, or a complete one without its audit entry.
    The handler only notes the signal; ``check``, called after each step of pages and before
    the rename, raises ``BackupInterrupted``, so the copy stops where its files can still be
    deleted. Signals reach Python handlers in the main thread only, so in another thread (a
    test running the command beside an engine) nothing is installed. A signal ignored before
    (``nohup``) stays ignored.
    """

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.signum: int | None = None
        self._saved: dict[signal.Signals, signal.Handlers | Callable[..., object] | int] = {}

    def __enter__(self) -> _Interruptions:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in self.SIGNALS:
            sig = getattr(signal, name, None)
            if sig is None:  # no SIGHUP on Windows
                continue
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN:
                continue
            self._saved[sig] = signal.SIG_DFL if previous is None else previous
            signal.signal(sig, self._note)
        return self

    def __exit__(self, *_: object) -> None:
        for sig, previous in self._saved.items():
            signal.signal(sig, previous)

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def check(self) -> None:
        if self.signum is not None:
            raise BackupInterrupted(self.signum)


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
    force: bool = False
    """FILE and FILE.search-key may be there already (an earlier backup's): they are replaced,
    and a FILE.search-key this backup has no key file for is removed (``run_backup``)."""


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
    _require_current_schema(source)
    return BackupPlan(source, target, key_file_for(database_url), key_target, force)


def _require_current_schema(source: Path) -> None:
    """Refuse a store whose schema this version would migrate.

    The backup opens the store before it copies a page (the data keys are checked first), and
    opening migrates an older schema. Run by a newer version installed before the backup, it
    would copy the store already migrated, which is not the copy an upgrade wants to go back
    to, and migrate it under engines of the old version that may still run (docs/deploy.md,
    Upgrades). So the backup is made with the version that runs the store; read here with
    ``sqlite3`` alone, in a read-only connection, so refusing changes nothing.
    """
    try:
        with contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return  # no version table to judge by: the open says what is wrong with the store
    revision = ",".join(sorted(str(row[0]) for row in rows))
    if revision and revision < HEAD_REVISION:
        raise BackupRefused(
            f"the store's schema is at revision {revision} and this version of integrator "
            f"would migrate it to {HEAD_REVISION} before copying it: back it up with the "
            "version that runs it, before upgrading (docs/deploy.md, Upgrades); nothing was "
            "copied or changed"
        )


def run_backup(
    plan: BackupPlan,
    *,
    progress: Progress | None = None,
    before_rename: Callable[[], None] | None = None,
) -> BackupReport:
    """Copy the store, then its key file beside the copy. No audit entry: ``make_backup`` is the
    way in, and this its part that touches no store.

    ``before_rename`` is called once the pages are in, before the copy takes FILE's name; what
    it raises stops the backup as a failed copy would. Whatever fails deletes what this run
    wrote (the copy under its temporary name or under FILE, the key file's partial copy), and
    the error's note says so; an older FILE is only ever replaced by a complete copy.

    With no key file to copy (the key is the setting), a FILE.search-key left by an earlier
    backup is removed (``plan.force``; without it the plan refused one), and only after the
    rename: until then it belongs to the older FILE, which is still there. Once FILE is the
    new copy, that key file does not fit it and a restore would take it for its key. If it
    cannot be removed, the backup fails as when a key file cannot be copied: FILE and a
    FILE.search-key that belongs to another copy are no backup.
    """
    partial = plan.target.with_name(plan.target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    renamed = False
    try:
        # Made 0600 before the first page goes in: the copy holds patient data.
        os.close(
            os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        )
        pages = _copy(plan.source, partial, progress)
        if before_rename is not None:
            before_rename()
        os.replace(partial, plan.target)
        renamed = True
        copied_key = stale_key = None
        if plan.key_source is not None and plan.key_source.exists():
            _copy_key(plan.key_source, plan.key_target)
            copied_key = plan.key_target
        elif plan.force and plan.key_target.exists():
            plan.key_target.unlink()
            stale_key = plan.key_target
    except BaseException as exc:
        said = _discarded([partial, plan.target if renamed else None])
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise BackupFailed(f"backup failed: {type(exc).__name__}: {exc}; {said}") from None
        exc.add_note(said)
        raise
    return BackupReport(plan.target, pages, copied_key, stale_key)


def _discarded(paths: Iterable[Path | None]) -> str:
    """Delete ``paths`` (those that exist) and say what became of them, for the error that
    follows: a copy left behind must be named, since it holds every patient's data."""
    left: list[str] = []
    for path in paths:
        if path is None:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            left.append(f"{path} ({exc.strerror or type(exc).__name__})")
    if left:
        return f"no backup was made; delete by hand what could not be deleted: {', '.join(left)}"
    return "no backup was made: what was copied is deleted"


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
