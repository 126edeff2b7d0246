"""A peer that takes the connection and never answers is an attempt that failed, retried.

Found by an operator review: behind something that accepts TCP and answers nothing (a
partition just after the connect, a load balancer holding connections, a broker starting up)
the link waited in aiormq's connect for good (it has no bound, and the heartbeat starts only
after the handshake): nothing more was logged, ``/readyz`` said the transport was away long
after the broker was back, and only a restart mended it. The link reaches the real broker
through a proxy (``tests.deploy.proxy``) the test makes silent: new connections are taken and
read, never answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiormq
import pytest
from structlog.testing import capture_logs

from integrator.transport import TransportUnavailable
from integrator.transport.link import AmqpLink
from tests.deploy.proxy import CuttableProxy
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq

UNREACHABLE = "message broker unreachable; retrying"
SETUP_FAILED = "message broker setup failed"
CONNECTED = "message broker connected"


def lines(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def test_a_peer_that_never_answers_the_handshake_is_retried_until_a_broker_answers() -> None:
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    link = AmqpLink(
        f"amqp://guest:guest@127.0.0.1:{port}/",
        min_backoff=0.01,
        max_backoff=0.01,
        handshake_timeout=0.5,
    )
    try:
        await link.start()
        with capture_logs() as logs:
            proxy.silent = True
            await proxy.cut()  # the connection goes; every reconnect is taken, never answered
            await proxy.restore()
            assert await eventually(lambda: len(lines(logs, UNREACHABLE)) >= 3, timeout=20)
            told = lines(logs, UNREACHABLE)
            assert [e["attempt"] for e in told[:3]] == [1, 2, 3]
            assert {e["error"] for e in told} == {
                f"no answer from 127.0.0.1:{port} to the AMQP handshake within 0.5s "
                "(INTEGRATOR_AMQP_URL)"
            }
            assert not link.connected and proxy.silenced >= 3

            proxy.silent = False  # the broker answers again: the next attempt connects
            assert await link.wait_connected(timeout=20)
        [back] = lines(logs, CONNECTED)
        assert back["attempts"] > len(told)
    finally:
        await link.close()
        await proxy.close()


async def test_a_start_that_gets_no_answer_ends_naming_it() -> None:
    """``integrator run`` behind a silent peer: it ends after its timeout (10 s by default),
    with the last cause, the handshake's bound, rather than an unnamed ``no answer``."""
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    proxy.silent = True
    link = AmqpLink(f"amqp://guest:guest@127.0.0.1:{port}/", handshake_timeout=0.5)
    try:
        with pytest.raises(TransportUnavailable) as refused:
            await link.start(timeout=3)
        assert str(refused.value).endswith(
            f"last error: no answer from 127.0.0.1:{port} to the AMQP handshake within 0.5s "
            "(INTEGRATOR_AMQP_URL)"
        )
    finally:
        await link.close()
        await proxy.close()


async def test_close_during_a_connect_that_gets_no_answer_ends_it() -> None:
    """``Engine.stop`` closes the link: a connect waiting for an answer is cancelled, not
    waited for (the handshake's own bound is far off here)."""
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    link = AmqpLink(f"amqp://guest:guest@127.0.0.1:{port}/", handshake_timeout=600)
    try:
        await link.start()
        proxy.silent = True
        await proxy.cut()
        await proxy.restore()
        assert await eventually(lambda: proxy.silenced >= 1)
        await asyncio.wait_for(link.close(), 5)
        assert not link.connected
    finally:
        await link.close()
        await proxy.close()


@dataclass
class SetupThatHangs:
    """A link through a proxy whose connect hook opens a channel: while ``hanging``, the
    hook's ``Channel.Open`` is held by the proxy, unanswered (the handshake went through)."""

    proxy: CuttableProxy
    link: AmqpLink
    port: int
    hanging: bool = False

    async def cut_and_hang(self) -> None:
        """The connection lost, and the next one's setup left waiting."""
        self.hanging = True
        await self.proxy.cut()
        await self.proxy.restore()

    def answer_again(self) -> None:
        self.hanging = False
        self.proxy.thaw()


@asynccontextmanager
async def setup_that_hangs(query: str, setup_timeout: float) -> AsyncIterator[SetupThatHangs]:
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    link = AmqpLink(
        f"amqp://guest:guest@127.0.0.1:{port}/{query}",
        min_backoff=0.01,
        max_backoff=0.01,
        setup_timeout=setup_timeout,
    )
    made = SetupThatHangs(proxy, link, port)

    async def declare(connection: aiormq.abc.AbstractConnection) -> None:
        if made.hanging:
            proxy.freeze_at_next_write(at_least=1)  # the Channel.Open is held, unanswered
        await connection.channel()

    link.on_connect(declare)
    try:
        await link.start()
        yield made
    finally:
        proxy.thaw()
        await link.close()
        await proxy.close()


async def test_a_broker_gone_silent_during_the_setup_is_a_setup_that_failed_retried() -> None:
    """The handshake answered, then nothing: a connect hook waiting on the broker (a channel,
    a declare) gets the setup's bound, and the link connects again once the broker answers."""
    async with setup_that_hangs("", setup_timeout=0.5) as made:
        with capture_logs() as logs:
            await made.cut_and_hang()
            assert await eventually(lambda: len(lines(logs, SETUP_FAILED)) >= 1, timeout=20)
            [failed] = lines(logs, SETUP_FAILED)
            assert failed["error"] == (
                f"no answer from 127.0.0.1:{made.port} to the setup within 0.5s "
                "(INTEGRATOR_AMQP_URL)"
            )
            made.answer_again()
            assert await made.link.wait_connected(timeout=20)
            assert await eventually(lambda: len(lines(logs, CONNECTED)) == 1)
        [back] = lines(logs, CONNECTED)
        assert back["setup_failures"] >= 1


async def test_a_setup_call_the_heartbeat_gave_up_on_is_retried_not_the_end_of_the_link() -> None:
    """aiormq ends the calls a connection it gave up on still owed (no frame within the
    heartbeat's grace) as cancelled: in a connect hook that ended the link's task as if
    stopped, and it never connected again."""
    async with setup_that_hangs("?heartbeat=1", setup_timeout=600) as made:
        with capture_logs() as logs:
            await made.cut_and_hang()
            assert await eventually(lambda: len(lines(logs, SETUP_FAILED)) >= 1, timeout=30)
            [failed] = lines(logs, SETUP_FAILED)
            assert "heartbeat" in failed["error"]
            made.answer_again()
            assert await made.link.wait_connected(timeout=20)
