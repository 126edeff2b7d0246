"""``bypasses_file_permissions`` tells what the kernel does: were it wrong one way, the tests that
take permissions away would pass as root proving nothing; wrong the other, they would skip in
the pass ``make test`` makes for them, and nobody would see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.file_powers import bypasses_file_permissions


# Marked only, never skipped: it runs wherever they run (as another user, or root without powers).
@pytest.mark.without_file_powers
def test_it_says_whether_a_file_without_permissions_opens(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.write_text("x")
    closed.chmod(0)
    try:
        closed.read_text()
    except PermissionError:
        opened = False
    else:
        opened = True
    finally:
        closed.chmod(0o600)
    assert bypasses_file_permissions() is opened
