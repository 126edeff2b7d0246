"""The engine warms up its store's hot writes at start, before any event comes; a warm-up that
fails holds nothing up (the first events then do what it would have done)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import Store, StoreUnavailable
from tests.integrator.support import destination, settings_for

TODAY = date(2026, 11, 27)


def _engine(tmp_path: Path, receiver: MllpReceiver) -> Engine:
    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    catalog = build_catalog([(f"{config.id}.yaml", config)], today=TODAY)
    return Engine(settings_for(tmp_path), catalog=catalog)


async def test_the_store_is_warm_before_the_first_event(
    tmp_path: Path, receiver: MllpReceiver
) -> None:
    engine = _engine(tmp_path, receiver)
    await engine.start()
    try:
        hot: Any = engine.store._hot
        assert sorted(name for name, _ in hot._prepared) == [
            "attempt",
            "event",
            "messages",
            "update",
        ]
    finally:
        await engine.stop()


async def test_a_failed_warm_up_is_said_and_events_still_go_through(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused(self: Store) -> None:
        raise StoreUnavailable("prepare the hot writes: the store did not answer")

    monkeypatch.setattr(Store, "warm_up", refused)
    engine = _engine(tmp_path, receiver)
    with capture_logs() as logs:
        await engine.start()
    try:
        [warning] = [e for e in logs if e["log_level"] == "warning"]
        assert warning["event"] == (
            "could not prepare the store's hot writes at start; the first events will"
        )
        assert "did not answer" in warning["error"]
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        [routed] = result.messages
        message = await engine.store.get_message(routed.message_id)
        assert message is not None and message.status == "delivered"
    finally:
        await engine.stop()
