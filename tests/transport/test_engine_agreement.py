"""Engines on one PostgreSQL store and one broker: the same prefix runs together, another
prefix (or the embedded transport) is refused before it re-publishes anything.

The bug this guards: a third engine on the store with another ``INTEGRATOR_AMQP_PREFIX``
re-published the waiting messages into its own queues and delivered them, while the engines of
the first prefix delivered them too: MSH-10s twice at the receiver, with two ``delivered``
attempts each.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import aiormq
import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.presence import EngineDisagrees
from integrator.transport.topology import Topology
from tests.integrator.support import destination, settings_for
from tests.services import (
    free_port,
    require_rabbitmq,
)
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

TODAY = date(2026, 11, 27)
NOORD = "ziekenhuis-noord"
WAITING = 20
SEARCH_KEY = "engine-agreement-test-search-key"


async def queue_exists(url: str, name: str) -> bool:
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        try:
            await channel.queue_declare(name, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return False
        return True
    finally:
        await connection.close()


async def test_engines_of_one_prefix_run_together_another_prefix_is_refused(
    tmp_path: Path, database: str, referral_data: dict[str, Any]
) -> None:
    url = require_rabbitmq()
    prefix, other_prefix = unique_prefix(), unique_prefix()
    port = free_port()  # the receiver is not there yet: the messages wait, retrying
    config = destination(
        NOORD,
        port,
        providers=[NOORD],
        retry={"initial": "50ms", "multiplier": 2, "max_delay": "200ms", "max_attempts": 10000},
    )
    catalog = build_catalog([(f"{NOORD}.yaml", config)], today=TODAY)

    def engine(**overrides: Any) -> Engine:
        settings = settings_for(
            tmp_path, database_url=database, search_key=SEARCH_KEY, amqp_url=url, **overrides
        )
        return Engine(settings, catalog=catalog, http=False)

    engines = [engine(amqp_prefix=prefix), engine(amqp_prefix=prefix)]
    receiver = MllpReceiver(port=port)
    started: list[Engine] = []
    try:
        for running in engines:  # the same broker and prefix: both start
            await running.start()
            started.append(running)
        for event in make_events(referral_data, [NOORD], WAITING):
            await engines[0].intake.submit(event, source="cli")

        with pytest.raises(EngineDisagrees) as refused:
            await engine(amqp_prefix=other_prefix).start()
        text = str(refused.value)
        assert refused.value.exit_code == 2
        assert f"RabbitMQ at 127.0.0.1:5672 vhost=/ prefix={prefix}" in text
        assert (
            f"this one would use RabbitMQ at 127.0.0.1:5672 vhost=/ prefix={other_prefix}" in text
        )
        assert "INTEGRATOR_AMQP_URL (host, port, virtual host) and INTEGRATOR_AMQP_PREFIX" in text
        assert "guest" not in text  # no credentials
        # Refused before it connected: nothing declared, nothing re-published under its prefix.
        assert not await queue_exists(url, Topology(other_prefix).delivery_queue(NOORD))

        embedded = Engine(
            settings_for(tmp_path, database_url=database, search_key=SEARCH_KEY),
            catalog=catalog,
            http=False,
        )
        with pytest.raises(EngineDisagrees, match="this one would use the embedded transport"):
            await embedded.start()

        await receiver.start()

        async def all_delivered() -> bool:
            return (await engines[0].store.count_by_status()).get("delivered") == WAITING

        assert await eventually(all_delivered, timeout=30)
        control_ids = [read_msh(m).control_id for m in receiver.received]
        assert len(control_ids) == len(set(control_ids)) == WAITING  # each once
        for message in await engines[0].store.list_messages(limit=100):
            attempts = await engines[0].store.list_attempts(message.id)
            assert [a.outcome for a in attempts].count("delivered") == 1
    finally:
        for running in started:
            await running.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [NOORD])
        await delete_topology(url, other_prefix, [NOORD])
