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

# The client, in a process of its own: argv port, loop kind, ack_timeout, bytes of filler,
# connect_timeout.
CLIENT = """
import sys
from destinations.client import MllpClient
from integrator.eventloop import run
from tests.destinations.helpers import make_message

async def send() -> bytes:
    port, ack_timeout, filler = int(sys.argv[1]), float(sys.argv[3]), int(sys.argv[4])
    connect_timeout = float(sys.argv[5])
    client = MllpClient(
        "127.0.0.1", port, connect_timeout=connect_timeout, ack_timeout=ack_timeout
    )
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


def start_client(
    kind: str, port: int, ack_timeout: float, filler: int = 0, connect_timeout: float = 10
) -> subprocess.Popen[str]:
    """The client process, sending one message to ``port`` here."""
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    args = [str(port), kind, str(ack_timeout), str(filler), str(connect_timeout)]
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def client_stopped_by_the_test(
    kind: str, ack_timeout: float, filler: int = 0
) -> Iterator[tuple[subprocess.Popen[str], socket.socket]]:
    """The client process sending to a server here, and the connection it made."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = start_client(kind, server.getsockname()[1], ack_timeout, filler)
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


def _connecting_to(port: int) -> bool:
    """Whether a socket here is in SYN_SENT towards 127.0.0.1:``port`` (Linux's table)."""
    remote = f"0100007F:{port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        return any(
            fields[2] == remote and fields[3] == "02"
            for fields in (line.split() for line in table.readlines()[1:])
        )


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's socket table")
@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_a_connection_made_while_the_engine_was_stopped_is_used(kind: str) -> None:
    """The receiver's queue of connections is full, so the first SYN is dropped; the client is
    stopped while it waits, the queue is emptied, and the system connects at the SYN's
    retransmission (a second later, within ``connect_timeout``) while the client is still
    stopped; continued past the timeout, it sends rather than say the connect timed out."""
    connect_timeout = 1.5
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)  # one connection fills the queue
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as filler:
            client = start_client(kind, port, ACK_TIMEOUT, connect_timeout=connect_timeout)
            try:
                deadline = time.monotonic() + 30
                while not _connecting_to(port):
                    assert time.monotonic() < deadline, "the client never began to connect"
                    time.sleep(0.01)
                began = time.monotonic()
                client.send_signal(signal.SIGSTOP)
                server.accept()[0].close()  # the filler's: room for one
                server.settimeout(connect_timeout)
                conn, _ = server.accept()  # made by the system, the client still stopped
                time.sleep(max(0.0, began + connect_timeout * 1.5 - time.monotonic()))
                client.send_signal(signal.SIGCONT)
                with conn:
                    conn.settimeout(30)
                    data = b""
                    while not data.endswith(FS_CR) and (chunk := conn.recv(65536)):
                        data += chunk
                    if data:  # else closed unsent: the client gave up on the connect
                        answer(conn, data[1:-2])
                    out, _ = client.communicate(timeout=30)
            finally:
                client.kill()
                client.wait()
        del filler
    assert out.strip().startswith("answered MSA|AA"), out
