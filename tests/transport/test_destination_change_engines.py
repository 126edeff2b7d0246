"""A destination changed under two engines on one broker and store: every message goes out once.

The audit's finding: with two engines on RabbitMQ and PostgreSQL, changing a destination's
address while the hospital was slow to answer sent one message twice with the same MSH-10,
once to the old address and once to the new one. The engine delivering it finished the attempt
(a graceful stop of its runner) but handed the queue back before that attempt was committed,
and every engine re-published the destination's pending messages; the other engine then took
the message and, reading the store before the first engine's commit, sent it again.

Here both engines run in this process (as ``test_engine_agreement.py`` does), the old receiver
holds its answer until the test lets it go, and each engine applies the change as its watcher
would. No timer decides anything: the test waits for conditions.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from destinations.worker import OutboundMessage
from integrator.catalog import Catalog, build_catalog
from integrator.engine import Engine
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

TODAY = date(2026, 11, 27)
NOORD = "ziekenhuis-noord"
MESSAGES = 3
WHILE_PAUSED = 2
SEARCH_KEY = "destination-change-test-search-key"


def catalog_for(port: int, *, enabled: bool = True) -> Catalog:
    config = destination(NOORD, port, providers=[NOORD], ack_timeout="10s", enabled=enabled)
    return build_catalog([(f"{NOORD}.yaml", config)], today=TODAY)


async def test_a_destination_changed_mid_attempt_under_two_engines_sends_each_message_once(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = require_rabbitmq()
    prefix = unique_prefix()
    # Every re-publish, by transport (one per engine): who sends copies, and of what.
    republished: list[tuple[int, str]] = []
    republish = RabbitMQTransport.republish

    async def noted(self: RabbitMQTransport, messages: Sequence[OutboundMessage]) -> None:
        republished.extend((id(self), m.message_id) for m in messages)
        await republish(self, messages)

    monkeypatch.setattr(RabbitMQTransport, "republish", noted)
    old = MisbehavingReceiver(["hold"])  # the first message waits for its ACK; then AA
    new = MisbehavingReceiver()
    old_port, new_port = await old.start(), await new.start()
    settings = settings_for(
        tmp_path, database_url=database, search_key=SEARCH_KEY, amqp_url=url, amqp_prefix=prefix
    )
    engines = [Engine(settings, catalog=catalog_for(old_port), http=False) for _ in range(2)]
    started: list[Engine] = []

    async def apply_everywhere(catalog: Catalog) -> None:
        await asyncio.gather(*(engine.apply_catalog(catalog) for engine in engines))

    async def delivered(count: int) -> bool:
        return (await engines[0].store.count_by_status()).get("delivered") == count

    try:
        for engine in engines:
            await engine.start()
            started.append(engine)
        for event in make_events(referral_data, [NOORD], MESSAGES):
            await engines[0].intake.submit(event, source="cli")
        # The first message is on the wire to the old address, its ACK not yet given.
        assert await eventually(lambda: len(old.log) == 1, timeout=10)

        # Each engine sees the change, as its watcher would. The one delivering waits (a
        # graceful stop of its runner) for the attempt on the wire; the other is done at once.
        republished.clear()
        changed = catalog_for(new_port)
        applying = [asyncio.create_task(engine.apply_catalog(changed)) for engine in engines]
        done, _ = await asyncio.wait(applying, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
        old.answer.set()  # the slow hospital answers at last
        await asyncio.gather(*applying)
        assert await eventually(lambda: delivered(MESSAGES), timeout=20)
        # Its queue was never touched: no engine re-published a copy of what it holds.
        assert republished == []

        # Paused and resumed on both: messages accepted meanwhile wait in the queue, and only
        # one engine (the recovery leader) re-publishes them, as at a start.
        await apply_everywhere(catalog_for(new_port, enabled=False))
        for event in make_events(referral_data, [NOORD], WHILE_PAUSED):
            await engines[0].intake.submit(event, source="cli")
        await apply_everywhere(changed)
        assert len({transport for transport, _ in republished}) == 1
        assert len(republished) == WHILE_PAUSED
        assert await eventually(lambda: delivered(MESSAGES + WHILE_PAUSED), timeout=20)

        for engine in engines:
            await engine.drain()
        stored = {m.control_id for m in await engines[0].store.list_messages(limit=100)}
        sent = Counter(old.received_ids() + new.received_ids())
        assert sent == dict.fromkeys(stored, 1), (  # each MSH-10 once, old and new together
            f"old: {old.received_ids()}, new: {new.received_ids()}"
        )
        for message in await engines[0].store.list_messages(limit=100):
            attempts = await engines[0].store.list_attempts(message.id)
            assert [a.outcome for a in attempts] == ["delivered"]  # every attempt recorded
    finally:
        old.answer.set()
        for engine in started:
            await engine.stop()
        await old.stop()
        await new.stop()
        await delete_topology(url, prefix, [NOORD])
