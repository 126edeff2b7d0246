"""Room on a disk, said in bytes: what prune and backup tell an operator whose disk is full.

A full disk was said as SQLite says it ("database or disk is full"), which named no disk: a
backup's full target read as the live store being full, and a prune that freed no bytes printed
what it had run as if that had given space back. These name the disk (by a directory on it) and
the bytes, so the operator knows where to make room and how much.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

UNITS = ("bytes", "KB", "MB", "GB", "TB")


def sized(count: int) -> str:
    """``count`` bytes as people read a disk's figures (1000s, one decimal past a KB)."""
    size = float(count)
    for unit in UNITS:
        if size < 1000 or unit == UNITS[-1]:
            return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def free_on(directory: Path) -> int | None:
    """Bytes free on the disk that holds ``directory`` now; None where that cannot be read."""
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return None


NO_ROOM = 64 * 1024
"""Bytes free below which an I/O error is taken for a full disk, as the store takes it
(``integrator.store.failures.NO_ROOM``): SQLite grows its files in steps no smaller."""


def is_full(exc: BaseException, directory: Path | None = None) -> bool:
    """Whether ``exc`` is a disk that is full: SQLITE_FULL, ENOSPC, or (the shared-memory file
    that could not grow) an I/O error while the disk of ``directory`` has next to nothing free."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    name = getattr(exc, "sqlite_errorname", None) if isinstance(exc, sqlite3.Error) else None
    name = (
        name
        or getattr(exc, "code", None)
        or getattr(getattr(exc, "orig", None), "sqlite_errorname", None)
    )
    if not isinstance(name, str):
        return "disk is full" in str(exc)
    if name.startswith("SQLITE_FULL"):
        return True
    if name.startswith("SQLITE_IOERR") and directory is not None:
        free = free_on(directory)
        return free is not None and free < NO_ROOM
    return False
