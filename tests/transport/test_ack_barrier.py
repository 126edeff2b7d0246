"""The ack barrier: deliveries are acked only after their attempts are committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from destinations.worker import AttemptResult
from integrator.recorder import AttemptRecorder
from tests.transport.conftest import open_harness


def delivered(message_id: str) -> AttemptResult:
    return AttemptResult(
        message_id=message_id,
        number=1,
        started_at=datetime.now(UTC),
        duration_ms=1.0,
        outcome="delivered",
        ack_code="AA",
        ack_bytes=b"MSH|^~\\&|\rMSA|AA|x\r",
        error=None,
        status="delivered",
        next_attempt_at=None,
    )


async def test_committed_waits_for_earlier_attempts_only(tmp_path: Path) -> None:
    async with open_harness("embedded", tmp_path) as h:
        messages = await h.messages("dest-a", 40)
        recorder = AttemptRecorder(h.store)
        await recorder.record(delivered(messages[0].message_id))
        barrier = asyncio.create_task(recorder.committed())
        await asyncio.sleep(0.05)
        assert not barrier.done()  # not started: nothing is committed yet

        recorder.start()
        for m in messages[1:]:  # a steady stream behind it does not hold the barrier up
            await recorder.record(delivered(m.message_id))
        await asyncio.wait_for(barrier, 5)
        first = await h.store.get_message(messages[0].message_id)
        assert first is not None and first.status == "delivered"
        await recorder.close()
