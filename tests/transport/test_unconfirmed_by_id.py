"""What the RabbitMQ transport could not publish is remembered by id, and published again from
the store at the reconnect: once each, in the order it was first published, and not at all once
the store no longer owes it.

Held whole, every message accepted while the broker is away stayed in the engine's memory with
its payload until the broker was back (two hours at 50 events/s for 10 destinations: a gigabyte
and more); the store has them all (docs/amqp.md, "Events accepted while the broker is away").

The engine reaches the broker through a proxy the test cuts (``tests.deploy.proxy``). The test
holds the recovery lock itself while the engine is cut off, as another engine leading recovery
would, so the engine's recovery re-publish of the store's pending messages does not run: what
reaches the receivers is the transport's own re-publish of what it remembered. What is
published while either re-publish runs goes out after it (docs/amqp.md, "The store is the
outbox").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.catalog import Catalog, build_catalog
from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.preparing import RoutedMessage
from integrator.presence import Departures, running_engines
from integrator.store import Store
from integrator.transport import outbox, rabbitmq
from integrator.transport.committed import DELIVERY_AWAY
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.deploy.proxy import CuttableProxy
from tests.integrator.support import destination, settings_for
from tests.services import RABBITMQ_HOST, RABBITMQ_PORT, require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

TODAY = date(2026, 11, 27)
PROVIDERS = ["ziekenhuis-noord", "ziekenhuis-zuid"]
EVENTS = 50
BATCH = 10


async def _hold_recovery_lock(url: str, transport: RabbitMQTransport) -> aiormq.Connection:
    """Take the recovery lock on a connection of our own (the cut engine's is freed by the
    broker once it sees the connection gone)."""
    connection = await aiormq.connect(url)

    async def taken() -> bool:
        try:
            channel = await connection.channel()
            await channel.queue_declare(transport.topology.recovery_lock, exclusive=True)
        except aiormq.exceptions.ChannelLockedResource:
            return False
        return True

    assert await eventually(taken, timeout=5)
    return connection


def _holds_payload(value: object) -> bool:
    if isinstance(value, OutboundMessage | bytes | bytearray | memoryview):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_payload(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


@dataclasses.dataclass
class _Cut:
    """An engine on RabbitMQ through a proxy the test cuts, a receiver per provider."""

    engine: Engine
    transport: RabbitMQTransport
    proxy: CuttableProxy
    receivers: dict[str, MllpReceiver]
    url: str
    catalog: Catalog

    @contextlib.asynccontextmanager
    async def cut_off(self) -> AsyncIterator[None]:
        """Cut the engine off the broker, holding the recovery lock meanwhile (as another
        engine leading recovery would) so that only the transport re-publishes."""
        await self.proxy.cut()
        assert await eventually(lambda: not self.transport.link.connected, timeout=10)
        lock = await _hold_recovery_lock(self.url, self.transport)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await lock.close()

    async def restarted(self) -> None:
        """The engine goes, with whatever it still owed (its store keeps it pending), and a
        new one starts on the same store and broker."""
        await self.engine.stop()
        self.engine = Engine(self.engine.settings, catalog=self.catalog)
        await self.engine.start()
        transport = self.engine._transport
        assert isinstance(transport, RabbitMQTransport)
        self.transport = transport

    async def accept(self, events: list[dict[str, Any]]) -> list[RoutedMessage]:
        accepted: list[IntakeResult] = []
        for start in range(0, len(events), BATCH):
            results = await self.engine.intake.submit_many(
                events[start : start + BATCH], source="cli"
            )
            accepted += [r for r in results if isinstance(r, IntakeResult)]
        return [m for r in accepted for m in r.messages]

    async def back(self) -> None:
        """The broker reachable again, and the engine's publisher channel open on it."""
        await self.proxy.restore()
        assert await eventually(lambda: self.transport._publisher is not None, timeout=10)

    async def received_in_order(self, messages: list[RoutedMessage]) -> None:
        """Each receiver got its destination's ``messages`` once each, in that order."""
        expected = {p: [m.control_id for m in messages if m.destination_id == p] for p in PROVIDERS}

        def all_received() -> bool:
            return all(len(self.receivers[p].received) >= len(expected[p]) for p in PROVIDERS)

        assert await eventually(all_received, timeout=10)
        assert await self.engine.wait_settled(timeout=5)
        for provider, receiver in self.receivers.items():
            got = [read_msh(m).control_id for m in receiver.received]
            assert got == expected[provider], provider


def _slow_re_publish(transport: RabbitMQTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reconnect's re-publish in chunks of 5, each loaded from the store in 0.2 s: a test's
    new messages come while it runs."""
    monkeypatch.setattr(rabbitmq, "PUBLISH_CHUNK", 5)
    load = transport._load
    assert load is not None

    async def slow_load(ids: Sequence[str]) -> list[OutboundMessage]:
        await asyncio.sleep(0.2)
        return await load(ids)

    monkeypatch.setattr(transport, "_load", slow_load)


@contextlib.asynccontextmanager
async def _cut_engine(tmp_path: Path) -> AsyncIterator[_Cut]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    proxy = CuttableProxy(RABBITMQ_HOST, RABBITMQ_PORT)
    port = await proxy.start()
    receivers = {p: MllpReceiver() for p in PROVIDERS}
    configs = [
        (f"{p}.yaml", destination(p, await r.start(), providers=[p])) for p, r in receivers.items()
    ]
    catalog = build_catalog(configs, today=TODAY)
    engine = Engine(
        settings_for(
            tmp_path, amqp_url=f"amqp://guest:guest@127.0.0.1:{port}/", amqp_prefix=prefix
        ),
        catalog=catalog,
    )
    await engine.start()
    transport = engine._transport
    assert isinstance(transport, RabbitMQTransport)
    cut = _Cut(engine, transport, proxy, receivers, url, catalog)
    try:
        yield cut
    finally:
        await proxy.restore_if_cut()
        await cut.engine.stop()  # the one running now (``restarted``)
        await proxy.close()
        for receiver in receivers.values():
            await receiver.stop()
        await delete_topology(url, prefix, PROVIDERS)


@pytest.mark.rabbitmq
async def test_messages_accepted_while_the_broker_is_away_are_held_by_id_and_go_out_once_in_order(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/product.md §5: each message reaches its destination once, in the order accepted."""
    monkeypatch.setattr(rabbitmq, "PUBLISH_CHUNK", 7)  # several chunks at the reconnect
    async with _cut_engine(tmp_path) as cut:
        transport, engine = cut.transport, cut.engine
        republished: list[str] = []
        republish = transport.republish

        async def counted(messages: Sequence[OutboundMessage]) -> None:
            republished.extend(m.message_id for m in messages)
            await republish(messages)

        monkeypatch.setattr(transport, "republish", counted)
        async with cut.cut_off():
            sent = await cut.accept(make_events(referral_data, PROVIDERS, EVENTS))
            assert len(sent) == EVENTS

            # Remembered, every one, and none with its payload.
            assert list(transport._unconfirmed) == [m.message_id for m in sent]
            assert not any(_holds_payload(owed) for owed in transport._unconfirmed.values())

            # No longer owed by the time the broker is back: not published at all.
            cancelled = sent[3]
            await engine.store.set_status(cancelled.message_id, "cancelled")

            await cut.proxy.restore()
            assert await eventually(lambda: not transport._unconfirmed, timeout=10)
            await cut.received_in_order([m for m in sent if m is not cancelled])
            assert cancelled.message_id not in republished
            assert len(republished) == len(set(republished)) == EVENTS - 1
            assert not engine.recovery or not engine.recovery.is_leader


@pytest.mark.rabbitmq
async def test_a_message_accepted_once_the_broker_is_back_goes_out_after_those_it_still_owes(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/product.md §5, in the order accepted: a cancel accepted just after the broker came
    back was published at once, while the referral accepted during the outage still waited
    for its re-publish, and reached the hospital first. The re-publish is slowed here (a chunk
    of 5, each loaded from the store in 0.2 s) so that the new message comes while it runs."""
    async with _cut_engine(tmp_path) as cut:
        transport = cut.transport
        _slow_re_publish(transport, monkeypatch)
        events = make_events(referral_data, PROVIDERS, EVENTS + len(PROVIDERS))
        async with cut.cut_off():
            during = await cut.accept(events[:EVENTS])
            await cut.back()
            assert transport._unconfirmed  # its re-publish has just begun
            after = await cut.accept(events[EVENTS:])
            assert [m.destination_id for m in after] == PROVIDERS
            # Answered once published, as any publish: by the re-publish, behind the rest.
            assert not any(m.message_id in transport._unconfirmed for m in after)
            await cut.received_in_order(during + after)


@pytest.mark.rabbitmq
async def test_a_message_waiting_behind_a_re_publish_the_broker_leaves_again_goes_out_next_time(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker goes away again while the reconnect's re-publish runs: the events submitted
    meanwhile are answered as accepted with delivery away (as during the outage), and every
    message goes out after the next reconnect, in the order accepted."""
    async with _cut_engine(tmp_path) as cut:
        transport = cut.transport
        _slow_re_publish(transport, monkeypatch)
        events = make_events(referral_data, PROVIDERS, EVENTS + len(PROVIDERS))
        async with cut.cut_off():
            during = await cut.accept(events[:EVENTS])
            await cut.back()
            waiting = asyncio.Event()
            published_behind = transport._published_behind

            async def seen(ids: list[str]) -> None:
                waiting.set()
                await published_behind(ids)

            monkeypatch.setattr(transport, "_published_behind", seen)
            submitted = asyncio.ensure_future(
                cut.engine.intake.submit_many(events[EVENTS:], source="cli")
            )
            await asyncio.wait_for(waiting.wait(), timeout=10)
            assert transport._unconfirmed and not submitted.done()
            await cut.proxy.cut()  # while it waits behind the re-publish
            results = await asyncio.wait_for(submitted, timeout=10)
            assert all(isinstance(r, IntakeResult) and DELIVERY_AWAY in r.warnings for r in results)
            after = [m for r in results if isinstance(r, IntakeResult) for m in r.messages]
            assert all(m.message_id in transport._unconfirmed for m in after)
            await cut.proxy.restore()
            await cut.received_in_order(during + after)


@pytest.mark.rabbitmq
async def test_what_an_engine_accepts_at_its_start_goes_out_after_the_pending_it_recovers(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/product.md §5, across a crash: an engine died between commit and publish, so its
    referrals are in the store only; started again, its recovery re-publishes them, and a
    cancel taken from the intake queue meanwhile was published before the re-publish reached
    its referral. Recovery is slowed here (a chunk of 5, each read in 0.2 s) so that the new
    messages come while it runs."""
    real_chunks = outbox.Outbox.pending_chunks

    async def slow_chunks(self: outbox.Outbox, size: int = 5) -> AsyncIterator[list[Any]]:
        async for chunk in real_chunks(self, 5):
            await asyncio.sleep(0.2)
            yield chunk

    events = make_events(referral_data, PROVIDERS, EVENTS + len(PROVIDERS))
    async with _cut_engine(tmp_path) as cut:
        async with cut.cut_off():
            during = await cut.accept(events[:EVENTS])
        await cut.proxy.restore()
        monkeypatch.setattr(outbox.Outbox, "pending_chunks", slow_chunks)
        await cut.restarted()  # its recovery leader re-publishes what the first one owed
        transport = cut.transport
        assert await eventually(
            lambda: cut.engine.recovery is not None and cut.engine.recovery.is_leader
        )
        after = await cut.accept(events[EVENTS:])
        assert not any(m.message_id in transport._unconfirmed for m in after)
        await cut.received_in_order(during + after)


def _message(n: int, *, attempts: int = 0, not_before: datetime | None = None) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"m{n}",
        destination_id=PROVIDERS[0],
        control_id=f"C{n}",
        payload=b"MSH|^~\\&|" + bytes(100),
        created_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
        attempt_count=attempts,
        not_before=not_before,
    )


async def test_a_chunk_leaves_out_what_was_confirmed_while_loading_and_what_is_not_owed() -> None:
    """A publish of the same message confirmed meanwhile (a copy published by someone else) is
    not published a second time from memory; one the store no longer owes is forgotten."""
    later = datetime(2026, 11, 27, 10, tzinfo=UTC)
    stored = {f"m{n}": _message(n, attempts=1) for n in range(4)}

    async def load(ids: Sequence[str]) -> list[OutboundMessage]:
        del transport._unconfirmed["m1"]  # confirmed while the store answered
        return [stored[i] for i in ids if i != "m2"]  # m2: cancelled meanwhile

    transport = RabbitMQTransport("amqp://guest:guest@127.0.0.1:1/", load=load)
    # m3 a retry handed back by a stopping runner: its attempts and time, ahead of the store.
    transport._remember([_message(0), _message(1), _message(2), _message(3, attempts=2)])
    transport._remember([_message(3, attempts=2, not_before=later)])  # remembered twice
    assert list(transport._unconfirmed) == ["m0", "m1", "m2", "m3"]

    owed = await transport._owed_messages(list(transport._unconfirmed))

    assert owed is not None
    assert [(m.message_id, m.attempt_count, m.not_before) for m in owed] == [
        ("m0", 1, None),
        ("m3", 2, later),
    ]
    assert list(transport._unconfirmed) == ["m0", "m3"]  # popped once their publish is confirmed


async def test_without_a_loader_the_transport_keeps_whole_messages() -> None:
    """Built alone, with no store to load from, it keeps what it owes whole, as it did."""
    transport = RabbitMQTransport("amqp://guest:guest@127.0.0.1:1/")
    message = _message(0, not_before=datetime.now(UTC) + timedelta(minutes=1))
    transport._remember([message])
    assert await transport._owed_messages(["m0"]) == [message]


async def test_a_store_that_does_not_answer_leaves_every_message_owed() -> None:
    """The re-publish tries that chunk again later (``RELOAD_PAUSE``); nothing is forgotten."""

    async def load(ids: Sequence[str]) -> list[OutboundMessage]:
        raise ConnectionError("store away")

    transport = RabbitMQTransport("amqp://guest:guest@127.0.0.1:1/", load=load)
    transport._remember([_message(0), _message(1)])
    assert await transport._owed_messages(["m0", "m1"]) is None
    assert list(transport._unconfirmed) == ["m0", "m1"]


@pytest.mark.rabbitmq
async def test_an_engine_that_stops_still_owing_leaves_its_row_for_the_leader_once_more(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop leaves the engine's presence row for the recovery leader first thing; a leader
    that re-published and forgot it while the stop went on (before the messages accepted
    meanwhile were given up) would leave those waiting until the next take-over. So a stop
    that ends still owing publishes leaves the row once more (docs/amqp.md, "The store is the
    outbox" 2)."""
    async with _cut_engine(tmp_path) as cut:
        engine, transport = cut.engine, cut.transport
        own = engine._presence_id()
        close = transport.close

        async def a_leader_forgets_it_first() -> None:
            departures = Departures(engine.store, lambda: None)
            left = await departures.seen()
            assert [e.id for e in left] == [own]  # left at the stop's start
            await departures.forget(left)
            await close()

        async with cut.cut_off():
            await cut.accept(make_events(referral_data, PROVIDERS, 2))
            assert transport.owes()
            monkeypatch.setattr(transport, "close", a_leader_forgets_it_first)
            await engine.stop()
        async with await Store.open(engine.settings.database_url) as store:
            assert [e.id for e in await Departures(store, lambda: None).seen()] == [own]
            assert await running_engines(store) == []
