"""A message the broker refused is published again while the connection stays up.

A committed message whose publish failed is owed: published again after the next reconnect or
before the next publish. But a refusal (the broker's nack: a queue at its length limit) does not
drop the connection, and on an engine that got no other event the message waited, stored and in
no queue, until the next event or restart (and the error named only ``DeliveryError``). Now the
transport tries what it owes again every ``OWED_PAUSE`` while the connection is up, the pause
doubling while the broker still refuses.
The refusal here is the broker's own: a policy limits the test's queues to what they hold, until
their consumer takes some.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from structlog.testing import capture_logs

from destinations.worker import OutboundMessage
from integrator.transport import rabbitmq
from integrator.transport.errors import TransportUnavailable
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.services import require_rabbitmqctl
from tests.transport.conftest import Harness

pytestmark = pytest.mark.rabbitmq

OWED_LINE = "messages owed a publish were not confirmed by the broker; trying again"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def queues_full(prefix: str) -> Iterator[None]:
    """The broker refuses (nacks) publishes to ``prefix``'s queues that hold a message or
    two already (a quorum queue's limit is checked before it takes one), until the end."""
    require_rabbitmqctl()
    name = f"full-{prefix}"
    limit = '{"max-length": 1, "overflow": "reject-publish"}'
    _rabbitmqctl("set_policy", "--apply-to", "queues", name, f"^{re.escape(prefix)}\\.", limit)
    try:
        yield
    finally:
        _rabbitmqctl("clear_policy", name)


async def publish_until_refused(
    transport: RabbitMQTransport, messages: list[OutboundMessage]
) -> tuple[list[OutboundMessage], OutboundMessage, str]:
    """Publish ``messages`` one at a time until the broker refuses one: those it took, the
    one it refused (now owed) and what the publish raised (stored work: ``committed.py``)."""
    taken: list[OutboundMessage] = []
    for message in messages:  # the queue is declared (under the policy) at the first
        try:
            await transport.publish([message])
        except TransportUnavailable as exc:
            return taken, message, str(exc)
        taken.append(message)
    pytest.fail("the broker took every message: its length limit did not apply")


async def take_in_order(rabbit: Harness, transport: RabbitMQTransport, count: int) -> list[str]:
    """The ids of the next ``count`` deliveries of ``dest-a``, each recorded and settled."""
    got = []
    for _ in range(count):
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
        got.append(delivery.message.message_id)
        await rabbit.done(delivery.message)
        await delivery.settle()
    return got


async def test_a_refused_message_is_published_again_while_the_connection_stays_up(
    rabbit: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rabbitmq, "OWED_PAUSE", 0.2)
    monkeypatch.setattr(rabbitmq, "OWED_PAUSE_MAX", 0.4)
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    messages = await rabbit.messages("dest-a", 4)
    generation = transport.link.generation
    with queues_full(rabbit.prefix):
        taken, refused, said = await publish_until_refused(transport, messages)
        assert said == "the message broker refused 1 of 1 messages (nack)"
        assert list(transport._unconfirmed) == [refused.message_id]
        with capture_logs() as logs:
            await asyncio.sleep(1.0)  # tried again and refused again, with nothing else to do
        owed = [e for e in logs if e["event"] == OWED_LINE]
        assert owed and owed[0]["log_level"] == "warning" and owed[0]["messages"] == 1
        assert [e["retry_in_s"] for e in owed][:2] == [0, 0]  # rounded: 0.4 s, the cap
        assert list(transport._unconfirmed) == [refused.message_id]
        assert transport.owed() == 1  # integrator_publish_owed
        assert await transport.ready_count("dest-a") == len(taken)

        # The queue drained by its consumer, with no other publish and no reconnect: the owed
        # message goes out by itself, behind what was taken before it.
        got = await take_in_order(rabbit, transport, len(taken) + 1)
    assert got == [m.message_id for m in [*taken, refused]]
    assert not transport._unconfirmed and transport.owed() == 0
    assert transport.link.generation == generation


async def test_a_round_that_fails_does_not_end_the_tries(
    rabbit: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error no round expects (here a made-up one) is logged, and the next round tries."""
    monkeypatch.setattr(rabbitmq, "OWED_PAUSE", 0.2)
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    [message] = await rabbit.messages("dest-a", 1)
    transport._remember([message])  # owed, as by a publish that failed
    republish = transport._publish_unconfirmed
    rounds = 0

    async def first_round_fails() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("a fault of this test")
        await republish()

    monkeypatch.setattr(transport, "_publish_unconfirmed", first_round_fails)
    with capture_logs() as logs:
        delivery = await asyncio.wait_for(transport.receive("dest-a"), 10)
    assert delivery.message.message_id == message.message_id
    await rabbit.done(delivery.message)
    await delivery.settle()
    failed = [e for e in logs if e["event"] == "publishing owed messages failed"]
    assert failed == [
        {"event": failed[0]["event"], "log_level": "error", "error_type": "RuntimeError"}
    ]
    assert rounds == 2


async def test_a_publish_behind_a_refused_re_publish_is_stored_work_too(
    rabbit: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish that comes while a re-publish is under way (a reconnect's, the recovery
    leader's) goes behind it; when the broker refuses them, the publish failed as
    ``PublishRefused``, which the operations answer as an error (HTTP 500) although the
    message is stored and owed: now as the broker away, and the message goes out later."""
    monkeypatch.setattr(rabbitmq, "OWED_PAUSE", 0.2)
    monkeypatch.setattr(rabbitmq, "OWED_PAUSE_MAX", 0.4)
    transport = await rabbit.open()
    assert isinstance(transport, RabbitMQTransport)
    messages = await rabbit.messages("dest-a", 5)
    with queues_full(rabbit.prefix):
        taken, owed, _ = await publish_until_refused(transport, messages)
        later = messages[len(taken) + 1]
        async with transport.ahead_of_new_publishes():  # a re-publish under way
            behind = asyncio.ensure_future(transport.publish([later]))
            await asyncio.sleep(0.1)
            assert not behind.done()  # waits behind the re-publish
        with pytest.raises(TransportUnavailable) as raised:
            await asyncio.wait_for(behind, 10)
        assert "did not take the messages published again" in str(raised.value)
        assert list(transport._unconfirmed) == [owed.message_id, later.message_id]

        got = await take_in_order(rabbit, transport, len(taken) + 2)
    assert got == [m.message_id for m in [*taken, owed, later]]
