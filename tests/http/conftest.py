"""An engine on its own store and destination files, with the HTTP API in front of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.app import EngineApp, build_app
from tests.http.support import api_client
from tests.integrator.support import destination, engine_on_destinations, settings_for

BSN = "999990019"  # the sample referral's patient


@asynccontextmanager
async def running_engine(root: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    """An engine in ``root`` with one destination, ``noord``, delivering to ``receiver``."""
    config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    async with engine_on_destinations(settings_for(root), config) as started:
        yield started


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    async with running_engine(tmp_path, receiver) as started:
        yield started


@pytest.fixture
def app(engine: Engine) -> EngineApp:
    """The engine's application, on the process's shared routes: never add a route to it."""
    return create_app(engine)


@pytest.fixture
async def api(engine: Engine, app: EngineApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` with a token holding every role for all clusters."""
    async with api_client(engine, app=app) as client:
        yield client


@pytest.fixture
def own_app(engine: Engine) -> EngineApp:
    """An application with routes of its own, for a test that adds one (``own_app.app``):
    built afresh (about 0.2 s), so the shared application every other test uses stays as the
    product makes it."""
    return EngineApp(build_app(), engine)


@pytest.fixture
async def own_api(engine: Engine, own_app: EngineApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``own_app`` with a token holding every role for all clusters."""
    async with api_client(engine, app=own_app) as client:
        yield client


async def submit(engine: Engine, event: dict[str, Any]) -> str:
    """Submit ``event`` and wait for its delivery; the id of its one message."""
    result = await engine.intake.submit(json.dumps(event), source="cli")
    assert await engine.wait_settled(timeout=10)
    [message] = result.messages
    return message.message_id
