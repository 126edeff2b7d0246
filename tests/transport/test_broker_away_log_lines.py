"""A broker away for long is told by its first attempts, then once a minute, then once back.

Found by an on-call review: ``message broker unreachable; retrying`` came every 5 s for as long
as RabbitMQ was away. The link reaches the real broker through a proxy the test cuts
(``tests.deploy.proxy``), which it sees exactly as a broker gone away; it retries every 10 ms,
and the log throttle's clock is the test's, moved a minute on by hand. The clock is read once
per failed attempt (``LogThrottle.failed``), so its reads count the attempts, told or not.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator.log_throttle import LogThrottle
from integrator.transport.errors import TransportError
from integrator.transport.link import UNREACHABLE_LINES, AmqpLink
from tests.deploy.proxy import CuttableProxy
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq

UNREACHABLE = "message broker unreachable; retrying"
STILL = "message broker still unreachable; retrying"


class Seconds:
    """A clock the test moves, counting how often it is read."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def lines(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def test_a_broker_away_is_told_by_its_first_attempts_then_once_a_minute_then_back() -> None:
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
            await proxy.cut()
            assert await eventually(lambda: clock.reads >= 40)  # 40 attempts failed
            told = lines(logs, UNREACHABLE)
            assert [e["attempt"] for e in told] == list(range(1, UNREACHABLE_LINES + 1))
            assert all(e["error"].startswith("connection refused at 127.0.0.1:") for e in told)
            assert lines(logs, STILL) == []

            clock.now += 60  # a minute later: one line says how long and how many
            assert await eventually(lambda: len(lines(logs, STILL)) == 1)
            reads = clock.reads
            assert await eventually(lambda: clock.reads >= reads + 40)
            [still] = lines(logs, STILL)
            assert still["down_for_s"] == 60 and still["attempts"] > 40
            assert still["error"].startswith("connection refused at 127.0.0.1:")
            assert still["log_level"] == "warning"
            assert len(lines(logs, UNREACHABLE)) == UNREACHABLE_LINES  # no more of those

            clock.now += 30  # within the next minute: nothing more
            reads = clock.reads
            assert await eventually(lambda: clock.reads >= reads + 20)
            assert len(lines(logs, STILL)) == 1

            clock.now += 30
            assert await eventually(lambda: len(lines(logs, STILL)) == 2)
            assert lines(logs, STILL)[1]["down_for_s"] == 120

            await proxy.restore()
            assert await link.wait_connected(timeout=10)
        [back] = lines(logs, "message broker connected")
        assert back["down_for_s"] == 120.0 and back["attempts"] > lines(logs, STILL)[1]["attempts"]
        assert len(lines(logs, STILL)) == 2 and len(lines(logs, UNREACHABLE)) == UNREACHABLE_LINES

        # The next outage is told from its first attempt again.
        with capture_logs() as again:
            await proxy.cut()
            assert await eventually(lambda: len(lines(again, UNREACHABLE)) == UNREACHABLE_LINES)
            await proxy.restore()
            assert await link.wait_connected(timeout=10)
        assert [e["attempt"] for e in lines(again, UNREACHABLE)] == list(
            range(1, UNREACHABLE_LINES + 1)
        )
        assert lines(again, STILL) == []
    finally:
        await link.close()
        await proxy.restore_if_cut()
        await proxy.close()


SETUP_FAILED = "message broker setup failed"
SETUP_STILL = "message broker setup still failing; retrying"


async def test_a_setup_the_broker_keeps_refusing_is_told_the_same_way() -> None:
    """A broker that takes the connection and refuses what the engine declares on it (a queue
    declared anew with other arguments, in service) is retried as long: it was a line per
    retry. The refusal here is a hook's of the test's own, raised after a reconnect."""
    require_rabbitmq()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    clock = Seconds()
    link = AmqpLink(
        f"amqp://guest:guest@127.0.0.1:{port}/",
        min_backoff=0.01,
        max_backoff=0.01,
        setup_throttle=LogThrottle(first=UNREACHABLE_LINES, clock=clock),
    )
    refusing = False

    async def declare(_connection: object) -> None:
        if refusing:
            raise TransportError("PRECONDITION_FAILED - inequivalent arg 'x-queue-type'")

    link.on_connect(declare)
    try:
        await link.start()
        with capture_logs() as logs:
            refusing = True
            await proxy.cut()  # the connection goes; every reconnect's setup is refused
            await proxy.restore()
            assert await eventually(lambda: clock.reads >= 40)
            told = lines(logs, SETUP_FAILED)
            assert len(told) == UNREACHABLE_LINES
            assert all("PRECONDITION_FAILED" in e["error"] for e in told)
            assert lines(logs, SETUP_STILL) == []

            clock.now += 60
            assert await eventually(lambda: len(lines(logs, SETUP_STILL)) == 1)
            [still] = lines(logs, SETUP_STILL)
            assert still["failing_for_s"] == 60 and still["failures"] > 40
            assert len(lines(logs, SETUP_FAILED)) == UNREACHABLE_LINES

            refusing = False
            assert await link.wait_connected(timeout=10)
            assert await eventually(lambda: bool(lines(logs, "message broker connected")))
        [back] = lines(logs, "message broker connected")
        # At least those the still-line counted: the next try after it may already succeed.
        assert back["setup_failed_for_s"] == 60.0 and back["setup_failures"] >= still["failures"]
    finally:
        await link.close()
        await proxy.restore_if_cut()
        await proxy.close()
