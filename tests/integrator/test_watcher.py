"""The watcher notices every change the loader would answer differently, at once.

It compares names, types, sizes and times of the entries: a change it misses is applied (and
a refusal shown and audited) only at the next edit of some other file.
"""

from __future__ import annotations

import os
from pathlib import Path

from integrator.watcher import fingerprint


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
