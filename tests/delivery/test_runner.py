"""A destination's delivery loop survives an error that is no delivery outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.receiver import MllpReceiver
from destinations.worker import AttemptResult, DeliveryWorker, OutboundMessage
from integrator import delivery
from tests.delivery.support import messages, start_engine, submit


async def test_an_unexpected_error_is_logged_and_the_message_tried_again(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_attempt = DeliveryWorker.attempt
    failures = 0

    async def attempt_failing_once(
        self: DeliveryWorker, message: OutboundMessage, number: int
    ) -> AttemptResult:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("a bug, not a delivery outcome")
        return await real_attempt(self, message, number)

    monkeypatch.setattr(DeliveryWorker, "attempt", attempt_failing_once)
    monkeypatch.setattr(delivery, "UNEXPECTED_FAILURE_PAUSE", 0.01)
    async with MllpReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            with capture_logs() as logs:
                ids = await submit(engine, referral_data, 3)
                assert await engine.wait_settled(timeout=10)
            found = await messages(engine, ids)
        finally:
            await engine.stop()
    assert failures == 1
    assert [m.status for m in found] == ["delivered"] * 3
    assert receiver.message_count == 3  # the loop went on after the error, in order
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["error_type"] for e in errors] == ["RuntimeError"]
    assert "a bug" not in str(errors)  # types only: exception texts may carry message content
