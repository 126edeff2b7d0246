"""Two engines on one store and broker: what an engine that does not lead committed and never
published, before it went, is published by the leader once it sees that engine gone.

An event accepted over HTTP by such an engine that then died before publishing is in the store
only (its sender's retry is answered "duplicate"), and the leader re-published only at a
take-over, which never comes while it runs: the message waited for the next start. Then the
leader saw an engine gone only when it ran at one ask and not at the next, so one that came and
went between two asks left its message waiting all the same.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.transport import recovery
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    delete_topology,
    eventually,
    make_events,
    one_destination_engine,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]


class _Died(BaseException):
    """The engine's process ending between the commit and the publish."""


@pytest.mark.parametrize(
    ("interval", "seen_running"),
    [(0.2, True), (4.0, False)],
    ids=["seen-running-first", "came-and-went-between-two-asks"],
)
async def test_the_leader_publishes_what_an_engine_gone_committed_and_never_published(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    interval: float,
    seen_running: bool,
) -> None:
    monkeypatch.setattr(recovery, "INTERVAL_S", interval)
    url = require_rabbitmq()
    prefix = unique_prefix()
    receiver = MllpReceiver()
    port = await receiver.start()

    def engine(name: str) -> Engine:
        return one_destination_engine(
            tmp_path / name,
            port,
            database_url=database,
            amqp_url=url,
            amqp_prefix=prefix,
            search_key="a-test-search-key-of-enough-length",
        )

    leading, other = engine("leading"), engine("other")
    await leading.start()
    try:
        lead = leading.recovery
        assert await eventually(lambda: lead is not None and lead.recovered.is_set())
        await other.start()  # after the leader's first ask
        try:
            assert other.recovery is not None and not other.recovery.is_leader
            if seen_running:
                await asyncio.sleep(3 * interval)  # the leader has seen it running
            transport = other._transport
            assert transport is not None

            async def died(*_: Any, **__: Any) -> None:
                raise _Died

            monkeypatch.setattr(transport, "publish", died)
            [event] = make_events(referral_data, [PROVIDER], 1)
            with pytest.raises(_Died):
                await other.intake.submit_many([event], source="http")
            [result] = await leading.intake.submit_many([event], source="http")  # the retry
            assert isinstance(result, IntakeResult) and result.duplicate
            [message] = result.messages
        finally:
            await other.stop()  # its presence row is left for the leader
        assert await eventually(lambda: bool(receiver.received), timeout=10)
        assert [read_msh(m).control_id for m in receiver.received] == [message.control_id]
        # The leader forgot the engine once it had re-published: its row is gone.
        assert await eventually(lambda: _rows(leading), timeout=5)
    finally:
        await leading.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


async def _rows(engine: Engine) -> bool:
    """Whether the store holds the leading engine's row only."""
    return [e.id for e in await engine.store.all_engines()] == [engine._presence_id()]
