"""Recovery leadership: one engine re-publishes the store's pending messages, not every one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

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


class _Departures:
    """Departures as the store would give them: each answer of ``seen`` in turn (an exception
    is raised), and what the leader forgot."""

    def __init__(self, answers: list[list[str] | Exception]) -> None:
        self.answers = answers
        self.forgotten: list[list[str]] = []

    async def seen(self) -> list[str]:
        answer = self.answers.pop(0) if self.answers else []
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def forget(self, engines: Sequence[Any]) -> None:
        self.forgotten.append(list(engines))


async def test_the_leader_re_publishes_when_an_engine_has_left_then_forgets_it(
    prefix: str,
) -> None:
    """Asked every ``interval``: not while none has left; when one has, it re-publishes, and
    forgets the departure only once that went through, so a failed re-publish is made again
    at the next ask; a store that did not answer is asked again (said at ``warning``)."""
    url = require_rabbitmq()
    calls = 0
    outcomes: list[Exception | None] = [None, RuntimeError("broker away"), None]

    async def republish() -> int:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        return 0

    departures = _Departures([[], [], StoreUnavailable("away"), ["e1"], ["e1"], [], []])
    transport = RabbitMQTransport(url, prefix=prefix)
    leader = RecoveryLeader(
        transport.link, transport.topology, republish, interval=0.05, departures=departures
    )
    with capture_logs() as logs:
        await transport.start()
        try:
            assert await eventually(lambda: not departures.answers, timeout=5)
            await asyncio.sleep(0.2)
            # At the start; for e1, which failed; for e1 seen again, which went through.
            assert calls == 3
            assert departures.forgotten == [["e1"]]
        finally:
            await leader.close()
            await transport.close()
    [said] = [e for e in logs if e["event"] == "could not tell whether an engine has left"]
    assert (said["log_level"], said["error_type"]) == ("warning", "StoreUnavailable")
    left = [e for e in logs if e["event"] == "an engine has left; re-publishing pending messages"]
    assert [e["engines"] for e in left] == [1, 1]
    [failed] = [e for e in logs if e["event"] == "re-publishing pending messages failed"]
    assert failed["error_type"] == "RuntimeError"


async def test_departures_seen_at_the_take_over_are_forgotten_after_its_re_publish(
    prefix: str,
) -> None:
    """The take-over re-publishes everything anyway: engines that left before it are covered
    by it, and not re-published for again."""
    url = require_rabbitmq()
    calls = 0

    async def republish() -> int:
        nonlocal calls
        calls += 1
        return 0

    departures = _Departures([["crashed-before"], [], []])
    transport = RabbitMQTransport(url, prefix=prefix)
    leader = RecoveryLeader(
        transport.link, transport.topology, republish, interval=0.05, departures=departures
    )
    await transport.start()
    try:
        assert await eventually(lambda: not departures.answers, timeout=5)
        assert calls == 1
        assert departures.forgotten == [["crashed-before"]]
    finally:
        await leader.close()
        await transport.close()
