"""The watcher notices every change the loader would answer differently, at once, and keeps
trying a change whose applying failed.

It compares names, types, sizes and times of the entries: a change it misses is applied (and
a refusal shown and audited) only at the next edit of some other file. So was a change whose
applying failed (the store away for a moment): the destination went on with its old address.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from structlog.testing import capture_logs

from integrator.store import StoreUnavailable
from integrator.watcher import DirectoryWatcher, fingerprint


def test_a_link_to_nothing_appearing_is_a_change(tmp_path: Path) -> None:
    before = fingerprint(tmp_path)
    (tmp_path / "noord.yaml").symlink_to(tmp_path / "missing.yaml")
    assert fingerprint(tmp_path) != before  # the loader refuses it: noord.yaml is no file


def test_a_file_made_unreadable_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "noord.yaml"
    path.write_text("id: noord\n")
    stat = path.stat()
    before = fingerprint(tmp_path)
    path.chmod(0)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert fingerprint(tmp_path) != before


def test_a_file_turned_into_a_directory_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "noord.yaml"
    path.mkdir()
    size = path.stat().st_size  # a directory's, which the file is given too
    path.rmdir()
    path.write_text("#" * size)
    stat = path.stat()
    before = fingerprint(tmp_path)
    path.unlink()
    path.mkdir()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == size
    assert fingerprint(tmp_path) != before


class Flaky:
    """An ``on_change`` that fails its first ``failing`` calls as applying fails while the
    store is away, noting when it was called."""

    def __init__(self, failing: int) -> None:
        self.failing = failing
        self.calls: list[float] = []

    async def __call__(self) -> None:
        self.calls.append(asyncio.get_running_loop().time())
        if len(self.calls) <= self.failing:
            raise StoreUnavailable("the store is unavailable")


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_a_change_whose_applying_failed_is_tried_again_until_it_applies(
    tmp_path: Path,
) -> None:
    apply = Flaky(failing=2)
    watcher = DirectoryWatcher(tmp_path, apply, interval=0.02)
    watcher.start()
    try:
        with capture_logs() as logs:
            (tmp_path / "noord.yaml").write_text("id: noord\n")  # one change, no other
            await _until(lambda: len(apply.calls) == 3)
            await asyncio.sleep(0.3)  # applied: not tried again
    finally:
        await watcher.stop()
    assert len(apply.calls) == 3
    failed = [e for e in logs if e["event"] == "applying destination files failed; trying again"]
    assert [(e["failures"], e["error_type"]) for e in failed] == [
        (1, "StoreUnavailable"),
        (2, "StoreUnavailable"),
    ]
    assert [e["log_level"] for e in failed] == ["error", "error"]
    [applied] = [e for e in logs if e["event"] == "destination files applied after failing"]
    assert applied["failures"] == 2


async def test_the_tries_of_a_failing_change_come_further_apart(tmp_path: Path) -> None:
    apply = Flaky(failing=1_000)
    watcher = DirectoryWatcher(tmp_path, apply, interval=0.01)
    watcher.start()
    try:
        (tmp_path / "noord.yaml").write_text("id: noord\n")
        await _until(lambda: len(apply.calls) == 1)
        await asyncio.sleep(0.6)  # 60 polls
    finally:
        await watcher.stop()
    # After 1, 2, 4, 8, 16 and 32 polls: seven tries at most, not one a poll.
    assert 3 <= len(apply.calls) <= 7, apply.calls
    gaps = [b - a for a, b in zip(apply.calls, apply.calls[1:], strict=False)]
    assert gaps[-1] > gaps[0], gaps


async def test_a_new_change_is_tried_at_once_while_a_failed_one_waits(tmp_path: Path) -> None:
    apply = Flaky(failing=5)
    watcher = DirectoryWatcher(tmp_path, apply, interval=0.1)
    watcher.start()
    try:
        (tmp_path / "noord.yaml").write_text("id: noord\n")
        await _until(lambda: len(apply.calls) == 5)  # its next try waits 16 polls: 1.6 s
        (tmp_path / "zuid.yaml").write_text("id: zuid\n")
        await _until(lambda: len(apply.calls) == 6)
    finally:
        await watcher.stop()
    assert apply.calls[5] - apply.calls[4] < 1.2  # the next poll's, not the back-off's


async def test_an_edit_made_before_the_watcher_starts_is_a_change(tmp_path: Path) -> None:
    """The engine reads the directory, then starts its watcher: an edit made in between
    was the watcher's starting point, and applied only at the next edit of some file."""
    read = fingerprint(tmp_path)  # as the engine's reading saw it
    (tmp_path / "noord.yaml").write_text("id: noord\n")
    apply = Flaky(failing=0)
    watcher = DirectoryWatcher(tmp_path, apply, interval=0.01, seen=read)
    watcher.start()
    try:
        await _until(lambda: len(apply.calls) == 1)
    finally:
        await watcher.stop()
