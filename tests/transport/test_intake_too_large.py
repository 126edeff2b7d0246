"""An AMQP delivery above ``EVENT_BODY_LIMIT`` is refused before anything parses it.

The HTTP API answers such a body with 413 and keeps it as rejected input without its bytes;
the AMQP intake parsed whatever came (a 76 MiB delivery took the engine from 129 MB to 570 MB
of memory) and kept it whole. Now it is kept as the API keeps one: no bytes, rule
``body_too_large`` with the limit and the size, source and caller ``amqp``; acked, never handed
back; and the events of its batch are accepted and delivered as if it were not there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiormq
import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator.prepare_process import MAX_BATCH_BYTES
from integrator.transport import budget
from integrator.transport.topology import Topology
from schemas.refused import EVENT_BODY_LIMIT
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    PROVIDER,
    all_delivered,
    delete_topology,
    eventually,
    make_events,
    publish_raw,
    unique_prefix,
)
from tests.transport.test_intake_gathering import (
    GATHER_S,
    gathering_behind_one_in_work,
    inbox_size,
    started,
)

pytestmark = pytest.mark.rabbitmq

BSN = "999990019"


@pytest.fixture
async def broker() -> AsyncIterator[tuple[str, str]]:
    url = require_rabbitmq()
    prefix = unique_prefix()
    try:
        yield url, prefix
    finally:
        await delete_topology(url, prefix, [PROVIDER])


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver() as receiver:
        yield receiver


def too_large(event: dict[str, Any]) -> bytes:
    """``event`` as JSON one byte above the limit, its letter padded (the patient's BSN in it)."""
    padded = dict(event, letter=dict(event["letter"], remarks=""))
    padded["letter"]["remarks"] = "x" * (EVENT_BODY_LIMIT + 1 - len(json.dumps(padded)))
    body = json.dumps(padded).encode()
    assert len(body) == EVENT_BODY_LIMIT + 1 and BSN.encode() in body
    return body


async def queued(url: str, prefix: str) -> int:
    """Messages in the intake queue (with no consumer: the unacked ones are back in it)."""
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        ok = await channel.queue_declare(Topology(prefix).intake_queue, passive=True)
        return int(ok.message_count or 0)
    finally:
        await connection.close()


def test_a_delivery_that_large_never_goes_to_the_prepare_process() -> None:
    """The prepare process parses what it is given; a batch above its size is parsed on the
    loop, where intake refuses the large body first (``Intake._validate``)."""
    assert MAX_BATCH_BYTES < EVENT_BODY_LIMIT


async def test_a_delivery_above_the_limit_is_kept_without_its_body_and_its_batch_goes_on(
    tmp_path: Path,
    broker: tuple[str, str],
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, prefix = broker
    # Room for it beside the others (its batch is the point here, not the byte budget).
    monkeypatch.setattr(budget, "INTAKE_BUDGET_BYTES", 4 * EVENT_BODY_LIMIT)
    engine = await started(tmp_path, broker, receiver, monkeypatch, GATHER_S)
    stopped = False
    try:
        held, first, last = make_events(referral_data, [PROVIDER], 3)
        large = too_large(dict(referral_data, patient=dict(referral_data["patient"], bsn=BSN)))
        with capture_logs() as logs:
            # One batch (``first``, the large one, ``last``) gathers behind ``held`` in work.
            batches, release = await gathering_behind_one_in_work(
                engine, broker, [held, first], monkeypatch
            )
            await publish_raw(url, prefix, [large, json.dumps(last).encode()])
            assert await eventually(lambda: inbox_size(engine) == 2, timeout=60)
            release.set()
            assert await eventually(lambda: all_delivered(engine, 3), timeout=60)
        assert batches == [1, 3]
        assert len(receiver.received) == 3
        [summary] = await engine.store.list_rejected()
        record = await engine.store.get_rejected(summary.id)
        assert record is not None
        assert (record.source, record.caller, record.raw) == ("amqp", "amqp", b"")
        assert record.reason == [
            {
                "path": "$",
                "rule": "body_too_large",
                "message": f"is {EVENT_BODY_LIMIT + 1} bytes, more than the {EVENT_BODY_LIMIT} "
                "bytes an event may be; the body was not read as an event or kept",
            }
        ]
        assert (record.zd_number, record.provider_id, record.bsn_hash) == (None, None, None)
        [said] = [line for line in logs if line["event"] == "event rejected"]
        assert said["log_level"] == "warning"
        assert (said["source"], said["caller"], said["rules"]) == (
            "amqp",
            "amqp",
            ["body_too_large"],
        )
        assert said["rejected_id"] == record.id
        assert BSN not in repr(logs)
        await engine.stop()
        stopped = True
        assert await queued(url, prefix) == 0  # acked: nothing comes back to the queue
    finally:
        if not stopped:
            await engine.stop()
