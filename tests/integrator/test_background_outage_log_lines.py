"""A store or broker away is told by the engine's background loops as by its HTTP requests: the
first failure in full, then one line a minute counting the failures since, then once when it
works again (``integrator.log_throttle``).

Found by an operator review of a ~70 s store outage across two engines: 16 ``engine heartbeat
failed`` (every 10 s per engine, without the cause), 6 ``could not tell whether an engine has
left`` (every 15 s), ``cannot count unrouted events`` every 30 s; and one ``messages stored but
not published`` per accepted event while the broker was away, 36,000 lines an hour at 10 events
a second. Each loop takes its outcomes from the test one at a time (the store's real calls,
made to fail as a store that is away fails: ``StoreUnavailable`` naming the driver's error and
code), and the lines' clock is the test's, moved a minute on by hand. The real broker and store
going away: tests/transport/test_intake_broker_away.py, tests/http/test_store_outage_log_lines.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.worker import OutboundMessage
from integrator.events_routing import UnroutedGauge
from integrator.metrics import Metrics
from integrator.presence import Presence
from integrator.store import Store, StoreUnavailable
from integrator.store_for import open_store
from integrator.transport.committed import (
    AWAY_LINE,
    BACK_LINE,
    STILL_AWAY_LINE,
    publish_committed,
    watch_away,
)
from integrator.transport.errors import TransportUnavailable
from integrator.transport.link import AmqpLink
from integrator.transport.recovery import RecoveryLeader
from integrator.transport.topology import Topology
from tests.integrator.support import settings_for

AWAY = StoreUnavailable("the store is unavailable (ConnectionRefusedError, 08001)")
Logs = Sequence[MutableMapping[str, Any]]


class Seconds:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Outcomes:
    """What a store call meets, one call at a time, as the test hands them in: an error to
    raise, or None to make the real call."""

    def __init__(self) -> None:
        self._next: asyncio.Queue[Exception | None] = asyncio.Queue()
        self._done = asyncio.Event()

    async def meet(self) -> None:
        outcome = await self._next.get()
        self._done.set()
        if outcome is not None:
            raise outcome

    async def run(self, *outcomes: Exception | None) -> None:
        """Let the loop make one call per outcome; back once it has met the last and logged."""
        for outcome in outcomes:
            self._done.clear()
            self._next.put_nowait(outcome)
            await asyncio.wait_for(self._done.wait(), 10)
            for _ in range(5):  # the loop logs in the turns after the call returns
                await asyncio.sleep(0)


def lines(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(settings_for(tmp_path))
    try:
        yield store
    finally:
        await store.close()


async def test_a_heartbeat_that_fails_is_told_with_its_cause_then_once_a_minute_then_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = Outcomes()
    beat = store.beat_engine

    async def beat_engine(*args: Any) -> bool:
        await outcomes.meet()
        return await beat(*args)

    monkeypatch.setattr(store, "beat_engine", beat_engine)
    clock = Seconds()
    presence = Presence(store, None, every=0, log_clock=clock)
    await presence.start()
    try:
        with capture_logs() as logs:
            await outcomes.run(None, AWAY, AWAY, AWAY)
            clock.now += 60
            await outcomes.run(AWAY, AWAY)
            clock.now += 10
            await outcomes.run(None, None)  # the second: the first has been told
    finally:
        await presence.stop()
    [failed] = lines(logs, "engine heartbeat failed")
    assert failed["log_level"] == "warning"
    assert failed["error_type"] == "StoreUnavailable"
    assert failed["error"] == str(AWAY)  # the cause, which the line used to leave out
    [still] = lines(logs, "engine heartbeat still failing")
    assert (still["failures"], still["failing_for_s"], still["error"]) == (3, 60, str(AWAY))
    [back] = lines(logs, "engine heartbeat works again")
    assert (back["log_level"], back["failures"], back["failed_for_s"]) == ("info", 5, 70)
    assert len(logs) == 3  # not one line per beat


async def test_a_store_that_cannot_count_unrouted_events_is_told_once_a_minute(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = Outcomes()
    count = store.count_unrouted_events

    async def count_unrouted_events() -> Any:
        await outcomes.meet()
        return await count()

    monkeypatch.setattr(store, "count_unrouted_events", count_unrouted_events)
    clock = Seconds()
    gauge = UnroutedGauge(Metrics(), configured=frozenset, interval=0, log_clock=clock)
    gauge.start(store)
    try:
        with capture_logs() as logs:
            await outcomes.run(None, AWAY, AWAY)
            clock.now += 59
            await outcomes.run(AWAY)
            clock.now += 1
            await outcomes.run(AWAY, AWAY, None, None)  # the second: the first has been told
    finally:
        await gauge.stop()
    [first] = lines(logs, "cannot count unrouted events")
    assert (first["log_level"], first["error"]) == ("warning", str(AWAY))
    [still] = lines(logs, "still cannot count unrouted events")
    assert (still["failures"], still["failing_for_s"]) == (3, 60)
    [back] = lines(logs, "unrouted events counted again")
    assert (back["failures"], back["failed_for_s"]) == (5, 60)
    assert len(logs) == 3


class Departures:
    """The store's departures, asked by the recovery leader, failing as the test says."""

    def __init__(self, outcomes: Outcomes) -> None:
        self.outcomes = outcomes

    async def seen(self) -> Sequence[object]:
        await self.outcomes.meet()
        return ()

    async def forget(self, engines: Sequence[Any]) -> None:
        return None


class AwayTransport:
    """A transport whose broker is away until ``back``."""

    def __init__(self) -> None:
        self.back = False

    async def publish(self, messages: Sequence[OutboundMessage], **_: Any) -> None:
        if not self.back:
            raise TransportUnavailable("no connection to the message broker")

    async def republish(self, messages: Sequence[OutboundMessage]) -> None:
        await self.publish(messages)


async def test_events_stored_while_the_broker_is_away_are_told_once_a_minute_not_each() -> None:
    transport = AwayTransport()
    clock = Seconds()
    watch_away(transport, clock=clock)  # type: ignore[arg-type]
    message: Any = object()  # never looked at: the transport refuses before

    async def accept(messages: int) -> bool:
        return await publish_committed(
            transport,  # type: ignore[arg-type]
            [message] * messages,
            what="events",
            counts={"events": 1},
        )

    with capture_logs() as logs:
        assert [await accept(1) for _ in range(600)] == [False] * 600  # 10 a second, a minute
        clock.now += 60
        assert await accept(2) is False
        clock.now += 30
        assert await accept(1) is False
        transport.back = True
        assert await accept(1) is True
        assert await accept(1) is True
    [first] = lines(logs, AWAY_LINE)
    assert (first["what"], first["events"], first["messages"]) == ("events", 1, 1)
    assert first["error_type"] == "TransportUnavailable"
    assert first["error"] == "no connection to the message broker"  # or a nack's words
    [still] = lines(logs, STILL_AWAY_LINE)
    assert still["error"] == "no connection to the message broker"
    assert (still["failures"], still["messages"], still["failing_for_s"]) == (600, 601, 60)
    [back] = lines(logs, BACK_LINE)
    assert (back["log_level"], back["failures"], back["messages"]) == ("info", 602, 603)
    assert back["failed_for_s"] == 90
    assert len(logs) == 3


async def test_a_leader_that_cannot_tell_who_left_says_so_once_a_minute() -> None:
    """The leader asks every 15 s; asked here directly, as its loop does (``_left``)."""
    outcomes = Outcomes()
    clock = Seconds()
    leader = RecoveryLeader(
        AmqpLink("amqp://guest:guest@127.0.0.1:1/"),
        Topology("t"),
        republish=lambda: asyncio.sleep(0, 0),
        departures=Departures(outcomes),
        log_clock=clock,
    )

    async def ask(*outcome: Exception | None) -> None:
        for one in outcome:
            asking = asyncio.create_task(leader._left())
            await outcomes.run(one)
            assert await asking == ()

    with capture_logs() as logs:
        await ask(None, AWAY, AWAY, AWAY)
        clock.now += 60
        await ask(AWAY, None, None)
    [first] = lines(logs, "could not tell whether an engine has left")
    assert (first["log_level"], first["error"]) == ("warning", str(AWAY))
    [still] = lines(logs, "still cannot tell whether an engine has left")
    assert (still["failures"], still["failing_for_s"]) == (3, 60)
    [back] = lines(logs, "can tell again whether an engine has left")
    assert (back["failures"], back["failed_for_s"]) == (4, 60)
    assert len(logs) == 3
