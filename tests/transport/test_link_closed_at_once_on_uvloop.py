"""On uvloop (the engine's loop), a broker address that closes connections at once does not end
the link: it is retried, told, and connected again once the broker is back.

Found by a chaos soak of two `integrator run` on RabbitMQ behind a TCP proxy: after a broker
restart one engine logged four `message broker unreachable; retrying` and then nothing, and
stayed without a broker for good (3.5 minutes, until its SIGTERM, whose stop then failed with
a `StopAsyncIteration` traceback and exit 1). A peer that closes the connection at once (a
proxy or load balancer in front of a broker that is down: HAProxy, a Kubernetes Service) made
aiormq raise `StopAsyncIteration` on uvloop, where the close is read before the handshake's
first frame is asked for; it was no broker error, so it ended the link's task. The tests of
the closing proxy run on the test's asyncio loop, where the close is read later and comes as
aiormq's `AMQPConnectionError`; here the link runs on uvloop, as in the engine, and the proxy
on a loop of its own thread, as a proxy is another process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Future
from typing import Any

import pytest
import uvloop
from structlog.testing import capture_logs

from integrator.transport.link import AmqpLink
from tests.deploy.proxy import CuttableProxy
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq

pytestmark = pytest.mark.rabbitmq

UNREACHABLE = "message broker unreachable; retrying"
CLOSED = "closed the connection before the AMQP handshake was done"


class ProxyThread:
    """A ``CuttableProxy`` to the real broker, on an event loop of its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
        self.port = self.call(self.proxy.start())

    def call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(10)

    def set_closing(self, closing: bool) -> None:
        async def set_it() -> None:
            self.proxy.closing = closing

        self.call(set_it())

    def close(self) -> None:
        self.call(self.proxy.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def proxy() -> Iterator[ProxyThread]:
    require_rabbitmq()
    running = ProxyThread()
    yield running
    running.close()


def test_a_broker_address_closing_connections_at_once_is_retried_until_it_answers(
    proxy: ProxyThread,
) -> None:
    async def scenario() -> tuple[list[MutableMapping[str, Any]], bool, int]:
        link = AmqpLink(f"amqp://guest:guest@127.0.0.1:{proxy.port}/", max_backoff=0.05)
        await link.start(timeout=10)
        generation = link.generation
        try:
            with capture_logs() as logs:
                # The broker goes away behind the proxy, which now closes what comes at once.
                proxy.set_closing(True)
                await asyncio.to_thread(proxy.call, proxy.proxy.cut())
                await asyncio.to_thread(proxy.call, proxy.proxy.restore())
                for _ in range(500):  # some attempts, each closed at once
                    if proxy.proxy.closed_at_once >= 5 or link._task is None or link._task.done():
                        break
                    await asyncio.sleep(0.01)
                proxy.set_closing(False)  # the broker is back behind it
                back = await link.wait_connected(timeout=10)
            return logs, back, link.generation - generation
        finally:
            await link.close()

    logs, back, reconnects = uvloop.run(scenario())
    told = [e for e in logs if e["event"] == UNREACHABLE]
    assert told, [e["event"] for e in logs]
    assert all(CLOSED in e["error"] for e in told), told
    assert back and reconnects == 1
    assert proxy.proxy.closed_at_once >= 1
