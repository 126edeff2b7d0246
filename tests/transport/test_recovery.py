"""Recovery leadership: one engine re-publishes the store's pending messages, not every one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from integrator.store import StoreUnavailable
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.recovery import RecoveryLeader
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, unique_prefix

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    url = require_rabbitmq()
    name = unique_prefix()
    yield name
    await delete_topology(url, name, [])


async def test_one_leader_republishes_and_another_takes_over_when_it_dies(prefix: str) -> None:
    url = require_rabbitmq()
    calls: list[str] = []

    def engine(name: str) -> tuple[RabbitMQTransport, RecoveryLeader]:
        transport = RabbitMQTransport(url, prefix=prefix)

        async def republish() -> int:
            calls.append(name)
            return 0

        leader = RecoveryLeader(transport.link, transport.topology, republish, interval=0.2)
        return transport, leader

    first, first_leader = engine("first")
    second, second_leader = engine("second")
    # Both start at once; only one of them re-publishes.
    await asyncio.gather(first.start(), second.start())
    try:
        assert await eventually(lambda: len(calls) == 1)
        await asyncio.sleep(0.6)  # several campaign rounds: the lock holds
        assert len(calls) == 1
        assert first_leader.is_leader != second_leader.is_leader

        leader, leader_t, follower = (
            (first_leader, first, "second")
            if first_leader.is_leader
            else (second_leader, second, "first")
        )
        await leader.close()
        await leader_t.close()  # the leader's connection dies: the lock is free
        assert await eventually(lambda: calls == [calls[0], follower], timeout=5)
    finally:
        for leader_, transport in ((first_leader, first), (second_leader, second)):
            await leader_.close()
            await transport.close()


async def test_the_leader_re_publishes_again_when_an_engine_has_gone(prefix: str) -> None:
    """Asked every ``interval``: not while none has gone, once when one has, and on after a
    store that did not answer (said at ``warning``)."""
    url = require_rabbitmq()
    calls = 0
    answers: list[bool | Exception] = [False, False, StoreUnavailable("away"), True, False]

    async def republish() -> int:
        nonlocal calls
        calls += 1
        return 0

    async def gone() -> bool:
        answer = answers.pop(0) if answers else False
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = RabbitMQTransport(url, prefix=prefix)
    leader = RecoveryLeader(transport.link, transport.topology, republish, interval=0.05, gone=gone)
    with capture_logs() as logs:
        await transport.start()
        try:
            assert await eventually(lambda: not answers, timeout=5)
            await asyncio.sleep(0.2)
            assert calls == 2  # at the start, and once for the engine gone
        finally:
            await leader.close()
            await transport.close()
    [said] = [e for e in logs if e["event"] == "could not tell whether an engine has gone"]
    assert (said["log_level"], said["error_type"]) == ("warning", "StoreUnavailable")
    assert [e["event"] for e in logs].count(
        "an engine has gone; re-publishing pending messages"
    ) == 1
