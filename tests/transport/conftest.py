"""The transport contract's two subjects: the embedded transport and RabbitMQ.

Like dramatiq's ``stub_broker``/``rabbitmq_broker``: every contract test takes the ``harness``
fixture and runs twice. Messages are first committed to a real store (SQLite file), because
that is where they always come from, and because the embedded transport's "redelivery" after a
restart is the engine re-publishing the store's pending messages.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiormq
import asyncpg
import pytest

from destinations.worker import OutboundMessage
from integrator.logging import configure_logging
from integrator.store import Store
from integrator.transport import EmbeddedTransport, Transport
from integrator.transport.outbox import Outbox, outbound_message
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.topology import Topology
from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_postgres, require_rabbitmq
from tests.store.factories import make_event, make_message
from tests.transport.helpers import delete_topology, unique_prefix

DESTINATIONS = ("dest-a", "dest-b")


@dataclass
class Harness:
    kind: str
    store: Store
    url: str | None = None
    prefix: str = ""
    opened: list[Transport] = field(default_factory=list)

    async def open(self) -> Transport:
        transport: Transport
        if self.url is None:
            transport = EmbeddedTransport()
        else:
            outbox = Outbox(self.store, lambda: DESTINATIONS)
            rabbit = RabbitMQTransport(
                self.url, prefix=self.prefix, prefetch=50, still_pending=outbox.still_pending
            )
            await rabbit.start()
            transport = rabbit
        self.opened.append(transport)
        return transport

    async def reopen(self, old: Transport) -> Transport:
        """Close (as a stopping engine does) and open again, recovering as the engine does."""
        await old.close()
        self.opened.remove(old)
        new = await self.open()
        if isinstance(new, EmbeddedTransport):
            await new.republish(await Outbox(self.store, lambda: DESTINATIONS).pending())
        return new

    async def messages(self, destination_id: str, count: int) -> list[OutboundMessage]:
        """``count`` messages committed to the store for one destination, in order."""
        out = []
        for n in range(count):
            new = make_message(destination_id=destination_id, payload=f"MSG {n}".encode())
            await self.store.accept_event(make_event(), [new])
            record = await self.store.get_message(new.id)
            assert record is not None
            out.append(outbound_message(record))
        return out

    async def done(self, message: OutboundMessage) -> None:
        """What a worker does before settling: record the final status."""
        await self.store.set_status(message.message_id, "delivered")


@pytest.fixture(autouse=True)
def _log_to_the_current_stderr() -> None:
    """Bind structlog to this test's stderr.

    A test that runs the CLI through ``CliRunner`` leaves structlog printing to the runner's
    closed stream; every later log line would then raise inside the transport's tasks.
    """
    configure_logging(level="info")


@asynccontextmanager
async def open_harness(kind: str, tmp_path: Path) -> AsyncIterator[Harness]:
    store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    url = require_rabbitmq() if kind == "rabbitmq" else None
    h = Harness(kind, store, url, unique_prefix())
    try:
        yield h
    finally:
        for transport in h.opened:
            await transport.close()
        if url is not None:
            await delete_topology(url, h.prefix, DESTINATIONS)
        await store.close()


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with open_harness(request.param, tmp_path) as h:
        yield h


@pytest.fixture
async def rabbit(tmp_path: Path) -> AsyncIterator[Harness]:
    """RabbitMQ only: behaviour the embedded transport (one process) has no counterpart for."""
    async with open_harness("rabbitmq", tmp_path) as h:
        yield h


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (engines use the default schema), dropped afterwards."""
    require_postgres()
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="test"
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def led_elsewhere() -> AsyncIterator[tuple[str, str]]:
    """A fresh prefix (its url and name) whose recovery lock the test holds for its whole
    length: no engine of the test leads recovery, so no copy is re-published but the test's
    own. The topology is deleted afterwards (with ``ziekenhuis-noord``'s delivery queue)."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    leader = await aiormq.connect(url)
    try:
        channel = await leader.channel()
        await channel.queue_declare(Topology(prefix).recovery_lock, exclusive=True)
        yield url, prefix
    finally:
        await leader.close()
        await delete_topology(url, prefix, ["ziekenhuis-noord"])
