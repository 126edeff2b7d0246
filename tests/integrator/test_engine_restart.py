"""A restart behind a backlog: every pending message is delivered, in order, and the payloads
are loaded a window at a time, never all at once."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hl7
import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.store import MessageRecord, Store
from integrator.submit import submit_to_store
from integrator.transport import embedded
from tests.integrator.support import destination, settings_for

WINDOW = 4
BACKLOG = 23  # several windows, the last one not full


def _control_id(payload: bytes) -> str:
    return str(hl7.parse(payload.decode("utf-8")).segment("MSH")[10])


async def test_a_restart_delivers_a_backlog_in_order_loading_a_window_at_a_time(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    receiver = MllpReceiver()
    await receiver.start()
    settings.destinations_dir.mkdir()
    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "ziekenhuis-noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    inputs = []
    for n in range(BACKLOG):
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        inputs.append((f"referral-{n}.json", json.dumps(event).encode()))
    outcomes = await submit_to_store(settings, inputs)  # accepted while no engine ran
    assert all(outcome.accepted is not None for outcome in outcomes)

    # What the store hands out with payloads, per call: the peak a restart holds at once.
    loaded: list[int] = []
    real_pending_messages = Store.pending_messages

    async def counted(self: Store, *args: Any, **kwargs: Any) -> Sequence[MessageRecord]:
        found = await real_pending_messages(self, *args, **kwargs)
        loaded.append(len(found))
        return found

    monkeypatch.setattr(Store, "pending_messages", counted)
    monkeypatch.setattr(embedded, "WINDOW", WINDOW)

    engine = Engine(settings)
    await engine.start()
    try:
        assert await engine.wait_settled(timeout=30)
        stored = sorted(await engine.store.list_messages(limit=BACKLOG + 1), key=lambda m: m.seq)
    finally:
        await engine.stop()
        await receiver.stop()

    assert len(stored) == BACKLOG
    assert all(m.status == "delivered" for m in stored)
    # Each exactly once, oldest first.
    assert [_control_id(p) for p in receiver.received] == [m.control_id for m in stored]
    assert sum(loaded) == BACKLOG
    assert max(loaded) <= WINDOW


async def test_resuming_a_paused_destination_loads_its_backlog_a_window_at_a_time(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming queues the store's pending messages by reference too: the destination may owe
    100,000 of them after a weekend, and their payloads belong in the store until sent."""
    settings = settings_for(tmp_path)
    receiver = MllpReceiver()
    await receiver.start()
    settings.destinations_dir.mkdir()
    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "ziekenhuis-noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    loaded: list[int] = []
    real_pending_messages = Store.pending_messages

    async def counted(self: Store, *args: Any, **kwargs: Any) -> Sequence[MessageRecord]:
        found = await real_pending_messages(self, *args, **kwargs)
        loaded.append(len(found))
        return found

    monkeypatch.setattr(Store, "pending_messages", counted)
    monkeypatch.setattr(embedded, "WINDOW", WINDOW)

    engine = Engine(settings)
    await engine.start()
    try:
        await engine.admin.set_enabled("ziekenhuis-noord", False, actor="anna", reason="weekend")
        events = []
        for _ in range(BACKLOG):
            event = copy.deepcopy(referral_data)
            event["event_id"] = str(uuid.uuid4())
            events.append(json.dumps(event).encode())
        await engine.intake.submit_many(events, source="cli")
        assert receiver.received == []
        await engine.admin.set_enabled("ziekenhuis-noord", True, actor="anna")
        assert await engine.wait_settled(timeout=30)
        stored = sorted(await engine.store.list_messages(limit=BACKLOG + 1), key=lambda m: m.seq)
    finally:
        await engine.stop()
        await receiver.stop()

    assert len(stored) == BACKLOG
    assert all(m.status == "delivered" for m in stored)
    assert [_control_id(p) for p in receiver.received] == [m.control_id for m in stored]
    assert loaded and max(loaded) <= WINDOW
