"""Fixtures the engine tests of this directory share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from destinations.receiver import MllpReceiver


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    """An MLLP receiver on a free loopback port that ACKs everything (AA), started."""
    server = MllpReceiver()
    await server.start()
    yield server
    await server.stop()
