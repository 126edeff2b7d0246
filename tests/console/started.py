"""An engine in the test's own event loop, on a store of its own, with the clock at a chosen
moment: what the console's in-process tests (httpx against the app, no browser) start from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.integrator.support import settings_for


@asynccontextmanager
async def started_engine(tmp_path: Path, start: datetime) -> AsyncIterator[Engine]:
    """Started, with no destination yet and a ``ManualClock`` at ``start``; stopped after."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    started = Engine(settings, clock=ManualClock(start))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()
