"""Input off the RabbitMQ intake queue, refused or accepted, is kept with its caller: the
channel, ``amqp``.

A message's ``app_id`` and headers are what its publisher chose to write and the broker checks
none of them, so a name given there is never recorded as who sent it (``amqp_intake.CALLER``).
Needs RabbitMQ (skips with the reason without it, fails under CI), as the transport's own
RabbitMQ intake tests do, whose helpers this uses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import aiormq
import pytest
from pamqp.commands import Basic

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.transport.topology import Topology
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, unique_prefix

pytestmark = pytest.mark.rabbitmq

PROVIDER = "ziekenhuis-noord"


@pytest.fixture
async def engine_on_rabbitmq(tmp_path: Path) -> AsyncIterator[tuple[Engine, str, str]]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    async with MllpReceiver() as receiver:
        config = destination(PROVIDER, receiver.port, providers=[PROVIDER])
        catalog = build_catalog([(f"{config.id}.yaml", config)], today=date.today())
        engine = Engine(settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix), catalog=catalog)
        await engine.start()
        try:
            yield engine, url, prefix
        finally:
            await engine.stop()
            await delete_topology(url, prefix, [PROVIDER])


async def publish_claiming_a_sender(url: str, prefix: str, bodies: list[bytes]) -> None:
    """Publish ``bodies`` as an upstream system would, each naming a sender of its own."""
    topology = Topology(prefix)
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await topology.declare_common(channel)
        for body in bodies:
            await channel.basic_publish(
                body,
                exchange=topology.intake_exchange,
                routing_key="event.referral",
                properties=Basic.Properties(
                    content_type="application/json",
                    delivery_mode=2,
                    app_id="gp-claimed",
                    headers={"caller": "token:gp-claimed"},
                ),
            )
    finally:
        await connection.close()


async def test_refused_input_off_the_queue_is_kept_with_the_channel_as_its_caller(
    engine_on_rabbitmq: tuple[Engine, str, str], referral_data: dict[str, Any]
) -> None:
    engine, url, prefix = engine_on_rabbitmq
    broken = dict(referral_data, event_id="not-a-uuid", caller="token:gp-claimed")
    await publish_claiming_a_sender(url, prefix, [b"\xff not json", json.dumps(broken).encode()])

    async def both_kept() -> bool:
        return len(await engine.store.list_rejected()) == 2

    assert await eventually(both_kept, timeout=10)
    listed = await engine.store.list_rejected()
    assert [(r.source, r.caller) for r in listed] == [("amqp", "amqp"), ("amqp", "amqp")]
    one = await engine.store.get_rejected(listed[0].id)
    assert one is not None and one.caller == "amqp"


async def test_an_event_accepted_off_the_queue_is_kept_with_the_channel_as_its_caller(
    engine_on_rabbitmq: tuple[Engine, str, str], referral_data: dict[str, Any]
) -> None:
    """As refused input is (docs/product.md §2): the name its publisher wrote is not taken."""
    engine, url, prefix = engine_on_rabbitmq
    event = dict(referral_data)  # its headers and app_id claim a sender (publish_claiming_…)
    await publish_claiming_a_sender(url, prefix, [json.dumps(event).encode()])

    async def kept() -> bool:
        return await engine.store.get_event(event["event_id"]) is not None

    assert await eventually(kept, timeout=10)
    stored = await engine.store.get_event(event["event_id"])
    assert stored is not None and stored.caller == "amqp"
    [listed] = await engine.store.list_events()
    assert listed.caller == "amqp"
