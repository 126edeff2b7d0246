"""The tests' cuttable proxy keeps its port while cut, so its restore cannot find it taken.

A clean-clone CI run failed once with ``EADDRINUSE`` at a restore: the port, left free while
cut, had been handed to another test's outgoing connection as its local port.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.deploy.proxy import CuttableProxy


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.read(100))
    await writer.drain()
    writer.close()


async def through(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping")
    await writer.drain()
    answer = await reader.read(100)
    writer.close()
    return answer


def bind(port: int, *, reuse: bool = False) -> None:
    """Bind ``port`` as anything else on the machine would (raises while it is taken);
    ``reuse``: as a server does, past the connections that just closed on it (TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


async def test_a_cut_proxy_refuses_connections_and_keeps_its_port_until_closed() -> None:
    target = await asyncio.start_server(echo, "127.0.0.1", 0)
    proxy = CuttableProxy("127.0.0.1", target.sockets[0].getsockname()[1])
    try:
        port = await proxy.start()  # no connection through it yet: nothing lingers on it

        await proxy.cut()
        with pytest.raises(ConnectionRefusedError):
            await through(port)
        with pytest.raises(OSError, match="in use"):
            bind(port)  # held: nothing else can have it meanwhile

        await proxy.restore()
        assert proxy.port == port
        assert await through(port) == b"ping"

        await proxy.close()
        with pytest.raises(ConnectionRefusedError):
            await through(port)
        bind(port, reuse=True)  # given back
    finally:
        await proxy.close()
        target.close()
        await target.wait_closed()
