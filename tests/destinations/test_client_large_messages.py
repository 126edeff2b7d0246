"""A large message on a slow link: ``ack_timeout`` waits for the answer, not for the sending.

A referral with attachments is some 70 MB of HL7; on a hospital WAN its bytes leave at the
link's speed, a minute or more. The client's wait for the ACK starts once the message has left
its write buffer, and the sending itself is bounded by progress: a receiver that takes no byte
for ``ack_timeout`` has stopped reading, and the attempt says so with how much was written.

Real TCP on loopback, on asyncio's loop and on uvloop (``integrator run``'s), plain and TLS.
The receivers read with a small ``SO_RCVBUF`` and a throttled loop, so the kernel's buffers
cannot take the message at once; the client's ``SO_SNDBUF`` is made small too (a kernel's own
send buffer grows to some 4 MB on its own, which would hold most of a test's message).
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.ack import AckOutcome, classify_ack, parse_ack
from destinations.client import SEND_STALLED, MllpClient
from destinations.errors import SendStalled
from destinations.retry import RetryPolicy
from destinations.worker import AckPolicy, AttemptResult, DeliveryWorker, OutboundMessage

from .helpers import FS_CR, make_ack, make_message, msh10, read_frame
from .test_tls import pki, server_context  # noqa: F401  (pki: a fixture)

SMALL_BUFFER = 16 * 1024  # the kernel doubles it
SIZE = 4 * 1024 * 1024
RATE = 2 * 1024 * 1024  # bytes a second the slow receiver reads: SIZE takes two seconds
ACK_TIMEOUT = 1.0  # clearly shorter than the sending

Loop = Callable[[Coroutine[Any, Any, None]], None]


def _asyncio(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def _uvloop(coro: Coroutine[Any, Any, None]) -> None:
    uvloop = pytest.importorskip("uvloop")
    uvloop.run(coro)


LOOPS = pytest.mark.parametrize("run", [_asyncio, _uvloop], ids=["asyncio", "uvloop"])


def large_message(control_id: str, size: int = SIZE) -> bytes:
    """A message of about ``size`` bytes: a small referral and an OBX of base64-like text."""
    head = make_message(control_id)
    filler = b"QUJD" * (size // 4)
    return head + b"OBX|1|ED|ATTACHMENT^Bijlage^L||^AP^PDF^Base64^" + filler + b"\r"


Reader = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def listen(handler: Reader, context: ssl.SSLContext | None = None) -> asyncio.Server:
    """A loopback server whose connections have a small receive buffer (set on the listening
    socket, before ``listen``, so the window it offers is small from the start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    return await asyncio.start_server(handler, sock=sock, ssl=context)


async def reads_slowly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads at about ``RATE`` bytes a second and answers each whole frame with AA at once."""
    buffer = bytearray()
    try:
        while chunk := await reader.read(64 * 1024):
            buffer += chunk
            while (end := buffer.find(FS_CR)) >= 0:
                message = bytes(buffer[buffer.index(b"\x0b") + 1 : end])
                del buffer[: end + len(FS_CR)]
                writer.write(b"\x0b" + make_ack(msh10(message)) + FS_CR)
            await asyncio.sleep(len(chunk) / RATE)
    finally:
        writer.close()


class NeverReads:
    """Answers the first message, then reads nothing more: its TCP window closes. Its
    connections end at ``done``."""

    def __init__(self) -> None:
        self.done = asyncio.Event()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = await read_frame(reader)
        writer.write(b"\x0b" + make_ack(msh10(message)) + FS_CR)
        await self.done.wait()
        writer.close()

    async def end(self, server: asyncio.Server) -> None:
        self.done.set()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)  # the connections' handlers see ``done``


async def connected(client: MllpClient) -> None:
    """Open the client's kept connection with a small message, then make its socket's send
    buffer small, so what waits to be sent waits in the client's own buffer."""
    ack = parse_ack(await client.send(make_message("FIRST")))
    assert classify_ack(ack, "FIRST") is AckOutcome.DELIVERED
    protocol = client._protocol  # the client has no setting for it: a test's need only
    assert protocol is not None and protocol.transport is not None
    sock = protocol.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)


def client_for(
    port: int, context: ssl.SSLContext | None = None, *, ack_timeout: float = ACK_TIMEOUT
) -> MllpClient:
    return MllpClient(
        "127.0.0.1",
        port,
        connect_timeout=10,
        ack_timeout=ack_timeout,
        ssl_context=context,
        max_frame_size=1 << 20,
    )


async def _deliver_slowly(
    context: ssl.SSLContext | None, server_side: ssl.SSLContext | None
) -> float:
    server = await listen(reads_slowly, server_side)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client_for(port, context) as client:
            await connected(client)
            started = time.monotonic()
            ack = parse_ack(await client.send(large_message("LARGE")))
            took = time.monotonic() - started
            assert classify_ack(ack, "LARGE") is AckOutcome.DELIVERED
            assert client.connection_count == 1
            # the kept connection goes on with the next message
            ack = parse_ack(await client.send(make_message("AFTER")))
            assert classify_ack(ack, "AFTER") is AckOutcome.DELIVERED
    finally:
        server.close()
        await server.wait_closed()
    return took


@LOOPS
def test_a_large_message_on_a_slow_link_is_delivered(run: Loop) -> None:
    took: list[float] = []

    async def scenario() -> None:
        took.append(await _deliver_slowly(None, None))

    run(scenario())
    assert took[0] > 1.5 * ACK_TIMEOUT  # the sending took longer than the ACK may


@LOOPS
def test_a_large_message_on_a_slow_link_is_delivered_over_tls(run: Loop, pki: Path) -> None:  # noqa: F811
    took: list[float] = []
    client_side = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    client_side.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))

    async def scenario() -> None:
        took.append(await _deliver_slowly(client_side, server_context(pki)))

    run(scenario())
    assert took[0] > 1.5 * ACK_TIMEOUT


STALLED = re.compile(
    r"the receiver stopped reading: ([\d,]+) of ([\d,]+) bytes written, none taken for 0\.5s"
)


async def _stall(context: ssl.SSLContext | None, server_side: ssl.SSLContext | None) -> None:
    receiver = NeverReads()
    server = await listen(receiver, server_side)
    port = server.sockets[0].getsockname()[1]
    message = large_message("STUCK")
    size = len(message) + 3  # framed
    try:
        async with client_for(port, context, ack_timeout=0.5) as client:
            await connected(client)
            started = time.monotonic()
            with pytest.raises(SendStalled) as caught:
                await client.send(message)
            took = time.monotonic() - started
            assert not client.connected  # dropped: the stream is out of step
    finally:
        await receiver.end(server)
    said = str(caught.value)
    found = STALLED.fullmatch(said)
    assert found is not None, said
    written, total = (int(n.replace(",", "")) for n in found.groups())
    assert total == size
    assert 0 < written < size // 2  # the kernels' buffers, no more
    assert SEND_STALLED.read(said) is not None
    assert 0.5 <= took < 1.5  # about ack_timeout after the last byte was taken


@LOOPS
def test_a_receiver_that_stops_reading_fails_the_send_after_ack_timeout(run: Loop) -> None:
    run(_stall(None, None))


@LOOPS
def test_a_receiver_that_stops_reading_fails_the_send_over_tls(run: Loop, pki: Path) -> None:  # noqa: F811
    client_side = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    client_side.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))
    run(_stall(client_side, server_context(pki)))


class Kept:
    def __init__(self) -> None:
        self.results: list[AttemptResult] = []

    async def record(self, result: AttemptResult) -> None:
        self.results.append(result)


async def test_the_attempt_says_the_receiver_stopped_reading() -> None:
    """What the attempt history and ``messages show`` print: the class and the sentence."""
    receiver = NeverReads()
    server = await listen(receiver)
    port = server.sockets[0].getsockname()[1]
    sender = client_for(port, ack_timeout=0.5)
    worker = DeliveryWorker(
        "d",
        sender=sender,
        sink=Kept(),
        retry=RetryPolicy(initial=0.01, max_delay=0.01, max_attempts=5),
        ack_policy=AckPolicy(),
        clock=lambda: datetime.now(UTC),
        rng=random.Random(1),
    )
    payload = large_message("STUCK")
    message = OutboundMessage(
        message_id="m-1",
        destination_id="d",
        control_id="STUCK",
        payload=payload,
        created_at=datetime.now(UTC),
    )
    try:
        await connected(sender)
        result = await worker.attempt(message, 1)
    finally:
        await sender.close()
        await receiver.end(server)
    assert result.outcome == "failed"
    assert result.error is not None
    assert result.error.startswith("SendStalled: the receiver stopped reading: ")
    assert result.error.endswith(f" of {len(payload) + 3:,} bytes written, none taken for 0.5s")
    assert "Testpatient" not in result.error and "999999990" not in result.error
