"""PostgreSQL restarted under a running engine on RabbitMQ: nothing lost, nothing sent anew.

Like the broker restart in ``tests/transport/test_rabbitmq_engine.py``, with the store going
away instead: events keep arriving on the intake queue while the machine's PostgreSQL cluster
restarts. Every event must become exactly one message, every message must be delivered, and a
message that reaches a receiver twice must carry the same MSH-10 both times; the engine must
get there by itself, with no restart.

Restarting the cluster needs root (``pg_ctlcluster``); whatever happens, the test leaves
PostgreSQL running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import MessageFilter
from tests.integrator.support import destination, settings_for
from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_rabbitmq
from tests.transport.helpers import (
    delete_topology,
    eventually,
    make_events,
    publish_events,
    unique_prefix,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow, pytest.mark.exclusive]

PROVIDERS = ["ziekenhuis-noord", "lab-west"]
EVENTS = 300
TODAY = date(2026, 11, 30)


async def postmaster_started() -> datetime:
    """When the PostgreSQL server process started: a restart changes it."""
    conn = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="test"
    )
    try:
        started: datetime = await conn.fetchval("SELECT pg_postmaster_start_time()")
        return started
    finally:
        await conn.close()


@pytest.fixture
async def engine(
    tmp_path: Path, pg_database: str, restartable_postgres: Callable[[], None]
) -> AsyncIterator[tuple[Engine, list[MllpReceiver], str, str]]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    receivers = [MllpReceiver(), MllpReceiver()]
    configs = []
    for receiver, provider in zip(receivers, PROVIDERS, strict=True):
        port = await receiver.start()
        configs.append(destination(provider, port, providers=[provider]))
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=TODAY)
    settings = settings_for(
        tmp_path,
        database_url=f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{pg_database}",
        amqp_url=url,
        amqp_prefix=prefix,
        search_key="a-test-search-key-of-enough-length",
    )
    started = Engine(settings, catalog=catalog)
    await started.start()
    try:
        yield started, receivers, url, prefix
    finally:
        await started.stop()
        for receiver in receivers:
            await receiver.stop()
        await delete_topology(url, prefix, PROVIDERS)


async def test_a_postgres_restart_mid_stream_loses_nothing_and_sends_nothing_anew(
    engine: tuple[Engine, list[MllpReceiver], str, str],
    restartable_postgres: Callable[[], None],
    referral_data: dict[str, Any],
) -> None:
    started, receivers, url, prefix = engine
    events = make_events(referral_data, PROVIDERS, EVENTS)

    async def upstream() -> None:
        for start in range(0, EVENTS, 10):
            await publish_events(url, prefix, events[start : start + 10])
            await asyncio.sleep(0.2)

    def received() -> int:
        return sum(len(r.received) for r in receivers)

    publisher = asyncio.create_task(upstream())
    assert await eventually(lambda: received() >= 60, timeout=30), "stream did not start"
    assert not publisher.done(), "the stream should span the restart"
    before = await postmaster_started()
    await asyncio.get_running_loop().run_in_executor(None, restartable_postgres)
    assert await postmaster_started() != before, "PostgreSQL did not restart"
    await asyncio.wait_for(publisher, 120)

    async def all_delivered() -> bool:
        try:
            counts = await started.store.count_by_status()
        except Exception:  # the store may still be coming back
            return False
        return counts["delivered"] == EVENTS

    assert await eventually(all_delivered, timeout=120)
    stored = await started.store.list_messages(MessageFilter(), limit=EVENTS + 100)
    assert len(stored) == EVENTS and {m.status for m in stored} == {"delivered"}
    assert len({m.event_id for m in stored}) == EVENTS
    for receiver, provider in zip(receivers, PROVIDERS, strict=True):
        expected = {m.control_id for m in stored if m.destination_id == provider}
        got = [read_msh(m).control_id for m in receiver.received]
        # Nothing lost, nothing under a new MSH-10; a message sent twice keeps its MSH-10.
        assert set(got) == expected
        assert len(got) - len(expected) <= 5
