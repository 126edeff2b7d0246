"""``Engine.stop_attempting``, the first move of a graceful stop: from the signal on no attempt
begins, while the HTTP API still finishes its requests (``runner._stop_http``), so that the
API's wait runs beside the attempts on the wire instead of adding to the stop budget."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.store import MessageFilter, Store
from tests.integrator.support import destination, settings_for
from tests.integrator.test_engine import start_engine

DELIVERY_CHANCE_S = 1.0
"""How long an event accepted after ``stop_attempting`` is given to (wrongly) go out: an
attempt takes milliseconds here, so without the stop it would have been made."""


async def test_an_event_accepted_after_stop_attempting_stays_queued(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    try:
        engine.stop_attempting()
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        [routed] = result.messages
        await asyncio.sleep(DELIVERY_CHANCE_S)
        assert len(receiver.received) == 0, "an attempt was made after stop_attempting"
    finally:
        await engine.stop(graceful=True)
    assert len(receiver.received) == 0, "an attempt was made after stop_attempting"
    store = await Store.open(settings_for(tmp_path).database_url)
    try:
        [message] = await store.list_messages(MessageFilter(), limit=10)
        assert message.id == routed.message_id and message.status == "queued", message.status
    finally:
        await store.close()
