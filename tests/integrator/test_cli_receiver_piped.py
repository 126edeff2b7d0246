"""``integrator receiver > file`` writes what arrived exactly; a terminal keeps its view.

Written to a file or a pipe, the receiver printed the terminal's view: segments wrapped at
spaces to the width and values over 80 characters cut (``…(+5 chars)``), so what a hospital
would have received could not be read back whole. Now, when stdout is no terminal, each
message's segments are written exactly, one per line, with an empty line after each message;
on a terminal (a pseudo-terminal here) the view with its rule and shortened values stays.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LONG = "a referral note " * 15  # 240 characters, spaces in it: wrapped and cut before
MESSAGE = [
    "MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261130091502||REF^I12^REF_I12|MSG00001|P|2.5.1",
    "PID|1||ZD100000001^^^ZORGDOMEIN",
    f"NTE|1||{LONG}",
]
OTHER = ["MSH|^~\\&|INTEGRATOR||LIS|LWEST|20261130091503||ORM^O01^ORM_O01|MSG00002|P|2.5.1"]


def send(port: int, segments: list[str]) -> bytes:
    """One message over MLLP on loopback; the receiver's ACK, which it sends once it printed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"\x0b" + "\r".join(segments).encode() + b"\r\x1c\r")
        answer = b""
        while not answer.endswith(b"\x1c\r"):
            chunk = conn.recv(65536)
            assert chunk, answer
            answer += chunk
    return answer


class Output:
    """What the receiver writes to the file descriptor ``fd``, read as it comes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.text = ""

    def until(self, wanted: str) -> str:
        while wanted not in self.text:
            ready, _, _ = select.select([self.fd], [], [], 15)
            assert ready, f"waited 15 s for {wanted!r}; so far: {self.text!r}"
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # a pseudo-terminal whose other side closed
                chunk = b""
            assert chunk, f"output ended before {wanted!r}: {self.text!r}"
            self.text += chunk.decode()
        return self.text

    def port(self) -> int:
        first = self.until("Ctrl-C stops.")
        return int(first.split("Listening for MLLP on 127.0.0.1:", 1)[1].split(";", 1)[0])


@contextmanager
def receiver(*options: str, terminal: bool) -> Iterator[Output]:
    """``integrator receiver --port 0`` with stdout a pipe, or a pseudo-terminal."""
    if terminal:
        reading, writing = pty.openpty()
    else:
        reading, writing = os.pipe()
    env = {**os.environ, "COLUMNS": "200"}  # a terminal's width: wide enough for the cut line
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", "receiver", "--port", "0", *options],
        stdout=writing,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    os.close(writing)
    try:
        yield Output(reading)
    finally:
        process.kill()
        process.wait()
        os.close(reading)


def test_to_a_pipe_each_message_is_written_exactly_one_segment_a_line() -> None:
    with receiver(terminal=False) as out:
        port = out.port()
        assert b"MSA|AA|MSG00001" in send(port, MESSAGE)
        assert b"MSA|AA|MSG00002" in send(port, OTHER)
        text = out.until("MSG00002|P|2.5.1\n\n")
    written = text.split("Ctrl-C stops.\n", 1)[1]
    assert written == "\n".join(MESSAGE) + "\n\n" + "\n".join(OTHER) + "\n\n"
    assert "chars)" not in written and "─" not in written


def test_to_a_pipe_quiet_writes_each_message_header_whole() -> None:
    header = MESSAGE[0] + "|" + "x" * 200  # longer than any width, one field over 80
    with receiver("--quiet", terminal=False) as out:
        port = out.port()
        send(port, [header, *MESSAGE[1:]])
        text = out.until("x" * 200 + "\n")
    assert text.split("Ctrl-C stops.\n", 1)[1] == header + "\n"


def test_on_a_terminal_the_view_keeps_its_rule_and_shortens_long_values() -> None:
    with receiver(terminal=True) as out:
        port = out.port()
        send(port, MESSAGE)
        text = out.until("chars)")
    assert "─" in text  # the rule between messages
    assert f"NTE|1||{LONG[:80]}…(+{len(LONG) - 80} chars)" in text
