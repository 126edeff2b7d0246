"""Editing a destination while an attempt is on the wire sends nothing twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from integrator.catalog import build_catalog
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import DEST, TODAY, fast_destination, messages, start_engine, submit


async def test_an_edit_lets_the_attempt_on_the_wire_finish(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The old runner finishes and records its attempt before the new one starts: cancelled,
    its message would be published again and reach the hospital a second time."""
    async with MisbehavingReceiver(default="delay:0.5") as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="3s")
        try:
            [message_id] = await submit(engine, referral_data)
            for _ in range(500):  # until the message is on the wire, its ACK 0.5 s away
                if receiver.log:
                    break
                await asyncio.sleep(0.01)
            assert receiver.log, "the message never reached the receiver"
            edited = fast_destination(receiver.port, ack_timeout="2s")  # a changed definition
            await engine.apply_catalog(build_catalog([(f"{DEST}.yaml", edited)], today=TODAY))
            assert await engine.wait_settled(timeout=10)
            await asyncio.sleep(0.7)  # time for a second send, were one coming
            [message] = await messages(engine, [message_id])
            assert message.status == "delivered"
            # Sent once: the edit sent it no second time. (Counted at the receiver, not by
            # attempts: on a loaded machine a first attempt's connect has timed out before the
            # one that reached the wire, and that one is then attempt 2.)
            assert receiver.received_ids() == [message.control_id]
            outcomes = [a.outcome for a in await engine.store.list_attempts(message_id)]
            assert outcomes[-1] == "delivered" and outcomes.count("delivered") == 1, outcomes
        finally:
            await engine.stop()


async def test_a_pause_mid_attempt_says_why_the_deliveries_stop(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The wait's log line read "stopping: …" and named no cause: at every pause or edit of a
    destination an operator grepping for a shutdown found one that never happened."""
    async with MisbehavingReceiver(default="delay:0.5") as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="3s")
        try:
            await submit(engine, referral_data)
            for _ in range(500):  # until the message is on the wire, its ACK 0.5 s away
                if receiver.log:
                    break
                await asyncio.sleep(0.01)
            assert receiver.log, "the message never reached the receiver"
            paused = fast_destination(receiver.port, ack_timeout="3s", enabled=False)
            with capture_logs() as logs:
                await engine.apply_catalog(build_catalog([(f"{DEST}.yaml", paused)], today=TODAY))
            [line] = [e for e in logs if e["event"].startswith("deliveries stopping")]
            assert (line["because"], line["in_hand"]) == ("the destination is paused", 1), line
            assert not [e for e in logs if e["event"].startswith("stopping")], logs
        finally:
            await engine.stop()
