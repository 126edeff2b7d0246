"""``destinations remove --force`` while an attempt is on the wire: the attempt finishes and
is recorded first (docs/operators.md), then what still waits becomes a dead letter. Before,
the removal dead-lettered the message on the wire and the attempt's outcome overwrote it: a
delivered message counted as dead-lettered, or a message left ``retrying`` for a destination
no longer there, which nothing would ever send (and an ERROR blaming a hand edit)."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for

START, END = b"\x0b", b"\x1c\x0d"


@pytest.mark.parametrize(
    ("answers", "final", "dead_lettered"), [(True, "delivered", 0), (False, "dead", 1)]
)
async def test_the_attempt_on_the_wire_is_recorded_before_the_removal_closes_it(
    tmp_path: Path, referral_data: dict[str, Any], answers: bool, final: str, dead_lettered: int
) -> None:
    on_the_wire = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frame = await reader.readuntil(END)
        on_the_wire.set()
        await asyncio.sleep(0.8)  # the removal comes now
        if answers:
            control_id = frame.lstrip(START).split(b"\r")[0].split(b"|")[9]
            ack = b"MSH|^~\\&|RX||INT||20261203||ACK|A1|P|2.5.1\rMSA|AA|" + control_id + b"\r"
            writer.write(START + ack + END)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination("noord", port, providers=["ziekenhuis-noord"], ack_timeout="5s")
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    try:
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        [made] = (await engine.intake.submit(json.dumps(event), source="cli")).messages
        await asyncio.wait_for(on_the_wire.wait(), timeout=10)
        change = await engine.admin.remove("noord", actor="anna", force=True, reason="gone")
        assert await engine.wait_settled(timeout=10)
        message = await engine.store.get_message(made.message_id)
    finally:
        await engine.stop()
        server.close()
    assert message is not None
    assert (message.status, change.dead_lettered) == (final, dead_lettered)
