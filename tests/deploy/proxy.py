"""A TCP proxy on loopback that a test can cut and restore: a service "gone" without stopping it.

The engine is pointed at the proxy instead of the real PostgreSQL or RabbitMQ. ``cut`` closes
the listening port and every connection through it, which the engine sees exactly as a server
that went away; ``restore`` listens again on the same port. ``freeze_at_next_write`` and
``thaw`` stop and start the bytes without closing anything: a connection gone half-open.
``silent``: a connection made meanwhile is taken and read, and never answered nor passed on (a
load balancer holding it, a partition just after the connect, a server still starting).
``closing``: a connection made meanwhile is taken and closed at once, unanswered (HAProxy, a
Kubernetes Service or a cloud load balancer whose server behind it is down).

While cut, the port stays bound (a socket that does not listen: connections are refused as by a
closed port), so nothing else can take it: left free, it was once handed to another test's
outgoing connection as its local port, and the restore failed (``EADDRINUSE``). ``close`` gives
it back at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket


def _bound(port: int) -> socket.socket:
    """A TCP socket bound to ``port`` on loopback (0: one the kernel picks), not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._held: socket.socket | None = None  # the port, bound while cut
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        # Frozen: no byte passes either way, every socket stays open (a half-open network: a
        # partition, a firewall's state dropped). Armed: frozen at the next chunk from the
        # client of ``_arm_at`` bytes or more (a publish with its body, not a heartbeat).
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._arm_at: int | None = None
        # Each connection's own (``freeze_open_connections``), by the writers of its two
        # directions, while they are open.
        self._gates: dict[asyncio.StreamWriter, asyncio.Event] = {}
        #: New connections are taken, read and never answered (those made before go on).
        self.silent = False
        self.silenced = 0  # connections taken so, ever
        #: New connections are taken and closed at once (those made before go on).
        self.closing = False
        self.closed_at_once = 0  # connections taken so, ever

    def freeze_at_next_write(self, at_least: int = 200) -> None:
        """Freeze the connections through the proxy when the client next writes a chunk of
        ``at_least`` bytes: that chunk is held too, its sender waiting for an answer."""
        self._arm_at = at_least

    def freeze_open_connections(self) -> None:
        """Freeze the connections through the proxy now (the next chunk either way waits);
        connections made later flow: the same client reconnecting, or another one."""
        for gate in self._gates.values():
            gate.clear()

    def thaw(self) -> None:
        self._arm_at = None
        self._flowing.set()
        for gate in self._gates.values():
            gate.set()

    @property
    def frozen(self) -> bool:
        return not self._flowing.is_set()

    async def start(self) -> int:
        sock, self._held = self._held or _bound(self.port), None
        self._server = await asyncio.start_server(self._accept, sock=sock)
        self.port = sock.getsockname()[1]
        return self.port

    async def cut(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()  # the listening socket is closed now: bind the port again at once
            self._held = _bound(self.port)
            await server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def restore_if_cut(self) -> None:
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        """Cut, and give the port back: the end of a test."""
        await self.cut()
        if self._held is not None:
            self._held.close()
            self._held = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.closing:
            self.closed_at_once += 1
            writer.close()
            return
        if self.silent:
            self._writers.add(writer)
            self.silenced += 1
            await self._swallow(reader)
            self._writers.discard(writer)
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        gate = asyncio.Event()
        gate.set()
        self._gates[writer] = self._gates[up_writer] = gate
        for src, dst, upstream in ((reader, up_writer, True), (up_reader, writer, False)):
            task = asyncio.create_task(self._pipe(src, dst, upstream))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _swallow(reader: asyncio.StreamReader) -> None:
        """Read what comes until the client closes (or ``cut`` aborts it); answer nothing."""
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool = False
    ) -> None:
        gate = self._gates.get(dst)
        try:
            while data := await src.read(65536):
                if upstream and self._arm_at is not None and len(data) >= self._arm_at:
                    self._arm_at = None
                    self._flowing.clear()
                await self._flowing.wait()
                if gate is not None:
                    await gate.wait()
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(dst)
            self._gates.pop(dst, None)
            with contextlib.suppress(OSError, RuntimeError):
                dst.close()
