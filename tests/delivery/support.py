"""Helpers for delivery tests: an engine aimed at one receiver, events, and the ACK check."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from destinations.ack import parse_ack
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import MessageRecord
from tests.integrator.support import destination, settings_for

TODAY = date(2026, 11, 27)
DEST = "ziekenhuis-noord"

FAST_RETRY = {
    "initial": "20ms",
    "multiplier": 2,
    "max_delay": "50ms",
    "max_attempts": 5,
    "max_age": "1h",
}


def fast_destination(port: int, **overrides: Any) -> Any:
    values: dict[str, Any] = {"ack_timeout": "200ms", "retry": FAST_RETRY}
    values.update(overrides)
    return destination(DEST, port, providers=[DEST], **values)


async def start_engine(tmp_path: Path, port: int, **overrides: Any) -> Engine:
    config = fast_destination(port, **overrides)
    catalog = build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
    engine = Engine(settings_for(tmp_path), catalog=catalog)
    await engine.start()
    return engine


def events(referral_data: dict[str, Any], count: int) -> list[str]:
    """``count`` distinct referral events (fresh event ids) as JSON."""
    out: list[str] = []
    for _ in range(count):
        data = copy.deepcopy(referral_data)
        data["event_id"] = str(uuid.uuid4())
        out.append(json.dumps(data))
    return out


async def submit(engine: Engine, referral_data: dict[str, Any], count: int = 1) -> list[str]:
    """Submit ``count`` events; returns their message ids in submission order."""
    ids: list[str] = []
    for raw in events(referral_data, count):
        result = await engine.intake.submit(raw, source="cli")
        ids.extend(m.message_id for m in result.messages)
    return ids


async def messages(engine: Engine, ids: list[str]) -> list[MessageRecord]:
    await engine.drain()
    found = [await engine.store.get_message(i) for i in ids]
    assert all(m is not None for m in found)
    return [m for m in found if m is not None]


async def assert_acks_matched(engine: Engine, ids: list[str]) -> None:
    """Every ACK the engine accepted as 'delivered' names the message it was recorded for."""
    for message in await messages(engine, ids):
        for attempt in await engine.store.list_attempts(message.id):
            if attempt.outcome == "delivered":
                assert attempt.ack_bytes is not None
                final = attempt.ack_bytes.split(b"\n")[-1]
                assert parse_ack(final).control_id == message.control_id
