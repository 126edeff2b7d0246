"""Departures: what tells the RabbitMQ recovery leader that an engine left, so that what it
committed and never had confirmed is published again (``integrator.transport.recovery``).

An engine that is not the leader and dies between commit and confirm (an event accepted over
HTTP: its caller's retry is answered "duplicate") left its messages pending in the store until
the next leader's take-over, which may never come while the leader runs. The leader saw an
engine gone only when it ran at one ask and not at the next (every 15 s), so one that came and
went between two asks was never seen; now its row stays, no longer fresh, until the leader has
re-published and forgets it.
"""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime, timedelta

from integrator.presence import (
    EMBEDDED,
    Departures,
    Presence,
    refuse_if_engine_present,
    running_engines,
)
from integrator.settings import Settings
from integrator.store import EnginePresence, Store
from integrator.store.presence import pid_namespace
from tests.store.factories import dead_pid, engine_elsewhere

RABBITMQ = "rabbitmq 127.0.0.1:5672 vhost=/ prefix=integrator"


def _row(engine_id: str, transport: str | None = RABBITMQ) -> EnginePresence:
    return dataclasses.replace(engine_elsewhere(), id=engine_id, transport=transport)


def _crashed_here(engine_id: str) -> EnginePresence:
    """A row of an engine that ran on this machine, in this pid namespace, and is gone."""
    return dataclasses.replace(
        _row(engine_id), host=socket.gethostname(), pid=dead_pid(), pid_namespace=pid_namespace()
    )


async def _ids(departures: Departures) -> list[str]:
    return sorted(e.id for e in await departures.seen())


async def test_a_stopped_engine_on_rabbitmq_leaves_its_row_for_the_leader(store: Store) -> None:
    engine = Presence(store, None, transport=RABBITMQ)
    await engine.start()
    departures = Departures(store, lambda: "own")
    assert await _ids(departures) == []  # running
    await engine.stop()
    assert [e.id for e in await running_engines(store)] == []  # no command counts it
    assert await _ids(departures) == [engine.row.id]
    await departures.forget(await departures.seen())
    assert await store.all_engines() == []


async def test_an_embedded_engine_and_a_tools_row_are_removed_at_stop(store: Store) -> None:
    for transport in (EMBEDDED, None):
        engine = Presence(store, None, transport=transport)
        await engine.start()
        await engine.stop()
        assert await store.all_engines() == []


async def test_a_row_no_longer_beating_is_a_departure_and_its_own_never(store: Store) -> None:
    now = datetime.now(UTC)
    for engine_id in ("own", "running", "crashed"):
        await store.register_engine(_row(engine_id))
    departures = Departures(store, lambda: "own")
    assert await _ids(departures) == []
    assert await store.beat_engine("crashed", now - timedelta(minutes=5))
    assert await store.beat_engine("own", now - timedelta(minutes=5))  # its beat will come
    assert await _ids(departures) == ["crashed"]


async def test_a_crashed_engine_of_this_machine_is_a_departure_at_once(store: Store) -> None:
    await store.register_engine(_crashed_here("crashed-here"))
    assert await _ids(Departures(store, lambda: "own")) == ["crashed-here"]


async def test_a_command_that_finds_a_crashed_engine_leaves_its_row_for_the_leader(
    store: Store,
) -> None:
    """Commands deleted a crashed engine's row of this machine (it blocked them); the leader
    then never saw that engine leave. Its row now stays, no longer fresh."""
    await store.register_engine(_crashed_here("crashed-here"))
    await refuse_if_engine_present(Settings(), store)  # not refused
    assert await running_engines(store) == []
    assert await _ids(Departures(store, lambda: "own")) == ["crashed-here"]


async def test_forgetting_keeps_a_row_that_beat_since_it_was_seen(store: Store) -> None:
    """A row seen stale because the store was away from its engine for a while: that engine
    beats again, and keeps its row (else it would register again at its next beat)."""
    now = datetime.now(UTC)
    await store.register_engine(_row("slow"))
    assert await store.beat_engine("slow", now - timedelta(minutes=5))
    departures = Departures(store, lambda: "own")
    seen = await departures.seen()
    assert await store.beat_engine("slow", now)
    await departures.forget(seen)
    assert [e.id for e in await store.all_engines()] == ["slow"]


async def test_leaving_again_puts_back_a_row_the_leader_forgot(store: Store) -> None:
    """A stop that ends still owing publishes leaves its row once more: a leader may have
    forgotten it meanwhile, having re-published before those were committed."""
    engine = Presence(store, None, transport=RABBITMQ)
    await engine.start()
    await engine.stop()
    departures = Departures(store, lambda: "own")
    await departures.forget(await departures.seen())
    await engine.left_owing()
    assert await _ids(departures) == [engine.row.id]
    assert await running_engines(store) == []
