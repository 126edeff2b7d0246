"""A misbehaving MLLP receiver for end-to-end delivery tests.

Each received message consumes the next behaviour of ``script`` (then ``default``), across
connections, so a test can say "time out once, then acknowledge". Written with asyncio streams
and its own framing (not ``destinations.mllp``), so the engine is tested against an independent
implementation. Everything sent is logged per message so tests can prove which ACK went where.

Behaviours: ``ok`` (AA); an ACK code, or several joined by ``+`` (``CA+AA``: one frame each);
``refuse`` (drop the connection before reading); ``close_mid_frame`` (half an ACK, then
close); ``delay:<s>`` (AA after s seconds); ``drop`` (never answer); ``wrong_id`` (MSA-2 of
another message); ``garbage`` (a frame that is not HL7); ``double`` (two AA for one message);
``hold`` (AA once ``answer`` is set: a receiver as slow as the test wants, without a timer);
``unframed`` (an AA without MLLP's frame) and ``unended`` (an AA frame never ended);
``AE_nul`` (an AE whose text, MSA-3, holds a NUL).
``byte_by_byte=True`` reads the stream one byte per read.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

VT, FS_CR = b"\x0b", b"\x1c\x0d"
_CODES = ("AA", "AE", "AR", "CA", "CE", "CR")


def control_id_of(message: bytes) -> str:
    return message.split(b"\r", 1)[0].decode("latin-1").split("|")[9]


def ack_for(message: bytes, code: str, *, control_id: str | None = None) -> bytes:
    msh = message.split(b"\r", 1)[0].decode("latin-1").split("|")
    mid = control_id if control_id is not None else msh[9]
    return (
        f"MSH|^~\\&|{msh[4]}|{msh[5]}|{msh[2]}|{msh[3]}|20261127120000+0100||ACK|"
        f"R{mid[:19]}|P|{msh[11]}\rMSA|{code}|{mid}\r"
    ).encode()


@dataclass
class Received:
    control_id: str
    behaviour: str
    connection: int
    sent: list[bytes] = field(default_factory=list)  # ACK frames written for this message


class MisbehavingReceiver:
    def __init__(
        self, script: list[str] | None = None, *, default: str = "ok", byte_by_byte: bool = False
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.byte_by_byte = byte_by_byte
        self.log: list[Received] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.answer = asyncio.Event()  # what ``hold`` waits for

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> MisbehavingReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def received_ids(self) -> list[str]:
        return [r.control_id for r in self.log]

    def _next(self) -> str:
        return self.script.pop(0) if self.script else self.default

    async def _read_frame(self, reader: asyncio.StreamReader) -> bytes:
        if not self.byte_by_byte:
            data = await reader.readuntil(FS_CR)
        else:
            data = b""
            while not data.endswith(FS_CR):
                chunk = await reader.read(1)
                if not chunk:
                    raise asyncio.IncompleteReadError(data, None)
                data += chunk
        return data[data.index(VT) + 1 : -2]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.script and self.script[0] == "refuse":
                self.script.pop(0)
                writer.transport.abort()
                return
            while True:
                message = await self._read_frame(reader)
                behaviour = self._next()
                entry = Received(control_id_of(message), behaviour, number)
                self.log.append(entry)
                if not await self._answer(message, behaviour, entry, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _answer(
        self, message: bytes, behaviour: str, entry: Received, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer as ``behaviour`` says; False when the connection is to be closed."""
        frames: list[bytes] = []
        if behaviour == "ok":
            frames = [ack_for(message, "AA")]
        elif all(code in _CODES for code in behaviour.split("+")):
            frames = [ack_for(message, code) for code in behaviour.split("+")]
        elif behaviour == "refuse":
            writer.transport.abort()
            return False
        elif behaviour == "wrong_id":
            frames = [ack_for(message, "AA", control_id="SOMEONE-ELSE")]
        elif behaviour == "garbage":
            frames = [b"this is not HL7 at all"]
        elif behaviour == "AE_nul":
            frames = [ack_for(message, "AE").removesuffix(b"\r") + b"|bad\x00value\r"]
        elif behaviour == "double":
            frames = [ack_for(message, "AA"), ack_for(message, "AA")]
        elif behaviour == "drop":
            return True
        elif behaviour == "close_mid_frame":
            half = VT + ack_for(message, "AA")[:20]
            entry.sent.append(half)
            writer.write(half)
            await writer.drain()
            return False
        elif behaviour == "hold":
            await self.answer.wait()
            frames = [ack_for(message, "AA")]
        elif behaviour in ("unframed", "unended"):  # a receiver's framing mistakes
            answer = ack_for(message, "AA")
            written = answer if behaviour == "unframed" else VT + answer
            entry.sent.append(written)
            writer.write(written)
            await writer.drain()
            return True
        elif behaviour.startswith("delay:"):
            await asyncio.sleep(float(behaviour.split(":", 1)[1]))
            frames = [ack_for(message, "AA")]
        else:
            raise ValueError(f"unknown behaviour {behaviour}")
        for payload in frames:
            entry.sent.append(payload)
            writer.write(VT + payload + FS_CR)
        await writer.drain()
        return True
