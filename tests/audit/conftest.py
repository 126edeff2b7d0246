"""What the audit tests through the HTTP API share: an engine with no destination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.engine import Engine
from tests.integrator.support import settings_for


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()
