"""The ACK-only receiver every benchmark measures against, and the bare round trips it allows.

It imports nothing of the project, so a benchmark that compares two revisions (``compare.py``)
runs both against the very same receiver code, and the baselines below (a bare asyncio MLLP
client, python-hl7's ``MLLPClient``) talk to the same process as the engine does. An engine's
delivered/s only means something next to what the wire and this receiver allow on this machine
at this moment, so every end-to-end figure is also printed as a ratio to these baselines.

The receiver answers each frame with an original-mode ``AA`` whose MSA-2 is the frame's MSH-10
and whose MSH-3..6 are swapped, which is all the engine's ACK check needs. It answers all frames
of one TCP chunk with one write.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

START, END = b"\x0b", b"\x1c\r"


def ack_for(message: bytes) -> bytes:
    """The ``AA`` for ``message``: only its first segment is read."""
    cut = message.find(b"\r")
    msh = (message if cut < 0 else message[:cut]).split(b"|")
    field: Callable[[int], bytes] = lambda i: msh[i] if i < len(msh) else b""  # noqa: E731
    code = field(8).split(b"^")
    trigger = code[1] if len(code) > 1 else b""
    header = b"|".join(
        [b"MSH", b"^~\\&", field(4), field(5), field(2), field(3),
         time.strftime("%Y%m%d%H%M%S").encode(), b"", b"ACK^" + trigger + b"^ACK",
         b"R" + field(9)[:19], field(10), field(11)]
    )  # fmt: skip
    return START + header + b"\rMSA|AA|" + field(9) + b"\r" + END


class _AckProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        answers = []
        start = 0
        while True:
            end = buffer.find(END, start)
            if end < 0:
                break
            begin = buffer.find(START, start, end)
            if begin >= 0:
                answers.append(ack_for(buffer[begin + 1 : end]))
            start = end + 2
        self._buffer = buffer[start:]
        if answers and self._transport is not None:
            self._transport.write(b"".join(answers))


def serve(count: int, conn: Connection) -> None:
    """Child process: ``count`` ACK-only receivers; sends their ports over ``conn``, serves
    until anything arrives on it."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(_AckProtocol, "127.0.0.1", 0) for _ in range(count)]
        conn.send([s.sockets[0].getsockname()[1] for s in servers])
        await loop.run_in_executor(None, conn.recv)
        for s in servers:
            s.close()

    asyncio.run(main())


class _ClientProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if END in self.buffer and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def bare_round_trips(ports: list[int], payload: bytes, seconds: float) -> float:
    """Messages/s of the leanest asyncio MLLP client: one message in flight per connection,
    one connection per port, each waiting for its ACK before sending the next."""
    loop = asyncio.get_running_loop()
    framed = START + payload + END
    done = 0
    stop_at = loop.time() + seconds

    async def one(port: int) -> None:
        nonlocal done
        transport, protocol = await loop.create_connection(_ClientProtocol, "127.0.0.1", port)
        try:
            while loop.time() < stop_at:
                protocol.buffer = b""
                protocol.waiter = loop.create_future()
                transport.write(framed)
                await protocol.waiter
                done += 1
        finally:
            transport.close()

    t0 = loop.time()
    await asyncio.gather(*(one(p) for p in ports))
    return done / (loop.time() - t0)


def hl7_client_round_trips(port: int, payload: bytes, seconds: float) -> float:
    """Messages/s of python-hl7's blocking ``MLLPClient`` on one connection (a common choice
    for a small sender; blocking, so run it where nothing else waits on this thread)."""
    from hl7.client import MLLPClient

    done = 0
    text = payload.decode("utf-8", errors="replace")
    with MLLPClient("127.0.0.1", port) as client:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            client.send_message(text)
            done += 1
        return done / (time.perf_counter() - t0)


def baselines(ports: list[int], payload: bytes, seconds: float = 2.0) -> dict[str, Any]:
    """All baselines against running receivers on ``ports`` (the first for 1 connection).

    Runs its own event loop in a fresh thread, so it can be called from inside a running loop
    (the engine's) with ``run_in_executor`` or, better, before the engine starts.
    """
    import threading

    out: dict[str, Any] = {}

    def run() -> None:
        out["bare_1_per_s"] = asyncio.run(bare_round_trips(ports[:1], payload, seconds))
        if len(ports) > 1:
            out[f"bare_{len(ports)}_per_s"] = asyncio.run(bare_round_trips(ports, payload, seconds))
        out["hl7_client_per_s"] = hl7_client_round_trips(ports[0], payload, seconds)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out
