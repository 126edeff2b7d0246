"""Every attempt that does not deliver is logged with why, in words safe for a log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from destinations.worker import AttemptResult
from integrator.attempt_log import attempt_reason
from tests.delivery.support import messages, start_engine, submit
from tests.services import free_port


async def test_a_destination_nobody_listens_on_says_so_in_the_log(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A port typo: the log names the address and the failure, attempt by attempt, and the
    last attempt's line, a warning, says the message was dead-lettered and why."""
    port = free_port()
    engine = await start_engine(tmp_path, port)
    try:
        with capture_logs() as logs:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=10)
        [found] = await messages(engine, [message_id])
    finally:
        await engine.stop()
    assert found.status == "dead"
    told = ("delivery attempt failed", "message dead-lettered")
    failed = [e for e in logs if e["event"] in told]
    assert [e["attempt"] for e in failed] == [1, 2, 3, 4, 5]  # FAST_RETRY: max_attempts 5
    assert [e["event"] for e in failed] == [told[0]] * 4 + [told[1]]
    assert [e["log_level"] for e in failed] == ["info"] * 4 + ["warning"]
    assert all(e["message_id"] == message_id for e in failed)
    assert all(e["control_id"] == found.control_id for e in failed)  # as the hospital reads it
    assert all(e["reason"].startswith("ConnectFailed") for e in failed)
    assert all(f":{port}" in e["reason"] for e in failed)
    assert "gave up after 5 attempts" in failed[-1]["reason"]
    assert all(e["retry_at"] for e in failed[:-1])


def _result(**values: Any) -> AttemptResult:
    base: dict[str, Any] = {
        "message_id": "m-1",
        "number": 1,
        "started_at": datetime(2026, 12, 1, tzinfo=UTC),
        "duration_ms": 3.0,
        "outcome": "retry",
        "ack_code": "AE",
        "ack_bytes": b"MSH|^~\\&|\rMSA|AE|x|patient 123456782 unknown\r",
        "error": "ACK AE: patient 123456782 unknown",
        "status": "retrying",
        "next_attempt_at": None,
    }
    base.update(values)
    return AttemptResult(**base)


def test_a_negative_ack_is_named_by_its_code_not_the_receivers_words() -> None:
    """The receiver's MSA-3/ERR text can echo patient data; it stays in the store (the same
    rule as the listings' short reason)."""
    assert attempt_reason(_result()) == "ACK AE (receiver's text withheld)"
    dead = _result(
        outcome="deadletter",
        ack_code="AR",
        error="ACK AR: bad BSN 123456782; gave up after 5 attempts (max_attempts 5)",
        status="dead",
    )
    assert attempt_reason(dead) == (
        "ACK AR (receiver's text withheld); gave up after 5 attempts (max_attempts 5)"
    )
    lost = _result(
        outcome="failed",
        ack_code=None,
        error="AckTimeout: no ACK within 0.2s",
    )
    assert attempt_reason(lost) == "AckTimeout: no ACK within 0.2s"
