"""``integrator receiver --delay DURATION`` and ``--no-answer``: rehearsing an ACK that comes
too late or never, without writing a silent listener of one's own.

The start-up line says what the receiver will do; a bad ``--delay``, and ``--no-answer`` with
``--ack`` or ``--delay``, are refused with exit 2 naming the options and the rule.
"""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from integrator.cli import app
from tests.integrator.test_cli_receiver_piped import MESSAGE, receiver

FRAME = b"\x0b" + "\r".join(MESSAGE).encode() + b"\r\x1c\r"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            ["--delay", "soon"],
            "--delay: must be a duration like 500ms, 30s or 10m (a bare number means seconds), "
            "1h at most",
        ),
        (
            ["--delay", "-5s"],
            "--delay: must be a duration like 500ms, 30s or 10m (a bare number means seconds), "
            "1h at most",
        ),
        (
            ["--delay", "2h"],
            "--delay: must be 1h at most (the longest ack_timeout; for no answer at all: "
            "--no-answer)",
        ),
        (
            ["--no-answer", "--ack", "AA"],
            "--no-answer cannot go with --ack: a receiver that never answers has no code to "
            "answer with nor a time to answer at",
        ),
        (
            ["--delay", "1s", "--no-answer"],
            "--no-answer cannot go with --delay: a receiver that never answers has no code to "
            "answer with nor a time to answer at",
        ),
        (
            ["--no-answer", "--ack", "AE", "--delay", "1s"],
            "--no-answer cannot go with --ack or --delay: a receiver that never answers has no "
            "code to answer with nor a time to answer at",
        ),
    ],
)
def test_bad_options_are_refused_naming_them_and_the_rule(options: list[str], said: str) -> None:
    done = CliRunner().invoke(app, ["receiver", "--port", "0", *options])
    assert done.exit_code == 2, done.output
    assert said in " ".join(done.output.split()), done.output


def _exchange(port: int, wait: float) -> tuple[bytes, float]:
    """One message on loopback; what came back within ``wait`` seconds, and when."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        sent = time.monotonic()
        conn.sendall(FRAME)
        conn.settimeout(wait)
        answer = b""
        try:
            while not answer.endswith(b"\x1c\r"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        return answer, time.monotonic() - sent


def test_with_a_delay_the_answer_comes_no_sooner_and_the_start_says_so() -> None:
    with receiver("--delay", "700ms", "--ack", "ae", terminal=False) as out:
        started = out.until("Ctrl-C stops.")
        assert "; answering AE after 700ms. Ctrl-C stops." in started
        answer, took = _exchange(out.port(), wait=10)
        out.until("MSG00001|P|2.5.1\n")  # printed as usual
    assert b"MSA|AE|MSG00001" in answer
    assert took >= 0.7, took


def test_with_no_answer_the_message_is_printed_and_nothing_comes_back() -> None:
    with receiver("--no-answer", terminal=False) as out:
        started = out.until("Ctrl-C stops.")
        assert "; never answering (the connection stays open until the sender closes it)." in (
            started
        )
        answer, took = _exchange(out.port(), wait=1.0)
        text = out.until("MSG00001|P|2.5.1\n")
    assert answer == b"" and took >= 1.0  # neither an answer nor a close: the wait ran out
    assert "\n".join(MESSAGE) + "\n" in text.split("Ctrl-C stops.\n", 1)[1]


def test_a_delay_of_nothing_answers_at_once_as_before() -> None:
    with receiver("--delay", "0", terminal=False) as out:
        assert "; answering AA. Ctrl-C stops." in out.until("Ctrl-C stops.")
        answer, _ = _exchange(out.port(), wait=10)
    assert b"MSA|AA|MSG00001" in answer
