"""``integrator backup FILE``: a consistent copy of a SQLite store, taken while the engine runs.

SQLite's online backup API copies the database page by page as of one moment, however the
engine writes meanwhile (it restarts a copy that another connection changed under it, so
under a steady stream of writes it falls back to copying all pages in one step, which reads
one snapshot and, in WAL mode, does not block the engine's writers).

The store's search key file (``<database>.search-key``) is copied too, as ``FILE.search-key``
(mode 0600): without it the BSN search column of a restored store cannot be searched, and no
key can be made that matches it. With ``INTEGRATOR_SEARCH_KEY`` set, the setting is the key in
use (``integrator.searchkey``), so no key file is copied, even one lying beside the store from
before the setting: a restore would take it for the key and the store refuse to open
(``SearchKeyMismatch``). With ``--force`` an earlier backup's ``FILE.search-key`` is then
removed as the new copy takes FILE's name, for the same reason. A PostgreSQL store is refused:
``pg_dump`` is its tool. Without the setting, a store whose key check is registered
(``integrator.store.searchcheck``) and whose key file is gone is refused before a page is
copied (exit 2): a copy of it could never be searched by BSN.

Everything is written under temporary names first (``FILE.partial``, ``FILE.search-key.partial``)
and renamed into place last, so an older backup (``--force``) stays whole until the new one is
complete and recorded, and FILE is never half a database nor beside a key that is not its own.

A copy holds every patient's data, so none is left on disk without its audit entry
(``data.backup``, naming FILE). ``make_backup`` is the one way in: it runs with the store
already open, so a store the configured data keys or the schema do not fit is refused before the
first page is copied. The order is: copy the pages and the key file under their temporary
names; write the audit entry (it then says what was made, and lands in the store rather than in
the copy it describes); rename both into place. Whatever fails before the renames (the copy, the
key file, the audit write, or SIGINT, SIGTERM or SIGHUP while the pages are copied) deletes the
temporaries, needs no entry (no copy has FILE's name), and leaves an older backup as it was; the
error says so. An entry and a rename cannot be one step, so a rename that fails after the entry
is written (rare: both files stay in one directory) is undone as far as it got, the older
backup put back, and a second entry (``data.backup_failed``, naming FILE) says that the first
names a backup that was not made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sqlite3
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.errors import IntegratorError, PermanentError
from integrator.interruptions import Interruptions
from integrator.lifecycle.room import free_on, is_full, sized
from integrator.searchkey import KEY_SUFFIX, key_file_for
from integrator.store import Store
from integrator.store.keycheck import keys_in_use_in_sqlite
from integrator.store.schema_version import HEAD_REVISION
from integrator.store.searchcheck import registered_in_sqlite

BACKUP_ACTION = "data.backup"
BACKUP_FAILED_ACTION = "data.backup_failed"
"""Follows a ``data.backup`` entry whose copy could not be renamed into place: not made."""
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
    """The copy of the search key file, or None when the key is not in a file (the setting) or
    there is none yet (a store without a registered search key: ``plan_backup`` refuses a store
    that has one and lost its file)."""
    stale_key_file: Path | None = None
    """An earlier backup's ``FILE.search-key`` this backup removed (``--force``, no key file to
    copy): it was not this copy's key."""
    key_file_not_copied: Path | None = None
    """The key file beside the store, not copied: ``INTEGRATOR_SEARCH_KEY`` is the key in use."""
    left_behind: Path | None = None
    """The older backup's key file, set aside under a temporary name and not deletable after
    the new backup was in place: to delete by hand (it is no copy's key any more)."""
    data_keys: tuple[str, ...] = ()
    """The ids of the data keys the copy opens only with (in use in it: registered and not
    retired, read from the copy itself), oldest first; none when nothing in it is sealed. A
    rotation retires keys in the live store, never in a copy, so this is what a restore needs
    and how long a retired key must be kept: as long as a backup naming it."""

    def to_json(self) -> dict[str, object]:
        def named(path: Path | None) -> str | None:
            return None if path is None else str(path)

        return {
            "path": str(self.path),
            "pages": self.pages,
            "search_key_file": named(self.key_file),
            "stale_search_key_file_removed": named(self.stale_key_file),
            "search_key_file_not_copied": named(self.key_file_not_copied),
            "left_behind": named(self.left_behind),
            "data_keys": list(self.data_keys),
        }


async def record_backup(store: Store, report: BackupReport, *, actor: str) -> None:
    """Audit the copy: it holds every patient's data, so who made one, and where, is kept.

    Written after the copy is complete, so it is in the store, not in the copy it describes.
    """
    await store.add_audit(
        actor,
        BACKUP_ACTION,
        str(report.path),
        details={
            "pages": report.pages,
            "search_key_copied": report.key_file is not None,
            "data_keys": list(report.data_keys),
        },
    )


async def make_backup(
    store: Store, plan: BackupPlan, *, actor: str, progress: Progress | None = None
) -> BackupReport:
    """Copy the store as ``plan`` says, audit the copy, then give it FILE's name; a copy is
    never under FILE without its audit entry, and an older FILE stays until then.

    ``store`` is the store being copied, opened by the caller before this runs: opening it
    checks the data keys and the schema, and a refusal after every page was copied helps nobody
    (and left a full copy behind). If the audit entry cannot be written, the temporaries are
    deleted, an older backup is kept, and ``BackupFailed`` says so. SIGINT, SIGTERM and SIGHUP
    stop the copy at its next step (``integrator.interruptions``); once the pages are in, the
    key file, the audit entry and the renames take moments, and the backup is finished and kept.

    If the renames fail after the entry is written, they are undone (``_put_in_place``) and a
    ``data.backup_failed`` entry follows the ``data.backup`` one: the entry cannot be written
    with the rename in one step, and leaving it alone would name a backup that is not there.
    """
    with Interruptions(BackupInterrupted) as interruptions:

        def step(done: int, total: int) -> None:
            interruptions.check()
            if progress is not None:
                progress(done, total)

        staged = _stage(plan, progress=step, pages_in=interruptions.check)
        try:
            await record_backup(store, staged.report, actor=actor)
        except BaseException as exc:
            said = staged.discard()
            if not isinstance(exc, Exception):  # cancelled or ended: say so, and go on ending
                exc.add_note(said)
                raise
            reason = str(exc) if isinstance(exc, IntegratorError) else type(exc).__name__
            raise BackupFailed(
                f"the backup could not be recorded in the audit trail ({reason}); {said}"
            ) from exc
        try:
            return _put_in_place(staged)
        except BackupFailed as exc:
            try:
                await store.add_audit(
                    actor,
                    BACKUP_FAILED_ACTION,
                    str(plan.target),
                    reason=str(exc),
                    details={"pages": staged.pages},
                )
            except Exception as second:  # the first failure is the one to raise
                exc.add_note(
                    f"the audit trail's data.backup entry for {plan.target} names a backup that "
                    f"was not made, and saying so failed too ({type(second).__name__})"
                )
            raise


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
    and a FILE.search-key this backup has no key file for is removed (``_put_in_place``)."""
    key_not_copied: Path | None = None
    """The key file beside the store, left alone: the setting is the key in use."""


def plan_backup(
    database_url: str, target: Path, *, force: bool = False, key_in_setting: bool = False
) -> BackupPlan:
    """Check a backup before anything is copied.

    ``key_in_setting``: ``INTEGRATOR_SEARCH_KEY`` is set, so it is the key in use (the engine
    ignores a key file then), and a key file beside the store is not copied: a restore would
    take it for the copy's key.
    """
    # Absolute from here on: the default URL is relative (``sqlite:///var/integrator.db``), a
    # relative path has no file URI (``_require_current_schema``), and the report and the
    # audit entry should name the files wherever the command was run from.
    source = sqlite_path(database_url).absolute()
    if not source.is_file():
        raise BackupFailed(f"no store at {source} (set INTEGRATOR_DATABASE_URL to the engine's)")
    target = target.expanduser().absolute()
    key_target = target.with_name(target.name + KEY_SUFFIX)
    if target.resolve() == source.resolve():
        raise BackupRefused("FILE is the store itself; give another path")
    _refuse_the_stores_own_files(database_url, source, target, key_target)
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
    key_file = key_file_for(database_url)
    key_file = key_file.absolute() if key_file is not None else None
    if key_in_setting:
        not_copied = key_file if key_file is not None and key_file.exists() else None
        return BackupPlan(source, target, None, key_target, force, not_copied)
    if key_file is not None and not key_file.exists() and registered_in_sqlite(source):
        raise BackupRefused(missing_key_file(key_file))
    return BackupPlan(source, target, key_file, key_target, force)


STORE_COMPANIONS = {
    "-wal": "write-ahead log",
    "-shm": "shared-memory index",
    "-journal": "rollback journal",
}
"""The files SQLite keeps beside a store (``<database>-wal`` …), named as a refusal says them."""


def _refuse_the_stores_own_files(
    database_url: str, source: Path, target: Path, key_target: Path
) -> None:
    """Refuse a FILE that is, or whose ``FILE.search-key`` is, one of the store's own files.

    Only the store itself was refused, so ``backup var/integrator.db.search-key --force``
    replaced the store's search key with a copy of the database: every command and the engine
    then refused the store (the key file unreadable), and without an earlier backup's key its
    BSNs could never be searched again. A copy named ``<database>-wal`` would be taken for the
    store's log. ``--force`` changes nothing here: it replaces an earlier backup, never the store.
    """
    own = {
        source.with_name(source.name + suffix): what for suffix, what in STORE_COMPANIONS.items()
    }
    key_file = key_file_for(database_url)
    if key_file is not None:
        own[key_file.absolute()] = "search key file"
    resolved = {path.resolve(): (path, what) for path, what in own.items()}
    for path, role in ((target, "FILE"), (key_target, "FILE.search-key")):
        hit = resolved.get(path.resolve())
        if hit is not None:
            raise BackupRefused(
                f"{role} would be {hit[0]}, the store's {hit[1]}, "
                "not a backup: give FILE another path (--force replaces an earlier backup, "
                "never a file of the store); nothing was copied"
            )


def missing_key_file(key_file: Path) -> str:
    """The refusal of a backup whose store's search key file is gone (no
    ``INTEGRATOR_SEARCH_KEY``): the store's BSN hashes were made with a key (its check is
    registered), and a copy without it could never be searched by BSN, nor any key be made to
    fit it. Copying the store alone and saying the key was "not in a file" hid the loss."""
    return (
        f"the search key file {key_file} is missing, and the store's BSN hashes were made with "
        "the key it held: a copy without it could never be searched by BSN. Put the file back "
        f"at {key_file}: from where it was moved, or from a backup of this store (the "
        f"FILE{KEY_SUFFIX} integrator backup wrote beside its FILE), or set "
        "INTEGRATOR_SEARCH_KEY to that key; nothing was copied"
    )


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


def run_backup(plan: BackupPlan, *, progress: Progress | None = None) -> BackupReport:
    """Copy the store and its key file, and put both in place. No audit entry: ``make_backup``
    is the way in, and this its part that touches no store (it writes the entry between
    ``_stage`` and ``_put_in_place``)."""
    return _put_in_place(_stage(plan, progress=progress, pages_in=None))


@dataclass(frozen=True, slots=True)
class _Staged:
    """A backup complete under temporary names, not yet in place: an older FILE (and its key
    file) is still there, untouched."""

    plan: BackupPlan
    partial: Path
    key_partial: Path | None
    """The key file's copy, or None when there is none to copy (the setting)."""
    pages: int
    data_keys: tuple[str, ...] = ()
    """The data key ids the copy needs (``BackupReport.data_keys``)."""

    @property
    def report(self) -> BackupReport:
        """The backup as it will be once in place: what the audit entry records."""
        plan = self.plan
        return BackupReport(
            plan.target,
            self.pages,
            None if self.key_partial is None else plan.key_target,
            key_file_not_copied=plan.key_not_copied,
            data_keys=self.data_keys,
        )

    def discard(self) -> str:
        return _discarded([self.partial, self.key_partial])


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _stage(
    plan: BackupPlan, *, progress: Progress | None, pages_in: Callable[[], None] | None
) -> _Staged:
    """Copy the pages to ``FILE.partial`` and the key file to ``FILE.search-key.partial``.

    Nothing under FILE's names is touched. Whatever fails deletes both temporaries, and the
    error's note says so.
    """
    partial = _partial(plan.target)
    key_partial = _partial(plan.key_target)
    for leftover in (partial, key_partial):  # a run ended by SIGKILL, or a failed deletion
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    try:
        # Made 0600 before the first page goes in: the copy holds patient data.
        os.close(
            os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        )
        pages = _copy(plan.source, partial, progress)
        if pages_in is not None:
            pages_in()
        # Read from the copy, not the store: a rotation may retire a key while pages are copied.
        # Read-write, as the copy was made: a read-only connection would leave its -wal behind.
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            data_keys = tuple(keys_in_use_in_sqlite(copy))
        copied_key = None
        if plan.key_source is not None and plan.key_source.exists():
            _copy_key(plan.key_source, key_partial)
            copied_key = key_partial
    except BaseException as exc:
        said = _discarded([partial, key_partial])
        if isinstance(exc, (sqlite3.Error, OSError)):
            full = _target_full(exc, plan.target.parent)
            raise BackupFailed(
                f"backup failed: {type(exc).__name__}: {exc}{full}; {said}"
            ) from None
        exc.add_note(said)
        raise
    return _Staged(plan, partial, copied_key, pages, data_keys)


def _target_full(exc: BaseException, directory: Path) -> str:
    """Which disk is full, when one is: SQLite says "database or disk is full" of the copy it
    writes, which read as the live store being full, where it is the backup's directory."""
    if not is_full(exc, directory):
        return ""
    free = free_on(directory)
    room = "" if free is None else f", {sized(free)} free"
    return (
        f" (the disk of the backup's directory {directory} is full{room}: make room there, "
        "or back up to another disk; the store was only read)"
    )


def _put_in_place(staged: _Staged) -> BackupReport:
    """Rename the staged copy and key file to FILE and FILE.search-key, replacing an older
    backup's (``--force``) only as a whole.

    An older FILE.search-key is first set aside (renamed to ``FILE.search-key.old``), then the
    new key file (if any) takes its name, then the copy takes FILE's: the last rename replaces
    the older FILE atomically. If any rename fails, those done are undone, so the older FILE
    and its key file are as they were, and the temporaries are deleted; ``BackupFailed`` says
    so. Once FILE is the new copy, the set-aside key file is deleted: it belongs to no copy now
    (with no key file to copy, that is the stale key file the report names). Should deleting it
    fail, the backup stands and the report names the file to delete.
    """
    plan = staged.plan
    aside = plan.key_target.with_name(plan.key_target.name + ".old")
    set_aside = key_placed = False
    try:
        if plan.key_target.exists():
            os.replace(plan.key_target, aside)
            set_aside = True
        if staged.key_partial is not None:
            os.replace(staged.key_partial, plan.key_target)
            key_placed = True
        os.replace(staged.partial, plan.target)
    except OSError as exc:
        undone = _undo(plan, aside, key_placed=key_placed, set_aside=set_aside)
        said = staged.discard()
        raise BackupFailed(
            f"backup failed: {type(exc).__name__}: {exc}; {undone}; {said}"
        ) from None
    stale = left = None
    if set_aside:
        try:
            aside.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            left = aside
        if staged.key_partial is None:
            stale = plan.key_target
    return dataclasses.replace(staged.report, stale_key_file=stale, left_behind=left)


def _undo(plan: BackupPlan, aside: Path, *, key_placed: bool, set_aside: bool) -> str:
    """Put an older backup's key file back after a failed rename; say how it stands."""
    key_target = plan.key_target
    try:
        if key_placed and not set_aside:
            key_target.unlink()  # the new key file, with no older one to put back
        if set_aside:
            os.replace(aside, key_target)  # replaces the new key file, if it was placed
    except OSError as exc:
        return (
            f"the older backup's key file could not be put back ({exc.strerror or exc}): "
            f"rename {aside} to {key_target} by hand"
        )
    if plan.target.exists():
        return f"the older backup {plan.target} and its key file are kept as they were"
    return "nothing was renamed into place"


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
    """Copy the key file to ``target`` (a temporary name, renamed later), mode 0600 from the
    first byte on (never readable by others), on disk before the audit entry says it is."""
    data = source.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
