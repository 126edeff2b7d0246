"""A remap resend to a destination on a retired version without ``auto_upgrade`` is not sent.

Its new messages are held (docs/product.md §3): the hospital gets nothing in the successor's
format until an operator moves the destination. A remap resend used to be mapped with the
successor all the same, and its note blamed ``auto_upgrade``, which was off. It is now skipped,
saying why, through the service every front door uses (``integrator.resending``) and the API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from deadletter import ResendRequest
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.resending import resend_in_engine
from integrator.store import MessageFilter, MessageRecord
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for

BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 sunset 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 2, 9, 0, tzinfo=UTC)
WHY = (
    "not resent: message version ref-v1 is retired since 2027-07-01 and destination noord has "
    "no auto_upgrade, so its messages are held, not sent in ref-v2; move the destination to "
    "ref-v2, then resend"
)


@pytest.fixture
async def held_engine(
    tmp_path: Any, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> AsyncIterator[tuple[Engine, MessageRecord]]:
    """An engine whose ``noord`` (ref-v1, no auto_upgrade) had a referral delivered before the
    sunset; its clock now past it."""
    clock = ManualClock(BEFORE_SUNSET)
    config = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    catalog = build_catalog([("noord.yaml", config)], today=BEFORE_SUNSET.date())
    engine = Engine(settings_for(tmp_path), catalog=catalog, clock=clock)
    await engine.start()
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        original = await engine.store.get_message(result.messages[0].message_id)
        assert original is not None and original.status == "delivered"
        clock.set(AFTER_SUNSET)
        yield engine, original
    finally:
        await engine.stop()


async def test_the_service_skips_the_remap_saying_why_and_sends_nothing(
    held_engine: tuple[Engine, MessageRecord], receiver: MllpReceiver
) -> None:
    engine, original = held_engine
    remap = ResendRequest(reason="GP called", actor="anna", mode="remap")
    [result] = await resend_in_engine(engine, [original], remap)
    assert result.message is None and result.note == WHY
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 1  # the original only
    rows = await engine.store.list_messages(MessageFilter(destination_id="noord"), limit=10)
    assert [m.id for m in rows] == [original.id]  # no resend stored, held or other
    # The original bytes are a person's choice and still go (docs/support.md).
    original_mode = ResendRequest(reason="GP called", actor="anna", mode="original")
    [same] = await resend_in_engine(engine, [original], original_mode)
    assert same.message is not None and same.message.version == "ref-v1"


async def test_the_api_refuses_the_remap_with_why(
    held_engine: tuple[Engine, MessageRecord], receiver: MllpReceiver
) -> None:
    engine, original = held_engine
    async with api_client(engine) as api:
        answer = await api.post(
            f"/api/v1/messages/{original.id}/resend", json={"reason": "GP", "mode": "remap"}
        )
    assert answer.status_code == 422
    assert answer.json()["detail"] == WHY
    assert "(auto_upgrade)" not in answer.text
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 1
