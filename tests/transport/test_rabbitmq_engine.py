"""The engine on RabbitMQ: AMQP intake, poison messages, and a broker restart mid-stream."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import MessageFilter
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    all_delivered,
    delete_topology,
    eventually,
    make_events,
    publish_events,
    publish_raw,
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq

TODAY = date(2026, 11, 27)
PROVIDERS = ["ziekenhuis-noord", "lab-west"]
#: More than one destination queue's prefetch (200): what a stalled ack window would strand.
PREFETCH_AND_THEN_SOME = 260


@dataclass
class Setup:
    engine: Engine
    url: str
    prefix: str
    receivers: list[MllpReceiver]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    receivers = [MllpReceiver(), MllpReceiver()]
    configs = []
    for receiver, provider in zip(receivers, PROVIDERS, strict=True):
        port = await receiver.start()
        configs.append(destination(provider, port, providers=[provider]))
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=TODAY)
    engine = Engine(settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix), catalog=catalog)
    await engine.start()
    try:
        yield Setup(engine, url, prefix, receivers)
    finally:
        await engine.stop()
        for receiver in receivers:
            await receiver.stop()
        await delete_topology(url, prefix, PROVIDERS)


def control_ids(receiver: MllpReceiver) -> list[str]:
    return [read_msh(m).control_id for m in receiver.received]


async def test_events_from_the_intake_queue_are_delivered(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    events = make_events(referral_data, PROVIDERS, 40)
    await publish_events(setup.url, setup.prefix, events)
    assert await eventually(lambda: all_delivered(setup.engine, 40), timeout=20)
    for receiver, provider in zip(setup.receivers, PROVIDERS, strict=True):
        stored = await setup.engine.store.list_messages(
            MessageFilter(destination_id=provider), limit=100
        )
        assert sorted(control_ids(receiver)) == sorted(m.control_id for m in stored)
        assert len(receiver.received) == 20
    event = await setup.engine.store.get_event(events[0]["event_id"])
    assert event is not None and event.source == "amqp"


async def test_poison_messages_are_stored_as_rejected_and_do_not_stop_the_queue(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    bad_schema = dict(referral_data, event_id="not-a-uuid", zd_number="ZD1")
    import json

    await publish_raw(
        setup.url,
        setup.prefix,
        [b"\xff\xfe not json", b"{}", json.dumps(bad_schema).encode(), b"[1, 2"],
    )
    events = make_events(referral_data, PROVIDERS, 4)
    await publish_events(setup.url, setup.prefix, events)
    assert await eventually(lambda: all_delivered(setup.engine, 4), timeout=20)

    async def four_rejected() -> bool:
        return len(await setup.engine.store.list_rejected()) == 4

    assert await eventually(four_rejected, timeout=10)
    rejected = await setup.engine.store.list_rejected()
    assert {r.source for r in rejected} == {"amqp"}
    assert {r.caller for r in rejected} == {"amqp"}  # the channel: the broker names no sender
    bodies = [await setup.engine.store.get_rejected(r.id) for r in rejected]
    assert b"\xff\xfe not json" in {b.raw for b in bodies if b is not None}
    assert all(r.reason for r in rejected)
    transport = setup.engine._transport
    from integrator.transport.rabbitmq import RabbitMQTransport

    assert isinstance(transport, RabbitMQTransport)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.mark.slow
@pytest.mark.exclusive
async def test_a_broker_restart_mid_stream_loses_nothing(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    events = make_events(referral_data, PROVIDERS, 300)
    loop = asyncio.get_running_loop()

    failures = 0

    async def upstream() -> None:
        """Publishes in batches; an unconfirmed batch is published again (event ids dedupe)."""
        nonlocal failures
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            while True:
                try:
                    await publish_events(setup.url, setup.prefix, batch)
                    break
                except Exception:
                    failures += 1
                    await asyncio.sleep(0.5)
            await asyncio.sleep(0.1)

    publisher = asyncio.create_task(upstream())
    assert await eventually(lambda: all_delivered_at_least(setup.engine, 60), timeout=20), (
        "stream did not start"
    )
    await loop.run_in_executor(None, rabbitmqctl, "stop_app")
    await asyncio.sleep(2)
    await loop.run_in_executor(None, rabbitmqctl, "start_app")
    await asyncio.wait_for(publisher, 60)
    assert failures, "the stream should have spanned the broker restart"

    assert await eventually(lambda: all_delivered(setup.engine, 300), timeout=60)
    stored = await setup.engine.store.list_messages(MessageFilter(), limit=1000)
    assert len(stored) == 300 and {m.status for m in stored} == {"delivered"}
    for receiver, provider in zip(setup.receivers, PROVIDERS, strict=True):
        expected = {m.control_id for m in stored if m.destination_id == provider}
        got = control_ids(receiver)
        # Nothing lost; a message sent twice (possible around the restart) keeps its MSH-10.
        assert set(got) == expected
        if len(got) - len(expected) > 5:
            pytest.fail(await _copies_told(setup.engine, stored, got))


async def _copies_told(engine: Engine, stored: list[Any], got: list[str]) -> str:
    """Each message a receiver got more than once: where in its stream, and how many attempts
    the store recorded for it. One clean-clone run sent 18 copies to one receiver, where runs
    of this test alone send none: this tells a block (a queue's worth handed out unchecked)
    from copies strewn through the stream (a check that raced the attempt's record)."""
    by_control = {m.control_id: m for m in stored}
    lines = [f"{len(got) - len(set(got))} copies to one receiver of {len(set(got))} messages:"]
    for control_id in sorted(set(got), key=got.index):
        places = [i for i, c in enumerate(got) if c == control_id]
        if len(places) > 1:
            attempts = await engine.store.list_attempts(by_control[control_id].id)
            lines.append(f"  {control_id} at {places}, {len(attempts)} attempts recorded")
    return "\n".join(lines)


async def all_delivered_at_least(engine: Engine, count: int) -> bool:
    counts = await engine.store.count_by_status()
    return counts["delivered"] >= count


async def test_changing_a_destination_mid_attempt_does_not_stall_its_queue(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A runner stopped in the middle of an attempt leaves that delivery unsettled. The queue's
    acks go out as multiple-acks up to the first unsettled delivery, so the engine must hand the
    channel back when it stops a runner; otherwise, once a prefetch's worth of later deliveries
    waits for acks that never go out, the broker sends the destination nothing more."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    provider = PROVIDERS[0]
    async with MisbehavingReceiver(["delay:1"]) as receiver:
        config = destination(provider, receiver.port, providers=[provider], ack_timeout="5s")
        catalog = build_catalog([(f"{provider}.yaml", config)], today=TODAY)
        engine = Engine(settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix), catalog=catalog)
        await engine.start()
        try:
            await publish_events(url, prefix, make_events(referral_data, [provider], 1))
            assert await eventually(lambda: len(receiver.log) == 1, timeout=10)  # in flight
            changed = destination(provider, receiver.port, providers=[provider], ack_timeout="4s")
            await engine.apply_catalog(build_catalog([(f"{provider}.yaml", changed)], today=TODAY))
            more = PREFETCH_AND_THEN_SOME
            await publish_events(url, prefix, make_events(referral_data, [provider], more))
            assert await eventually(lambda: all_delivered(engine, 1 + more), timeout=60)
        finally:
            await engine.stop()
            await delete_topology(url, prefix, [provider])


async def test_a_channel_the_broker_closes_does_not_silence_the_engine(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    """The broker closes a channel it finds at fault and keeps the connection (an ack of a
    tag it does not hold, a consumer timeout). The intake's consumer was then gone while the
    engine looked connected: events stayed queued until a restart. Now the engine reconnects."""
    from structlog.testing import capture_logs

    from integrator.transport.rabbitmq import RabbitMQTransport

    transport = setup.engine._transport
    assert isinstance(transport, RabbitMQTransport)
    first = make_events(referral_data, PROVIDERS, 10)
    await publish_events(setup.url, setup.prefix, first)
    assert await eventually(lambda: all_delivered(setup.engine, 10), timeout=20)

    generation = transport.link.generation
    consuming = [
        channel
        for channel in transport.link.connection.channels.values()
        if isinstance(channel, aiormq.Channel)
        and channel.consumers  # the intake's and each destination's
    ]
    assert len(consuming) == 1 + len(PROVIDERS)
    with capture_logs() as logs:
        for channel in consuming:  # a tag the broker never gave: it closes that channel
            await channel.basic_ack(10**6)
        assert await eventually(lambda: transport.link.generation > generation, timeout=10)
        later = make_events(referral_data, PROVIDERS, 10)
        await publish_events(setup.url, setup.prefix, later)
        assert await eventually(lambda: all_delivered(setup.engine, 20), timeout=20)
    closed = [e for e in logs if e["event"] == "message broker closed a channel; reconnecting"]
    assert closed and closed[0]["log_level"] == "error"
    assert closed[0]["error_type"] == "ChannelPreconditionFailed"
    assert "unknown delivery tag" in closed[0]["reply"]


async def test_a_deleted_delivery_queue_is_declared_again_and_delivery_goes_on(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    """An operator deletes a destination's queue while the engine runs. The broker cancels the
    consumer; the engine used to look connected and ready while that destination got nothing
    until a restart. Now it logs an error, says "not consuming" in readiness until it has
    declared the queue again and consumes it, and the next events are delivered exactly once,
    without a reconnect."""
    from structlog.testing import capture_logs

    from integrator.scrape import readiness
    from integrator.transport.rabbitmq import RabbitMQTransport

    transport = setup.engine._transport
    assert isinstance(transport, RabbitMQTransport)
    first = make_events(referral_data, PROVIDERS, 4)
    await publish_events(setup.url, setup.prefix, first)
    assert await eventually(lambda: all_delivered(setup.engine, 4), timeout=20)
    generation = transport.link.generation
    deleted = PROVIDERS[0]

    subscribe = transport._subscribe
    gate = asyncio.Event()

    async def held_subscribe(*args: Any, **kwargs: Any) -> None:
        await gate.wait()  # so the "not consuming" state lasts long enough to be seen
        await subscribe(*args, **kwargs)

    transport._subscribe = held_subscribe  # type: ignore[method-assign]
    with capture_logs() as logs:
        connection = await aiormq.connect(setup.url)
        try:
            channel = await connection.channel()
            await channel.queue_delete(f"{setup.prefix}.delivery.{deleted}")  # this test's only
        finally:
            await connection.close()
        assert await eventually(lambda: transport.not_consuming() == [deleted], timeout=10)
        assert setup.engine.transport_state() == "not consuming"
        assert not setup.engine.transport_connected()  # integrator_transport_up 0
        assert (await readiness(setup.engine))["transport"] == "not consuming"
        # Events arrive before anything declared the queue again: their publishes come back
        # unroutable, and the engine declares the queue and publishes them once more.
        later = make_events(referral_data, PROVIDERS, 6)
        await publish_events(setup.url, setup.prefix, later)
        assert await eventually(lambda: delivered_to(setup.engine, PROVIDERS[1], 5), timeout=20)
        gate.set()
        assert await eventually(lambda: transport.not_consuming() == [], timeout=10)
        assert (await readiness(setup.engine))["transport"] == "ok"
        assert await eventually(lambda: all_delivered(setup.engine, 10), timeout=30)
        await asyncio.sleep(1.0)  # a second copy, if any, would arrive meanwhile
    for receiver, provider in zip(setup.receivers, PROVIDERS, strict=True):
        stored = await setup.engine.store.list_messages(
            MessageFilter(destination_id=provider), limit=100
        )
        assert sorted(control_ids(receiver)) == sorted(m.control_id for m in stored)
        assert len(receiver.received) == 5  # 2 before, 3 after: each once
    assert transport.link.generation == generation  # not an unrelated reconnect
    cancelled = [e for e in logs if e["event"].startswith("message broker cancelled a delivery")]
    assert [(e["log_level"], e["destination"]) for e in cancelled] == [("error", deleted)]
    returned = [e for e in logs if e["event"].startswith("message broker returned messages")]
    assert returned and {e["log_level"] for e in returned} == {"error"}
    assert {d for e in returned for d in e["destinations"]} == {deleted}


async def delivered_to(engine: Engine, destination_id: str, count: int) -> bool:
    stored = await engine.store.list_messages(
        MessageFilter(destination_id=destination_id, status="delivered"), limit=100
    )
    return len(stored) == count


async def test_a_deleted_intake_queue_is_declared_again_and_intake_goes_on(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    """An operator deletes the intake queue while the engine runs. The broker cancels the
    intake consumer and confirms-and-drops what upstream publishes (no queue bound); the engine
    used to log nothing and look ready until a restart. Now it logs an error, says "not
    consuming" in readiness until it has declared the queue and its binding again (backing off
    while that fails) and consumes it, and events published after that, by a publisher that
    declares nothing, are stored and delivered, without a reconnect."""
    from structlog.testing import capture_logs

    from integrator.scrape import readiness
    from integrator.transport.rabbitmq import RabbitMQTransport

    intake = setup.engine._amqp_intake
    transport = setup.engine._transport
    assert intake is not None and isinstance(transport, RabbitMQTransport)
    await publish_events(setup.url, setup.prefix, make_events(referral_data, PROVIDERS, 2))
    assert await eventually(lambda: all_delivered(setup.engine, 2), timeout=20)
    generation = transport.link.generation
    queue = f"{setup.prefix}.intake"

    subscribe = intake._subscribe
    gate = asyncio.Event()
    tries = 0

    async def held_subscribe(*args: Any, **kwargs: Any) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise aiormq.exceptions.ChannelInvalidStateError("declaring failed (test)")
        await gate.wait()  # so the "not consuming" state lasts long enough to be seen
        await subscribe(*args, **kwargs)

    intake._subscribe = held_subscribe  # type: ignore[method-assign]
    with capture_logs() as logs:
        connection = await aiormq.connect(setup.url)
        try:
            channel = await connection.channel()
            await channel.queue_delete(queue)  # this test's prefix only
        finally:
            await connection.close()
        assert await eventually(intake.not_consuming, timeout=10)
        assert setup.engine.transport_state() == "not consuming"
        assert not setup.engine.transport_connected()  # integrator_transport_up 0
        assert (await readiness(setup.engine))["transport"] == "not consuming"
        assert await eventually(lambda: tries >= 2, timeout=10)  # backed off and tried again
        gate.set()
        assert await eventually(lambda: not intake.not_consuming(), timeout=10)
        assert (await readiness(setup.engine))["transport"] == "ok"
        assert setup.engine.transport_connected()

    connection = await aiormq.connect(setup.url)
    try:
        channel = await connection.channel()
        await channel.queue_declare(queue, passive=True)  # back (a missing one closes it: 404)
    finally:
        await connection.close()
    # Bound again: events from a publisher that declares nothing reach the engine.
    later = make_events(referral_data, PROVIDERS, 4)
    await publish_events(setup.url, setup.prefix, later, declare=False)
    assert await eventually(lambda: all_delivered(setup.engine, 6), timeout=20)
    for receiver in setup.receivers:
        assert len(receiver.received) == 3  # 1 before, 2 after: each once
    assert transport.link.generation == generation  # no reconnect was needed for it
    cancelled = [e for e in logs if e["event"].startswith("message broker cancelled the intake")]
    assert [e["log_level"] for e in cancelled] == ["error"]
    retried = [e for e in logs if e["event"].startswith("consuming the intake queue again failed")]
    assert retried and retried[0]["log_level"] == "warning"
    assert [e["log_level"] for e in logs if e["event"] == "intake consumer started again"] == [
        "info"
    ]


async def test_a_batch_split_after_a_poison_message_keeps_each_refused_event_once(
    setup: Setup, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A batch whose commit fails (here: a trigger refuses one event, as a column once refused
    a long provider id) is split and each message tried alone. The refused events in it had
    been kept as rejected input already, in commits of their own, and were kept a second time."""
    import json
    import sqlite3

    poison_zd = "ZD999999999"

    def add_trigger() -> None:
        with sqlite3.connect(tmp_path / "store.db") as db:
            db.execute(
                f"CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.zd_number = '{poison_zd}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )

    # On a thread: a write of the running engine's (its start's prune) may hold the store's
    # lock, and it needs the event loop to commit, which a call made on the loop would block
    # until its busy timeout ("database is locked").
    await asyncio.to_thread(add_trigger)
    good = make_events(referral_data, PROVIDERS, 5)
    fillers, (first, second) = good[:3], good[3:]
    poison = dict(make_events(referral_data, PROVIDERS[:1], 1)[0], zd_number=poison_zd)
    refused = dict(referral_data, event_id="9f64a799-fcf0-417e-b717-01a665f70245")
    refused["patient"] = dict(referral_data["patient"], bsn="123456789")  # eleven-test fails

    # Every intake worker waits on its own batch (of one filler each) while the four that
    # matter arrive, so the first worker to go on takes those four as one batch.
    preparing = setup.engine.intake._preparing
    await preparing.acquire()
    try:
        await publish_events(setup.url, setup.prefix, fillers)
        await asyncio.sleep(0.5)
        await publish_raw(
            setup.url,
            setup.prefix,
            [json.dumps(e).encode() for e in (first, refused, poison, second)],
        )
        await asyncio.sleep(0.5)
    finally:
        preparing.release()

    assert await eventually(lambda: all_delivered(setup.engine, 5), timeout=30)

    async def both_kept() -> bool:  # the refused event, and the poison after its redelivery
        return len(await setup.engine.store.list_rejected()) >= 2

    assert await eventually(both_kept, timeout=20)
    await asyncio.sleep(1)  # a second record of either would be written by now
    rules = sorted(e["rule"] for r in await setup.engine.store.list_rejected() for e in r.reason)
    assert rules == ["bsn_eleven_test", "processing"]


async def test_a_message_given_back_because_it_could_not_be_kept_either_is_said(
    setup: Setup, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A message that fails alone twice is kept as rejected input; when the store refuses that
    record too, it went back to the broker without a word, and after 20 deliveries into the
    dead queue, where no engine reads it: the on-call operator found no line about it."""
    import json
    import sqlite3

    from structlog.testing import capture_logs

    poison_zd = "ZD999999998"

    def triggers(sql: str) -> None:
        with sqlite3.connect(tmp_path / "store.db") as db:
            db.executescript(sql)

    refuse = "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
    await asyncio.to_thread(
        triggers,
        f"CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.zd_number = '{poison_zd}' "
        f"{refuse} CREATE TRIGGER unkept BEFORE INSERT ON rejected_events {refuse}",
    )
    poison = dict(make_events(referral_data, PROVIDERS[:1], 1)[0], zd_number=poison_zd)
    with capture_logs() as logs:
        await publish_raw(setup.url, setup.prefix, [json.dumps(poison).encode()])

        def given_back() -> list[Any]:
            return [e for e in logs if e["event"].startswith("intake message given back")]

        assert await eventually(lambda: bool(given_back()), timeout=30)
        await asyncio.to_thread(triggers, "DROP TRIGGER unkept;")

        async def kept() -> bool:
            return len(await setup.engine.store.list_rejected()) == 1

        assert await eventually(kept, timeout=30)
    said = given_back()[0]
    assert said["log_level"] == "error"
    assert (said["error_type"], said["keeping_failed"]) == ("StoreError", "StoreError")
    assert poison_zd not in repr(said)


async def test_the_scrape_counts_the_broker_s_dead_queue_and_the_messages_owed(
    setup: Setup,
) -> None:
    """A poison message the broker gave up on (20 deliveries) goes to ``<prefix>.dead``, which
    no engine reads; the docs told operators to alert on it, and nothing showed it. Nor did
    anything show messages the broker did not confirm while it stayed connected (a nack)."""
    from pamqp.commands import Basic
    from prometheus_client import generate_latest

    from integrator.scrape import refresh_metrics
    from integrator.transport.topology import Topology

    def in_scrape(name: str) -> str:
        scraped = generate_latest(setup.engine.metrics.registry).decode()
        [line] = [x for x in scraped.splitlines() if x.startswith(f"{name} ")]
        return line.split()[1]

    def dead_in_scrape() -> str:
        return in_scrape("integrator_amqp_dead_messages")

    await refresh_metrics(setup.engine)
    assert dead_in_scrape() == "0.0"
    assert in_scrape("integrator_publish_owed") == "0.0"
    transport = setup.engine._transport
    assert isinstance(transport, RabbitMQTransport)
    owed = [  # not in the store: forgotten at the next round
        OutboundMessage(f"m-owed-{n}", "a", f"C{n}", b"MSH", datetime.now(UTC)) for n in range(3)
    ]
    transport._remember(owed)
    await refresh_metrics(setup.engine)
    assert in_scrape("integrator_publish_owed") == "3.0"
    connection = await aiormq.connect(setup.url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for _ in range(2):
            await channel.basic_publish(
                b"{}",
                exchange=Topology(setup.prefix).dead_exchange,
                routing_key="event.referral",
                properties=Basic.Properties(delivery_mode=2),
            )
    finally:
        await connection.close()
    await refresh_metrics(setup.engine)
    assert dead_in_scrape() == "2.0"
