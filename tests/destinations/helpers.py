"""Test messages and a scriptable misbehaving MLLP server.

The scripted server is deliberately written with asyncio streams and its own framing, not with
``destinations.mllp``, so the client is tested against an independent implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

VT, FS_CR = b"\x0b", b"\x1c\x0d"


def make_message(
    control_id: str, *, charset: str = "UNICODE UTF-8", version: str = "2.5.1"
) -> bytes:
    """A small REF^I12 whose only purpose is to carry a control id (no real patient data)."""
    segments = [
        f"MSH|^~\\&|INTEGRATOR|PLATFORM|HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|"
        f"{control_id}|P|{version}|||||NLD|{charset}",
        "RF1|P^Pending^HL70283|R^Routine^HL70280|||||ZD100000001",
        "PID|1||999999990^^^NLMINBIZA^NNNLD||Testpatient^T^^^^^L",
    ]
    return ("\r".join(segments) + "\r").encode("utf-8")


def make_ack(control_id: str, code: str = "AA", *, sep: str = "\r") -> bytes:
    return (
        f"MSH|^~\\&|HIS|ZNOORD|INTEGRATOR|PLATFORM|20261120091501+0100||ACK^I12^ACK|"
        f"A{control_id}|P|2.5.1{sep}MSA|{code}|{control_id}{sep}"
    ).encode()


def msh10(message: bytes) -> str:
    """MSH-10 of a message, read independently of destinations.ack."""
    fields: list[str] = message.split(b"\r")[0].decode().split("|")
    return fields[9]


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    data = await reader.readuntil(FS_CR)
    start = data.index(VT)
    return data[start + 1 : -2]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class ScriptedServer:
    """A server whose behaviour per connection is a coroutine ``handler(reader, writer, index)``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    async def __aenter__(self) -> ScriptedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handler(reader, writer, index)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
