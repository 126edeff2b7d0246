"""An engine in the test's own event loop, on a store of its own, with the clock at a chosen
moment: what the console's in-process tests (httpx against the app, no browser) start from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for


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


@asynccontextmanager
async def noord_engine(
    tmp_path: Path, providers: tuple[str, ...] = ("ziekenhuis-noord",), **overrides: Any
) -> AsyncIterator[Engine]:
    """Started with one destination, ``noord`` (cluster CARD) serving ``providers`` (its port
    answers nothing: the tests that use it make their messages in the store; ``overrides``
    set its other keys); stopped after."""
    config = destination("noord", 2575, providers=list(providers), **overrides)
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@asynccontextmanager
async def card_and_lab_engine(tmp_path: Path, start: datetime) -> AsyncIterator[Engine]:
    """Started with ``noord`` in cluster CARD and ``zuid`` in LAB (their ports answer nothing:
    no message is sent, what is resent only waits) and a ``ManualClock`` at ``start``."""
    catalog = build_catalog(
        [
            ("noord.yaml", destination("noord", 2575, providers=["ziekenhuis-noord"])),
            ("zuid.yaml", destination("zuid", 2576, providers=["lab-zuid"], cluster="LAB")),
        ],
        today=date(2026, 11, 27),
    )
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    started = Engine(settings, catalog=catalog, clock=ManualClock(start))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()
