"""A receiver that answers AE with megabytes of words (an echo of the message, a blob in MSA-3)
had them stored three times per attempt (the ACK's bytes, the attempt's error, the message's
last error) and made ``messages show`` and ``deadletter show`` take minutes to lay them out.
The error quotes the start of the words and says how much more there was; the ACK's bytes
stay whole with the attempt, and the commands' text output is bounded (``--json`` has it all).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from destinations.worker import QUOTED_MAX
from integrator.console.delivery_text import word
from integrator.store import AttemptRecord, MessageRecord
from tests.delivery.support import FAST_RETRY, messages, start_engine, submit
from tests.delivery.wordy import WordyReceiver, shown

WORDS = "Y" * (5 * 1024 * 1024)
MORE = len(WORDS) - QUOTED_MAX
CUT = f"\u2026 ({MORE} more characters; the whole ACK is kept with the attempt)"
ERROR_MAX = 1_200  # the quoted words, the note and why the engine gave up
SHOWN_MAX = 40_000  # a command's text output: tables and a cut ACK, never the megabytes


async def _dead_of_words(
    tmp_path: Path, referral_data: dict[str, Any]
) -> tuple[MessageRecord, list[AttemptRecord], list[bytes]]:
    """One message to a receiver that answers AE with ``WORDS``, dead after two attempts: the
    message, its attempts and the ACKs the receiver sent."""
    retry = {**FAST_RETRY, "max_attempts": 2}
    receiver = WordyReceiver("AE", WORDS)
    async with receiver:
        engine = await start_engine(tmp_path, receiver.port, retry=retry, ack_timeout="20s")
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=60)
            [message] = await messages(engine, [message_id])
            attempts = await engine.store.list_attempts(message_id)
        finally:
            await engine.stop()
    return message, attempts, receiver.acks_sent()


def test_megabytes_of_receiver_words_are_quoted_bounded_and_kept_whole_in_the_ack(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    message, attempts, sent = asyncio.run(_dead_of_words(tmp_path, referral_data))
    assert message.status == "dead" and len(attempts) == len(sent) == 2
    for attempt, ack in zip(attempts, sent, strict=True):
        assert attempt.ack_bytes == ack  # the contract: the ACK's bytes as received
        assert attempt.error is not None and len(attempt.error) < ERROR_MAX
        assert attempt.error.startswith(f"ACK AE: {'Y' * QUOTED_MAX}{CUT}")
    last_error = message.last_error
    assert last_error is not None and len(last_error) < ERROR_MAX
    assert (
        last_error == f"ACK AE: {'Y' * QUOTED_MAX}{CUT}; gave up after 2 attempts (max_attempts 2)"
    )
    # The console words it in Dutch, the receiver's words quoted as they came.
    assert word("nl", last_error) == (
        "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht: "
        f'"{"Y" * QUOTED_MAX}\u2026" ({MORE} tekens meer; de '
        "hele ACK is bij de poging bewaard); opgegeven na 2 pogingen (max_attempts 2)"
    )

    for command in ("messages", "deadletter"):
        said = shown(tmp_path, command, message.id)
        assert said.exit_code == 0, said.output
        assert len(said.stdout) < SHOWN_MAX, (command, len(said.stdout))
    last_ack = shown(tmp_path, "deadletter", message.id).stdout
    assert "more characters; --json gives it whole" in last_ack.split("Last ACK:", 1)[1]
    whole = shown(tmp_path, "deadletter", message.id, "--json")
    assert whole.exit_code == 0, whole.output
    assert json.loads(whole.stdout)["last_ack"] == sent[-1].decode()
