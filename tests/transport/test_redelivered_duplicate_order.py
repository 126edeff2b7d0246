"""A referral redelivered from the intake queue as a duplicate, its cancel behind it: the
referral's message goes out first.

The engine that first took the referral committed it and died before publishing its message,
so the message is in the store only. The broker gives the referral again (``redelivered``),
with its cancel behind it; the engine that takes them finds the referral a duplicate and
publishes its still-queued message again. It did so after the batch was done, while the
cancel's message was published inside it: the cancel reached the hospital first. Now the
duplicate's messages go again in the batch's publish turn, before its new ones
(``Intake.submit_many``'s ``again``).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.engine import Engine
from integrator.store import MessageFilter, MessageRecord, StoreUnavailable
from integrator.transport import amqp_intake
from integrator.transport.link import redelivered
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    delete_topology,
    eventually,
    one_destination_engine,
    publish_events,
    unique_prefix,
)

pytestmark = pytest.mark.rabbitmq


class _Died(BaseException):
    """The engine's process ending between the commit and the publish."""


@dataclass
class _Redelivery:
    engine: Engine
    receiver: MllpReceiver
    url: str
    prefix: str
    new: dict[str, Any]
    cancel: dict[str, Any]
    referral: MessageRecord  # the referral's message, queued in the store only


@pytest.fixture
async def redelivery(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[_Redelivery]:
    """A referral committed by an engine that died before publishing its message, and the
    broker about to give it again (``redelivered``) with its cancel."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    receiver = MllpReceiver()
    engine = one_destination_engine(
        tmp_path, await receiver.start(), amqp_url=url, amqp_prefix=prefix
    )
    await engine.start()
    try:
        new = copy.deepcopy(referral_data)
        new["event_id"], new["zd_number"] = str(uuid.uuid4()), "ZD400000002"
        cancel = {**copy.deepcopy(new), "event_id": str(uuid.uuid4()), "action": "cancel"}
        transport = engine._transport
        assert transport is not None
        publish = transport.publish

        async def died(messages: Sequence[OutboundMessage], **_: Any) -> None:
            raise _Died  # never published, never answered

        monkeypatch.setattr(transport, "publish", died)
        with pytest.raises(_Died):
            await engine.intake.submit_many([new], source="amqp")
        monkeypatch.setattr(transport, "publish", publish)
        [referral] = await engine.store.list_messages(MessageFilter(event_id=new["event_id"]))
        assert referral.status == "queued"
        monkeypatch.setattr(
            amqp_intake,
            "redelivered",
            lambda d: redelivered(d) or new["event_id"].encode() in d.body,
        )
        yield _Redelivery(engine, receiver, url, prefix, new, cancel, referral)
    finally:
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


async def test_a_cancel_redelivered_behind_its_referral_goes_out_after_the_referral(
    redelivery: _Redelivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = redelivery
    # Reading the duplicate's queued messages takes a while, as under load: time enough for
    # the cancel to pass.
    list_messages = r.engine.store.list_messages

    async def slow(filter: MessageFilter, *args: Any, **kwargs: Any) -> list[MessageRecord]:
        if filter.event_id == r.new["event_id"]:
            await asyncio.sleep(0.5)
        return await list_messages(filter, *args, **kwargs)

    monkeypatch.setattr(r.engine.store, "list_messages", slow)
    await publish_events(r.url, r.prefix, [r.new, r.cancel])

    assert await eventually(lambda: len(r.receiver.received) >= 2, timeout=20)
    got = [read_msh(m).control_id for m in r.receiver.received]
    [cancelled] = await list_messages(MessageFilter(event_id=r.cancel["event_id"]))
    assert got[:2] == [r.referral.control_id, cancelled.control_id]


async def test_a_re_publish_that_fails_is_left_to_recovery_and_the_batch_goes_on(
    redelivery: _Redelivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails the read of the duplicate's queued messages: said once at ``warning``;
    the cancel is published all the same and the batch is not handed back (it would be read
    again, and said again), and the referral's message stays queued for the recovery leader's
    next re-publish."""
    r = redelivery
    list_messages = r.engine.store.list_messages

    async def failing(filter: MessageFilter, *args: Any, **kwargs: Any) -> list[MessageRecord]:
        if filter.event_id == r.new["event_id"] and filter.status == "queued":
            raise StoreUnavailable("the store did not answer")
        return await list_messages(filter, *args, **kwargs)

    monkeypatch.setattr(r.engine.store, "list_messages", failing)
    with capture_logs() as logs:
        await publish_events(r.url, r.prefix, [r.new, r.cancel])
        assert await eventually(lambda: len(r.receiver.received) >= 1, timeout=20)
        await asyncio.sleep(0.5)  # a batch handed back would come again, and say so again
    [said] = [e for e in logs if e["event"].startswith("could not re-publish the queued")]
    assert (said["log_level"], said["events"], said["error_type"]) == (
        "warning",
        1,
        "StoreUnavailable",
    )
    [cancelled] = await list_messages(MessageFilter(event_id=r.cancel["event_id"]))
    assert [read_msh(m).control_id for m in r.receiver.received] == [cancelled.control_id]
    [referral] = await list_messages(MessageFilter(event_id=r.new["event_id"]))
    assert referral.status == "queued"
