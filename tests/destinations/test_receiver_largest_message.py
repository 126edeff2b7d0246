"""``integrator receiver`` takes the largest message the engine can send.

Its default largest frame was the 64 MiB of an MLLP answer, while a referral with its full
50 MiB of attachments is some 73 MB of HL7: the test receiver hospitals and operators use
dropped the connection on it, and the engine retried it into a dead letter. ``destinations``
may not import the intake's limits (docs/architecture.md), so it says them again; these tests
hold the two together, and send such a message through the receiver as it starts by default.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from destinations.ack import AckOutcome, classify_ack, parse_ack
from destinations.client import MllpClient
from destinations.mllp import frame
from destinations.receiver import (
    ATTACHMENTS_IN_BASE64,
    LARGEST_MESSAGE,
    REST_OF_MESSAGE,
    MllpReceiver,
)
from mappings import map_event
from mappings.context import MappingContext
from schemas import parse_event
from schemas.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_TOTAL_BYTES, MIB
from schemas.fields import MAX_ATTACHMENTS, MAX_EVENT_TEXT
from tests.conftest import load_sample

ESCAPED = "\x01"  # a control character: five on the wire (``\X01\``), the most one takes


def test_the_receivers_limit_is_the_engines_largest_message() -> None:
    assert ATTACHMENTS_IN_BASE64 == 4 * -(-MAX_ATTACHMENTS_TOTAL_BYTES // 3)
    # every character of text escaped, a padded base64 per file, and a few MB of segments
    assert REST_OF_MESSAGE >= 5 * MAX_EVENT_TEXT + 4 * MAX_ATTACHMENTS + 4_000_000
    assert MllpReceiver()._max_frame_size == LARGEST_MESSAGE
    assert LARGEST_MESSAGE <= 80_000_000  # what docs/receivers.md asks of a hospital's listener


def _largest_referral() -> Any:
    """A referral with every attachment byte it may have and nearly all its text as control
    characters, the text that grows most on the wire."""
    data = load_sample("referral")
    pdf = b"%PDF-1.4\n"
    sizes = [MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES]
    sizes.append(MAX_ATTACHMENTS_TOTAL_BYTES - sum(sizes))
    data["attachments"] = [
        {
            "filename": f"bijlage-{n}.pdf",
            "content_type": "application/pdf",
            "data": base64.b64encode(pdf + b"\0" * (size - len(pdf))).decode(),
        }
        for n, size in enumerate(sizes)
    ]
    answer = "a" + ESCAPED * 59_998 + "a"
    data["questions"] = [
        {"code": f"Q{n}", "title": "t", "required": False, "answer_type": "open", "answer": answer}
        for n in range(MAX_EVENT_TEXT // len(answer) - 1)
    ]
    return parse_event(json.dumps(data).encode())


async def test_the_receiver_takes_the_largest_referral_as_it_starts_by_default() -> None:
    now = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    message = map_event("ref-v2", _largest_referral(), MappingContext(control_id="BIG1", now=now))
    assert len(frame(message.data)) > 64 * MIB  # more than the old default
    assert len(frame(message.data)) <= LARGEST_MESSAGE
    async with MllpReceiver() as receiver:
        async with MllpClient(
            "127.0.0.1", receiver.port, connect_timeout=10, ack_timeout=30
        ) as client:
            ack = parse_ack(await client.send(message.data))
        assert classify_ack(ack, "BIG1") is AckOutcome.DELIVERED
        assert receiver.received == [message.data]
