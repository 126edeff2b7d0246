"""The recovery leader leaves a paused destination's waiting messages alone until it is resumed.

Every start, take-over and engine leaving used to re-publish every pending message, a paused
destination's too: nobody consumes its queue, so each copy only piled up behind the originals
there (100,000 waiting out a hospital's maintenance were copied again at every rolling restart
of two engines). Now those are re-published once, by the leader, when the destination is
resumed, and each still goes out once. Two engines on a real broker and PostgreSQL store in
this process, as ``test_engine_gone_recovery.py`` has them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.catalog import Catalog, build_catalog
from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.transport import recovery
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, make_events, unique_prefix

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

TODAY = date(2026, 11, 27)
PAUSED, DELIVERING = "ziekenhuis-noord", "ziekenhuis-oost"
WAITING = 4
LEFT = "an engine has left; re-publishing pending messages"


def catalog_for(paused_port: int, delivering_port: int, *, paused: bool) -> Catalog:
    configs = [
        destination(PAUSED, paused_port, providers=[PAUSED], enabled=not paused),
        destination(DELIVERING, delivering_port, providers=[DELIVERING], ack_timeout="10s"),
    ]
    return build_catalog([(f"{c.id}.yaml", c) for c in configs], today=TODAY)


async def test_a_paused_destination_s_messages_are_re_published_at_its_resume_not_before(
    tmp_path: Path,
    database: str,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "INTERVAL_S", 0.2)
    url = require_rabbitmq()
    prefix = unique_prefix()
    republished: list[str] = []
    republish = RabbitMQTransport.republish

    async def noted(self: RabbitMQTransport, messages: Sequence[OutboundMessage]) -> None:
        republished.extend(m.message_id for m in messages)
        await republish(self, messages)

    monkeypatch.setattr(RabbitMQTransport, "republish", noted)
    maintained = MllpReceiver()  # the paused hospital's, back after its maintenance
    slow = MisbehavingReceiver(["hold"])  # the first message waits on the wire for its ACK
    paused = catalog_for(await maintained.start(), await slow.start(), paused=True)

    def engine(name: str) -> Engine:
        settings = settings_for(
            tmp_path / name,
            database_url=database,
            search_key="a-test-search-key-of-enough-length",
            amqp_url=url,
            amqp_prefix=prefix,
        )
        return Engine(settings, catalog=paused, http=False)

    leading, other = engine("leading"), engine("other")
    await leading.start()
    try:
        lead = leading.recovery
        assert await eventually(lambda: lead is not None and lead.recovered.is_set())
        await other.start()
        assert other.recovery is not None and not other.recovery.is_leader
        events = make_events(referral_data, [PAUSED] * WAITING + [DELIVERING], WAITING + 1)
        results = await leading.intake.submit_many(events, source="cli")
        messages = [m for r in results if isinstance(r, IntakeResult) for m in r.messages]
        ids = {m.destination_id: m.message_id for m in messages}
        waiting = {m.message_id for m in messages if m.destination_id == PAUSED}
        assert len(waiting) == WAITING
        assert await eventually(lambda: len(slow.log) == 1, timeout=10)  # pending, on the wire

        republished.clear()
        with capture_logs() as logs:
            await other.stop()  # its row is left for the leader, which re-publishes
            assert await eventually(lambda: _rows(leading), timeout=10)
        assert [e for e in logs if e["event"] == LEFT]
        # The delivering destination's pending message was copied (and is skipped where it
        # arrives, in hand); the paused one's waiting messages were not.
        assert ids[DELIVERING] in republished
        assert not waiting & set(republished)
        assert maintained.received == []

        # Resumed: the leader re-publishes what waited, and each goes out once.
        republished.clear()
        await leading.apply_catalog(catalog_for(maintained.port, slow.port, paused=False))
        assert Counter(republished) == dict.fromkeys(waiting, 1)
        assert await eventually(lambda: len(maintained.received) == WAITING, timeout=20)
        slow.answer.set()
        await leading.drain()
        sent = Counter(read_msh(m).control_id for m in maintained.received)
        stored = {
            m.control_id
            for m in await leading.store.list_messages(limit=100)
            if m.destination_id == PAUSED
        }
        assert sent == dict.fromkeys(stored, 1)
    finally:
        slow.answer.set()
        await other.stop()
        await leading.stop()
        await maintained.stop()
        await slow.stop()
        await delete_topology(url, prefix, [PAUSED, DELIVERING])


async def _rows(engine: Engine) -> bool:
    """Whether the store holds the leading engine's row only (the one that left, forgotten
    after the leader's re-publish)."""
    return [e.id for e in await engine.store.all_engines()] == [engine._presence_id()]
