"""A receiver's words reach a person's terminal only as visible text (``views.terminal_safe``).

The ACK comes from a remote system, buggy or hostile: escape sequences in its MSA-3 recoloured,
erased and overwrote the lines of ``messages show``, ``deadletter show`` and ``destinations
test``, and set the terminal window's title. Their text output shows each control character as
a stand-in; ``--json`` keeps the words exact.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from destinations.config import dump_destination
from integrator.cli import app
from integrator.cli.views import shown_ack, shown_text, terminal_safe
from tests.delivery.support import messages, start_engine, submit
from tests.delivery.wordy import WordyReceiver, shown
from tests.integrator.support import destination

ESCAPES = "bad\x1b]0;PWNED\x07\x1b[31mRED\x1b[0m\x1b[2Ktext"
"""MSA-3 that sets the window title, turns the text red and erases the line."""
SHOWN = "bad\u241b]0;PWNED\u2407\u241b[31mRED\u241b[0m\u241b[2Ktext"


def _no_control(stdout: str) -> None:
    assert "\x1b" not in stdout and "\x07" not in stdout, repr(stdout)
    assert "\u241b[31mRED" in stdout  # the words are there, visibly


async def _dead_of_escapes(tmp_path: Path, referral_data: dict[str, Any]) -> str:
    async with WordyReceiver("AR", ESCAPES) as receiver:
        engine = await start_engine(tmp_path, receiver.port)
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=20)
            [message] = await messages(engine, [message_id])
        finally:
            await engine.stop()
    assert message.status == "dead" and message.last_error == f"ACK AR: {ESCAPES}"
    return message_id


def test_show_commands_print_the_receivers_escape_sequences_as_visible_text(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    message_id = asyncio.run(_dead_of_escapes(tmp_path, referral_data))
    for command in ("messages", "deadletter"):
        said = shown(tmp_path, command, message_id)
        assert said.exit_code == 0, said.output
        _no_control(said.stdout)
    last_ack = shown(tmp_path, "deadletter", message_id).stdout
    assert f"|{SHOWN}" in last_ack.split("Last ACK:", 1)[1]
    exact = json.loads(shown(tmp_path, "deadletter", message_id, "--json").stdout)
    assert exact["reason"] == f"ACK AR: {ESCAPES}" and f"|{ESCAPES}\r" in exact["last_ack"]


@pytest.fixture
def escaping_receiver() -> Iterator[WordyReceiver]:
    """A receiver answering AR with ``ESCAPES``, on a thread of its own: the CLI runs its own
    event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    receiver = WordyReceiver("AR", ESCAPES)
    asyncio.run_coroutine_threadsafe(receiver.start(), loop).result(timeout=10)
    saved = structlog.get_config()  # the CLI points structlog at CliRunner's stream
    yield receiver
    structlog.configure(**saved)
    asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def test_destinations_test_prints_the_receivers_escape_sequences_as_visible_text(
    env: dict[str, str], escaping_receiver: WordyReceiver
) -> None:
    noord = destination("noord", escaping_receiver.port, providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(
        dump_destination(noord), encoding="utf-8"
    )
    runner = CliRunner()
    tested = runner.invoke(app, ["destinations", "test", "noord"], env=env)
    assert tested.exit_code == 1, tested.output  # AR: not delivered
    _no_control(tested.stdout)
    assert "  MSA|AR|" in tested.stdout and f"|{SHOWN}" in tested.stdout
    exact = runner.invoke(app, ["destinations", "test", "noord", "--json"], env=env)
    assert f"|{ESCAPES}\r" in json.loads(exact.stdout)["ack"]


def test_every_control_character_but_tab_and_line_feed_gets_a_visible_stand_in() -> None:
    controls = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
    shown = terminal_safe("".join(controls))
    assert not any(c in shown for c in controls if c not in "\t\n")
    assert shown.startswith("\u2400\u2401") and "\t\n" in shown and "\u241b" in shown
    assert "\u2421\\x80" in shown and shown.endswith("\\x9f")  # DEL, then C1 written out
    assert terminal_safe("Ongeldige waarde é ü \\F\\ [bold]") == "Ongeldige waarde é ü \\F\\ [bold]"


def test_a_long_text_is_cut_with_a_note_and_an_ack_shown_by_segment() -> None:
    assert shown_text("x" * 20, limit=20) == "x" * 20
    assert shown_text("x" * 12_345, limit=10) == (
        "x" * 10 + "\u2026 (12,335 more characters; --json gives it whole)"
    )
    ack = f"MSH|^~\\&|HIS\rMSA|AE|C1|{ESCAPES}\r\nMSH|^~\\&|HIS\rMSA|AA|C1\r"
    assert shown_ack(ack) == ["MSH|^~\\&|HIS", f"MSA|AE|C1|{SHOWN}", "MSH|^~\\&|HIS", "MSA|AA|C1"]
