"""An ACK that came in time while the engine was stopped (SIGSTOP) is taken, not timed out.

Found by a chaos soak of two `integrator run` whose engines were frozen (SIGSTOP) for 8-40 s:
an engine frozen while it waited for an ACK found, as it woke, the receiver's `AA` in the
system's buffer and the ACK's deadline passed. The wait for events, cut short by the stop,
returns without reading the socket once its time is up (libuv, and asyncio's selector alike),
so the deadline's timer ran before the answer was read: the attempt was recorded as failed,
"no ACK within 10s", and the message was sent again (the same MSH-10) though the receiver had
answered at once.

The client runs in a process of its own that the test stops while it waits for the ACK, answers
meanwhile, and continues past the deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import FS_CR, make_ack, msh10

ROOT = Path(__file__).resolve().parents[2]
ACK_TIMEOUT = 0.5
LARGE = 8 << 20  # far more than the system's socket buffers hold

# The client, in a process of its own: argv port, loop kind, ack_timeout, bytes of filler.
CLIENT = """
import sys
from destinations.client import MllpClient
from integrator.eventloop import run
from tests.destinations.helpers import make_message

async def send() -> bytes:
    port, ack_timeout, filler = int(sys.argv[1]), float(sys.argv[3]), int(sys.argv[4])
    client = MllpClient("127.0.0.1", port, connect_timeout=10, ack_timeout=ack_timeout)
    message = make_message("STILL1")
    if filler:
        message += b"OBX|1|ED|PDF||" + b"A" * filler + b"\\r"
    try:
        return await client.send(message)
    finally:
        await client.close()

try:
    ack = run(send(), sys.argv[2])
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
else:
    print("answered", ack.decode().split("\\r")[1], flush=True)
"""


@contextlib.contextmanager
def client_stopped_by_the_test(
    kind: str, ack_timeout: float, filler: int = 0
) -> Iterator[tuple[subprocess.Popen[str], socket.socket]]:
    """The client process sending to a server here, and the connection it made."""
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(port), kind, str(ack_timeout), str(filler)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            server.settimeout(30)
            conn, _ = server.accept()
            with conn:
                yield client, conn
        finally:
            client.kill()
            client.wait()


def answer(conn: socket.socket, message: bytes) -> None:
    conn.sendall(b"\x0b" + make_ack(msh10(message)) + FS_CR)


@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_an_answer_that_came_while_the_engine_was_stopped_is_taken(kind: str) -> None:
    with client_stopped_by_the_test(kind, ACK_TIMEOUT) as (client, conn):
        data = b""
        while not data.endswith(FS_CR):
            data += conn.recv(65536)
        time.sleep(ACK_TIMEOUT / 5)  # the client waits for the ACK, idle
        client.send_signal(signal.SIGSTOP)
        answer(conn, data[1:-2])  # in time
        time.sleep(ACK_TIMEOUT * 3)  # stopped past the ACK's deadline
        client.send_signal(signal.SIGCONT)
        out, _ = client.communicate(timeout=30)
    assert out.strip().startswith("answered MSA|AA"), out


@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_a_large_message_whose_receiver_read_while_the_engine_was_stopped_goes_on(
    kind: str,
) -> None:
    """The receiver takes nothing until the client is stopped, then reads what the system holds
    and waits for the rest: the client, continued past ``ack_timeout`` since its bytes last
    moved, writes the rest rather than say the receiver took no byte (``SendStalled``)."""
    ack_timeout = 2.0
    with client_stopped_by_the_test(kind, ack_timeout, LARGE) as (client, conn):
        time.sleep(ack_timeout / 4)  # the buffers fill; the client waits, idle
        client.send_signal(signal.SIGSTOP)
        conn.settimeout(0.2)
        data = b""
        with contextlib.suppress(TimeoutError):  # what the system holds, taken
            while chunk := conn.recv(1 << 20):
                data += chunk
        assert not data.endswith(FS_CR)
        time.sleep(ack_timeout * 1.5)  # stopped past ack_timeout since bytes moved
        client.send_signal(signal.SIGCONT)
        conn.settimeout(30)
        while not data.endswith(FS_CR):
            data += conn.recv(1 << 20)
        answer(conn, data[1:])
        out, _ = client.communicate(timeout=30)
    assert out.strip().startswith("answered MSA|AA"), out
