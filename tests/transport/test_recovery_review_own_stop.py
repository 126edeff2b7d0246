"""A recovery leader that stops does not lead a recovery for itself.

A stop leaves the engine's presence row, no longer fresh, for *another* leader (what it
committed and never had confirmed is published by nothing else), and clears the engine's
presence id (its jobs no longer name it) first thing. The leader goes on asking which engines
have left until the stop closes the transport, and while an attempt waited for a slow
receiver's ACK it found that row, no longer its own: `an engine has left; re-publishing
pending messages` at its own stop, a copy of every pending message (the one on the wire too)
in the queues, and its own row deleted. An engine that genuinely left meanwhile is still
recovered for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.mllp import FrameDecoder, frame
from destinations.receiver import build_ack
from integrator.engine import Engine
from integrator.store import Store
from integrator.store.presence import FRESH_FOR
from integrator.transport import recovery
from integrator.transport.recovery import RecoveryLeader
from integrator.transport.topology import Topology
from tests.services import require_rabbitmq
from tests.store.factories import engine_elsewhere
from tests.transport.helpers import (
    PROVIDER,
    delete_topology,
    eventually,
    one_destination_engine,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

#: How often the leader asks which engines have left (15 s in production).
INTERVAL = 0.1


@dataclass
class SlowReceiver:
    """A loopback MLLP receiver that holds every ACK until ``release``: a hospital slow to
    answer, so an attempt is on the wire for as long as the test wants."""

    received: list[bytes] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder()
        try:
            while data := await reader.read(65536):
                for message in decoder.feed(data):
                    self.received.append(message)
                    await self.released.wait()
                    writer.write(frame(build_ack(message, "AA")))
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass
class Stopping:
    """A leading engine whose one message is on the wire, waiting for ``receiver``'s ACK."""

    engine: Engine
    leader: RecoveryLeader
    receiver: SlowReceiver
    url: str
    prefix: str
    own: str
    asks: list[list[str]] = field(default_factory=list)
    """What each ask of the leader found (the ids of the engines that left)."""

    async def asked(self, times: int) -> bool:
        """Wait until the leader asked ``times`` more times which engines have left."""
        target = len(self.asks) + times
        return await eventually(lambda: len(self.asks) >= target)

    async def queued(self) -> int:
        """Messages in the destination's queue (its copies among them)."""
        connection = await aiormq.connect(self.url)
        try:
            channel = await connection.channel()
            queue = Topology(self.prefix).delivery_queue(PROVIDER)
            ok = await channel.queue_declare(queue, passive=True)
            return int(ok.message_count or 0)
        finally:
            await connection.close()


@asynccontextmanager
async def leader_sending(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stopping]:
    monkeypatch.setattr(recovery, "INTERVAL_S", INTERVAL)
    url = require_rabbitmq()
    prefix = unique_prefix()
    receiver = SlowReceiver()
    engine = one_destination_engine(
        tmp_path,
        await receiver.start(),
        database_url=database,
        amqp_url=url,
        amqp_prefix=prefix,
        search_key="a-test-search-key-of-enough-length",
    )
    await engine.start()
    try:
        leader = engine.recovery
        assert leader is not None
        assert await eventually(lambda: leader.is_leader and leader.recovered.is_set())
        own = engine._presence_id()
        assert own is not None
        stopping = Stopping(engine, leader, receiver, url, prefix, own)
        departures = leader._departures
        assert departures is not None
        seen = departures.seen

        async def counted() -> Any:
            left = await seen()
            stopping.asks.append([str(getattr(e, "id", e)) for e in left])
            return left

        monkeypatch.setattr(departures, "seen", counted)
        await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await eventually(lambda: bool(receiver.received))  # on the wire now
        yield stopping
    finally:
        receiver.released.set()
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


async def _stop(engine: Engine) -> asyncio.Task[None]:
    """Begin a graceful stop (SIGTERM): the attempt on the wire is waited for."""
    engine.stop_attempting()
    task = asyncio.create_task(engine.stop(graceful=True))
    await asyncio.sleep(0)
    return task


async def test_a_stopping_leader_does_not_recover_for_itself(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with leader_sending(tmp_path, database, referral_data, monkeypatch) as at:
        at.leader.recovered.clear()
        stop = await _stop(at.engine)
        assert await at.asked(5)  # the leader still asks while the attempt is on the wire
        assert not stop.done()
        assert not any(at.asks), at.asks  # its own row is not a departure
        assert not at.leader.recovered.is_set()  # nothing re-published at its own stop
        at.receiver.released.set()
        await stop
        assert len(at.receiver.received) == 1
        async with await Store.open(at.engine.settings.database_url) as store:
            rows = [e.id for e in await store.all_engines()]
        assert rows == [at.own]  # left for the next leader, not deleted by itself
        assert await at.queued() == 0  # no copy of the message sent


async def test_a_stopping_leader_still_recovers_for_an_engine_that_left(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with leader_sending(tmp_path, database, referral_data, monkeypatch) as at:
        at.leader.recovered.clear()
        stop = await _stop(at.engine)
        other = dataclasses.replace(engine_elsewhere(), id="other", transport=_transport(at))
        await at.engine.store.leave_engine(other, datetime.now(UTC) - 2 * FRESH_FOR)
        assert await eventually(at.leader.recovered.is_set)  # re-published for it
        assert ["other"] in at.asks and at.own not in {i for left in at.asks for i in left}

        async def forgotten() -> bool:  # forgotten after the re-publish, not with it
            return "other" not in [e.id for e in await at.engine.store.all_engines()]

        # Waited for before the attempt ends: the stop that follows it ends the leader, which
        # between the re-publish and the forget (a loaded machine) left the row (a red CI).
        assert await eventually(forgotten)
        assert not stop.done()
        at.receiver.released.set()
        await stop
        async with await Store.open(at.engine.settings.database_url) as store:
            rows = [e.id for e in await store.all_engines()]
        assert rows == [at.own]  # the other engine's row forgotten, its own left


def _transport(at: Stopping) -> str:
    return f"rabbitmq 127.0.0.1:5672 vhost=/ prefix={at.prefix}"
