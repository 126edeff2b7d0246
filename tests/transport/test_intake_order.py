"""One engine on PostgreSQL keeps the order of the intake queue: a cancel never overtakes its
referral, neither in the store's ``seq`` nor at the hospital.

An audit published 1,000 ``new``+``cancel`` pairs in order on one channel and saw one or two
cancels (REF^I14) reach the receiver before their referral (REF^I12): the intake works on three
batches at once, and a later batch could commit and publish before an earlier one whose commit
took longer. Here the earlier batch's commit is made slow on purpose, as another writer does it:
a second PostgreSQL session holds an uncommitted row with the referral's event id (as another
engine inserting a copy of it would), so the referral's insert waits for that session.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.store import MessageFilter
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    delete_topology,
    eventually,
    one_destination_engine,
    publish_events,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

#: How long the cancel is given to overtake the referral while the referral's commit waits.
OVERTAKE_S = 2.0


@dataclass
class Setup:
    engine: Engine
    url: str
    prefix: str
    database: str
    receiver: MllpReceiver


@pytest.fixture
async def setup(tmp_path: Path, database: str) -> AsyncIterator[Setup]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    receiver = MllpReceiver()
    engine = one_destination_engine(
        tmp_path,
        await receiver.start(),
        database_url=database,
        amqp_url=url,
        amqp_prefix=prefix,
        search_key="a-test-search-key-of-enough-length",
    )
    await engine.start()
    try:
        yield Setup(engine, url, prefix, database, receiver)
    finally:
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, [PROVIDER])


def pair(referral_data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A referral and its cancel: one ZD number, two event ids."""
    new = copy.deepcopy(referral_data)
    new["event_id"] = str(uuid.uuid4())
    new["zd_number"] = "ZD400000001"
    cancel = copy.deepcopy(new)
    cancel["event_id"] = str(uuid.uuid4())
    cancel["action"] = "cancel"
    return new, cancel


async def waiting_on_a_lock(admin: asyncpg.Connection, database: str) -> bool:
    """Whether a session of the engine waits for a lock (read outside any transaction: the
    statistics views keep one snapshot for a whole transaction)."""
    name = database.rsplit("/", 1)[1]
    waiting = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        name,
    )
    return bool(waiting)


async def test_a_cancel_does_not_overtake_its_referral_whose_commit_is_slower(
    setup: Setup, referral_data: dict[str, Any]
) -> None:
    new, cancel = pair(referral_data)
    dsn = setup.database.replace("postgresql+asyncpg", "postgresql")
    other, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        holder = other.transaction()
        await holder.start()
        await other.execute(
            "INSERT INTO events (id, type, action, zd_number, provider_id, received_at, "
            "source, payload) VALUES ($1, 'referral', 'new', 'ZD400000001', $2, now(), "
            "'amqp', '')",
            new["event_id"],
            PROVIDER,
        )
        await publish_events(setup.url, setup.prefix, [new])
        assert await eventually(lambda: waiting_on_a_lock(watcher, setup.database), timeout=10)
        await publish_events(setup.url, setup.prefix, [cancel])
        # Its own batch: given the time to overtake, it must wait for the referral's.
        await eventually(lambda: bool(setup.receiver.received), timeout=OVERTAKE_S)
        await holder.rollback()
    finally:
        await other.close()
        await watcher.close()

    assert await eventually(lambda: len(setup.receiver.received) == 2, timeout=20)
    types = [read_msh(m).message_type for m in setup.receiver.received]
    assert types == ["REF^I12^REF_I12", "REF^I14^REF_I12"]
    stored = await setup.engine.store.list_messages(MessageFilter(destination_id=PROVIDER))
    by_seq = [m.event_id for m in sorted(stored, key=lambda m: m.seq)]
    assert by_seq == [new["event_id"], cancel["event_id"]]
