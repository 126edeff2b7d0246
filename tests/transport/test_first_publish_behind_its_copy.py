"""A message's first publish that reaches the queue behind a re-published copy of it is sent
once.

The recovery leader re-publishes every message the store lists as pending, also one the intake
has just committed and not published yet. When the intake's publish comes after the
re-publish, the queue holds the copy (checked against the store) first and the message's own
publish (never delivered, so not checked) behind it: the copy was still pending and went out,
then the first publish went out again. After a broker restart in the middle of a stream one
receiver got 18 such copies, each with two attempts recorded, in a block right behind the
copies sent before them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.store import MessageFilter
from integrator.transport.rabbitmq import RabbitMQTransport, _Copies
from integrator.transport.skipped import SKIPPED
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    delete_topology,
    eventually,
    make_events,
    one_destination_engine,
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq


async def test_a_first_publish_behind_its_re_published_copy_is_not_sent_again(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = require_rabbitmq()
    prefix = unique_prefix()
    receiver = MllpReceiver()
    engine = one_destination_engine(
        tmp_path, await receiver.start(), amqp_url=url, amqp_prefix=prefix
    )
    await engine.start()
    try:
        transport = engine._transport
        leader = engine._leader
        assert isinstance(transport, RabbitMQTransport) and leader is not None
        publish = transport.publish
        committed, go_on = asyncio.Event(), asyncio.Event()

        async def late(messages: Sequence[OutboundMessage], **kwargs: Any) -> None:
            committed.set()  # in the store, pending, and not published yet
            await go_on.wait()
            await publish(messages, **kwargs)

        monkeypatch.setattr(transport, "publish", late)
        [event] = make_events(referral_data, [PROVIDER], 1)
        intake = asyncio.create_task(engine.intake.submit_many([event], source="amqp"))
        await asyncio.wait_for(committed.wait(), 10)

        # The recovery leader's re-publish (at a reconnect, a take-over, an engine that left)
        # finds the message pending and publishes a copy of it, ahead of its first publish.
        assert await leader._republish() == 1
        [message] = await engine.store.list_messages(MessageFilter(event_id=event["event_id"]))

        async def delivered() -> bool:
            stored = await engine.store.get_message(message.id, payload=False)
            return stored is not None and stored.status == "delivered"

        # The copy was checked, still pending: sent, and its attempt recorded.
        assert await eventually(delivered, timeout=10)
        with capture_logs() as logs:
            go_on.set()  # the first publish comes now, behind it
            await asyncio.wait_for(intake, 10)

            def skipped() -> list[Any]:
                return [e for e in logs if e["event"] == SKIPPED]

            await eventually(lambda: bool(skipped()) or len(receiver.received) > 1)
        assert [read_msh(m).control_id for m in receiver.received] == [message.control_id]
        assert len(await engine.store.list_attempts(message.id)) == 1
        assert [(e["message_id"], e["why"]) for e in skipped()] == [(message.id, "done")]
    finally:
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


def test_the_ids_of_re_published_copies_are_kept_to_a_bound() -> None:
    """The ids are kept to match a first publish coming behind its copy, so many of them: a
    re-publish after an outage of hours is hundreds of thousands of copies."""
    copies = _Copies(kept=3)
    for message_id in ("a", "b", "c", "d"):
        copies.seen(message_id)
    assert not copies.trails("a")  # the oldest, let go for "d"
    assert copies.trails("b")
    assert not copies.trails("b")  # its first publish came: forgotten
    copies.seen("c")  # seen again: kept as the newest
    copies.seen("e")
    copies.seen("f")
    assert copies.trails("c") and not copies.trails("d")
