"""Fixtures for resend tests: a support desk on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.resend.support import Desk, open_desk


@pytest.fixture
def desk(env: dict[str, str], tmp_path: Path) -> Iterator[Desk]:
    # The CLI configures structlog to write to CliRunner's stream, which closes afterwards.
    saved = structlog.get_config()
    yield open_desk(env, tmp_path)
    structlog.configure(**saved)
