"""A message an engine held while the broker lost its connection is not sent by that engine
once the broker has given it to another.

Found by a chaos soak of two `integrator run` on RabbitMQ whose engines were frozen (SIGSTOP)
past the heartbeat: the broker closed the frozen engine's connection and gave the messages it
held to the other engine, which delivered them; the frozen one woke and sent them again before
it had read the close (9 messages in one run, the same MSH-10 twice, the history showing an
attempt again after the delivery). A half-open network does the same to an engine that holds a
fifo retry: the broker gives up on the connection after its heartbeat, the engine only after
three. Now a delivery held that long, or taken around a stand-still of the loop, is confirmed
with the broker before it is sent (``integrator.transport.stalls``).

Here engine A reaches the broker through a proxy whose connection of A's the test freezes (no
byte passes, no socket closes) while A waits out a fifo retry; engine B, on the same broker and
store, takes the queue over once the broker has closed A's connection, and delivers the
message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator import retry_waits
from integrator.access import Permission
from integrator.access.permissions import local_identity
from integrator.catalog import build_catalog
from integrator.clusters import ClusterScope
from integrator.engine import Engine
from integrator.store import MessageFilter
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.try_now import Where, try_message_now
from tests.deploy.proxy import CuttableProxy
from tests.integrator.support import destination, settings_for
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

TODAY = date(2026, 12, 6)
NOORD = "ziekenhuis-noord"
SEARCH_KEY = "held-across-a-lost-connection-search-key"
SUPPORT = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)
NOT_SENT = "a message held while the broker connection was lost is not sent"


async def test_a_retry_held_while_the_broker_gave_the_message_away_is_not_sent_again(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry_waits, "POLL_SECONDS", 0.2)  # try now seen at once
    url = require_rabbitmq()
    prefix = unique_prefix()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    # A's heartbeat is 2 s: the broker closes its connection some seconds into the freeze.
    through_proxy = f"amqp://guest:guest@127.0.0.1:{port}/?heartbeat=2"
    common = {"database_url": database, "search_key": SEARCH_KEY, "amqp_prefix": prefix}
    started: list[Engine] = []
    async with MllpReceiver(ack_code="AE") as receiver:
        retry = {"initial": "12s", "multiplier": 1, "max_delay": "12s", "max_attempts": 5}
        config = destination(NOORD, receiver.port, providers=[NOORD], retry=retry)
        catalog = build_catalog([(f"{NOORD}.yaml", config)], today=TODAY)
        a = Engine(settings_for(tmp_path, amqp_url=through_proxy, **common), catalog=catalog)
        # Through the same proxy (engines on one store must name one broker), on a connection
        # of its own that the freeze leaves flowing.
        b = Engine(settings_for(tmp_path, amqp_url=through_proxy, **common), catalog=catalog)
        try:
            await a.start()
            started.append(a)
            [event] = make_events(referral_data, [NOORD], 1)
            await a.intake.submit(event, source="cli")

            async def held_by_a() -> bool:
                stored = await a.store.list_messages(MessageFilter(status="retrying"))
                return a.retries_waiting(NOORD) == 1 and len(stored) == 1

            assert await eventually(held_by_a, timeout=20)
            [message] = await a.store.list_messages(MessageFilter(status="retrying"))
            receiver.ack_code = "AA"
            transport = a._transport
            assert isinstance(transport, RabbitMQTransport)
            with capture_logs() as logs:
                generation = transport.link.generation
                proxy.freeze_open_connections()
                # Its own connection flows; its consumer waits behind A's (single active
                # consumer) until the broker gives up on A.
                await b.start()
                started.append(b)

                # The broker closes A's connection and gives the message to B, which holds it
                # until its time; support has it tried now, through B, so that B delivers it
                # before A's retry comes due (A sees the request too, in the store).
                assert await eventually(lambda: b.retries_waiting(NOORD) == 1, timeout=30)
                await try_message_now(Where.engine(b), SUPPORT, message.id)

                async def delivered() -> bool:
                    found = await b.store.get_message(message.id)
                    return found is not None and found.status == "delivered"

                assert await eventually(delivered, timeout=30)

                def a_decided() -> bool:
                    said = any(e["event"].startswith(NOT_SENT) for e in logs)
                    return said or len(receiver.received) > 2

                # A learns of the close by its own heartbeat (and connects again, through the
                # proxy, behind B); its retry, made due or come due, is decided by then.
                assert await eventually(lambda: transport.link.generation > generation, timeout=30)
                assert await eventually(a_decided, timeout=30)
                # Sent twice in all: A's first attempt (AE), and B's delivery; not A's retry.
                assert len(receiver.received) == 2
                attempts = await b.store.list_attempts(message.id)
                outcomes = [(t.number, t.outcome) for t in attempts]
                assert outcomes == [(1, "retry"), (2, "delivered")]
            found = await b.store.get_message(message.id)
            assert found is not None and found.status == "delivered"
            [line] = [e for e in logs if e["event"].startswith(NOT_SENT)]
            assert line["message_id"] == message.id and line["destination"] == NOORD
        finally:
            proxy.thaw()
            for engine in started:
                await engine.stop()
            await proxy.close()
            await delete_topology(url, prefix, [NOORD])
