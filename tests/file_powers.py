"""Tests that take a file's permissions away, and root, which reads and writes it all the same.

Root holds ``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH``: a ``chmod 0`` refuses it nothing, so
such a test proves nothing as root, and CI runs as root. They are marked ``without_file_powers``
and skip wherever this process holds either power; ``make test`` then runs them once more, as
root without them (``setpriv`` drops both from what the test process may hold, so the kernel
answers ``EACCES`` as it does to any other user). Where the suite runs as another user they run
in the main pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

_DAC_OVERRIDE, _DAC_READ_SEARCH = 1, 2
Test = TypeVar("Test", bound=Callable[..., object])


def bypasses_file_permissions() -> bool:
    """Whether this process reads and writes files whatever their permissions say."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:  # not Linux: root is the one who may
        return os.geteuid() == 0
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            effective = int(line.split()[1], 16)
            return bool(effective & (1 << _DAC_OVERRIDE | 1 << _DAC_READ_SEARCH))
    return os.geteuid() == 0


def without_file_powers(test: Test) -> Test:
    """Mark ``test`` as one that takes permissions away: skipped where they would be ignored."""
    skip = pytest.mark.skipif(
        bypasses_file_permissions(),
        reason="this process ignores file permissions (root): `make test` runs it again without "
        "that power where util-linux's setpriv is installed",
    )
    marked: Test = pytest.mark.without_file_powers(skip(test))
    return marked
