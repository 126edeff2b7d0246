"""A broker away behind a TCP proxy or load balancer is told as an outage, not a wrong port.

Found by an operator review: HAProxy, a Kubernetes Service or a cloud load balancer in front of
RabbitMQ takes the connection for the broker and closes it at once when the broker behind it is
down. The link said "closed the connection before the AMQP handshake was done (is it a RabbitMQ
port, and the scheme, amqp or amqps, the right one?)", though the same address had answered the
handshake minutes before: an operator went looking for a configuration mistake during an
outage. The link reaches the real broker through a proxy (``tests.deploy.proxy``) that first
forwards, then takes every new connection and closes it at once.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator.log_throttle import LogThrottle
from integrator.transport import TransportUnavailable
from integrator.transport.link import UNREACHABLE_LINES, AmqpLink
from tests.deploy.proxy import CuttableProxy
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import eventually
from tests.transport.test_broker_away_log_lines import Seconds

pytestmark = pytest.mark.rabbitmq

UNREACHABLE = "message broker unreachable; retrying"
STILL = "message broker still unreachable; retrying"
CONNECTED = "message broker connected"


def lines(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


def outage(port: int) -> str:
    return (
        f"127.0.0.1:{port} closed the connection before the AMQP handshake was done; it "
        "answered the handshake before, so the broker is down or restarting behind a proxy or "
        "load balancer that takes connections for it (INTEGRATOR_AMQP_URL)"
    )


async def test_a_first_connection_through_a_closing_proxy_names_the_proxy_too() -> None:
    """Nothing answered at this address yet: a wrong port or scheme is as likely as a broker
    down behind a proxy, and the sentence names all three."""
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    proxy.closing = True
    link = AmqpLink(f"amqp://guest:guest@127.0.0.1:{port}/", min_backoff=0.01, max_backoff=0.01)
    try:
        with capture_logs() as logs, pytest.raises(TransportUnavailable) as refused:
            await link.start(timeout=1)
    finally:
        await link.close()
        await proxy.close()
    said = (
        f"127.0.0.1:{port} closed the connection before the AMQP handshake was done (is it a "
        "RabbitMQ port, and the scheme, amqp or amqps, the right one? Or a proxy or load "
        "balancer in front of a broker that is down?) (INTEGRATOR_AMQP_URL)"
    )
    assert str(refused.value).endswith(f"last error: {said}")
    told = lines(logs, UNREACHABLE)
    assert proxy.closed_at_once >= 2 and told
    assert {e["error"] for e in told} == {said}


async def test_a_broker_lost_then_closed_by_the_proxy_is_an_outage_told_as_one() -> None:
    """Connected through the proxy, then the broker behind it goes: every reconnect is taken
    and closed. Told as an outage, throttled as one (its first lines, then once a minute, then
    the line that it is back)."""
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    clock = Seconds()
    link = AmqpLink(
        f"amqp://guest:guest@127.0.0.1:{port}/",
        min_backoff=0.01,
        max_backoff=0.01,
        log_throttle=LogThrottle(first=UNREACHABLE_LINES, clock=clock),
    )
    try:
        await link.start()
        with capture_logs() as logs:
            proxy.closing = True
            await proxy.cut()  # the open connection goes; the proxy stays, closing
            await proxy.restore()
            assert await eventually(lambda: clock.reads >= 40)
            told = lines(logs, UNREACHABLE)
            assert [e["attempt"] for e in told] == list(range(1, UNREACHABLE_LINES + 1))
            assert {e["error"] for e in told} == {outage(port)}
            assert lines(logs, STILL) == [] and proxy.closed_at_once >= 40

            clock.now += 60
            assert await eventually(lambda: len(lines(logs, STILL)) == 1)
            [still] = lines(logs, STILL)
            assert still["error"] == outage(port) and still["down_for_s"] == 60

            proxy.closing = False  # the broker is back behind the proxy
            assert await link.wait_connected(timeout=10)
            assert await eventually(lambda: len(lines(logs, CONNECTED)) == 1)
        [back] = lines(logs, CONNECTED)
        assert back["down_for_s"] == 60.0 and back["attempts"] > still["attempts"]
        assert len(lines(logs, UNREACHABLE)) == UNREACHABLE_LINES
    finally:
        await link.close()
        await proxy.close()
