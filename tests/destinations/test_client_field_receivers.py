"""The MLLP client against receivers and networks as they are met in the field, on real
loopback sockets: a receiver that closes the connection after every ACK; TCP keepalive for the
firewalls that forget quiet connections."""

from __future__ import annotations

import asyncio
import socket

import pytest
from structlog.testing import capture_logs

from destinations.ack import parse_ack
from destinations.client import (
    KEEPALIVE_IDLE,
    KEEPALIVE_INTERVAL,
    KEEPALIVE_PROBES,
    MllpClient,
)
from destinations.errors import ConnectionLost
from destinations.receiver import MllpReceiver

from .helpers import FS_CR, ScriptedServer, make_ack, make_message, msh10, read_frame


def client_for(port: int, *, ack_timeout: float = 2.0) -> MllpClient:
    return MllpClient("127.0.0.1", port, connect_timeout=10, ack_timeout=ack_timeout)


def framed(payload: bytes) -> bytes:
    return b"\x0b" + payload + FS_CR


class Closing:
    """A receiver that answers one message per connection and closes it straight after the
    ACK (an interface engine set not to keep connections open); ``received`` lists the
    control ids it read, with the connection each came on."""

    def __init__(self) -> None:
        self.received: list[tuple[str, int]] = []

    async def __call__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        message = await read_frame(reader)
        self.received.append((msh10(message), index))
        writer.write(framed(make_ack(msh10(message))))
        await writer.drain()


async def test_a_receiver_closing_after_every_ack_gets_every_message_at_the_first_send() -> None:
    """The next message went out on the kept connection before the receiver's FIN was read,
    and failed with "connection closed before the ACK arrived": each one then waited out a
    retry's backoff. Now it is written again on a new connection, in the same send."""
    receiver = Closing()
    async with ScriptedServer(receiver) as server, client_for(server.port) as client:
        with capture_logs() as logs:
            for i in range(10):
                ack = parse_ack(await client.send(make_message(f"K{i}")))
                assert ack.control_id == f"K{i}"
    # Each message reached the receiver once, each on a connection of its own.
    assert [cid for cid, _ in receiver.received] == [f"K{i}" for i in range(10)]
    assert len({index for _, index in receiver.received}) == 10
    resent = [e for e in logs if e["event"].startswith("kept connection closed")]
    assert all(e["where"] == f"127.0.0.1:{server.port}" for e in resent)
    assert all("K" not in str(e) for e in resent)  # no control id, nothing of the message


async def test_a_connection_opened_for_the_send_is_never_written_twice() -> None:
    """Lost on a new connection, the message is not sent again: that is the send's error
    (and the worker's retry, after its backoff)."""
    received: list[int] = []

    async def answer_once_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        while True:
            message = await read_frame(reader)
            received.append(index)
            if index > 0:
                return  # read, never answered
            writer.write(framed(make_ack(msh10(message))))
            await writer.drain()
            await asyncio.sleep(0.05)
            return  # closes the kept connection while the client is idle... or not yet

    async with (
        ScriptedServer(answer_once_then_hang_up) as server,
        client_for(server.port) as client,
    ):
        await client.send(make_message("M1"))
        await asyncio.sleep(0.2)  # the close has arrived: the next send opens a connection
        with pytest.raises(ConnectionLost, match="before the ACK"):
            await client.send(make_message("M2"))
    assert received == [0, 1]


async def test_a_kept_connection_lost_and_its_replacement_lost_too_is_one_error() -> None:
    """Written once more on a new connection, and lost there too: the send fails; the
    message was written twice, never three times."""
    received: list[str] = []

    async def first_acks_then_none(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        message = await read_frame(reader)
        received.append(msh10(message))
        if index == 0:
            writer.write(framed(make_ack(msh10(message))))
            await writer.drain()
        # and close, answered or not

    async with ScriptedServer(first_acks_then_none) as server, client_for(server.port) as client:
        await client.send(make_message("M1"))
        with pytest.raises(ConnectionLost, match="before the ACK"):
            await client.send(make_message("M2"))
        assert not client.connected
    assert received == ["M1", "M2"]
    assert server.connections == 2


def _keepalive_of(client: MllpClient) -> tuple[int, ...]:
    """SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT of the client's socket."""
    protocol = client._protocol
    assert protocol is not None and protocol.transport is not None
    sock = protocol.transport.get_extra_info("socket")
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
    )


KEEPALIVE = (1, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES)


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="no TCP_KEEPIDLE here")
async def test_every_connection_has_tcp_keepalive() -> None:
    """Behind a firewall that forgets quiet connections, the first message after a quiet night
    waited ack_timeout on a connection that was gone, and failed."""
    assert (KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES) == (60, 15, 4)
    async with MllpReceiver() as receiver, client_for(receiver.port) as client:
        await client.send(make_message("M1"))
        assert _keepalive_of(client) == KEEPALIVE
        await client.close()
        await client.send(make_message("M2"))  # a new connection has them too
        assert _keepalive_of(client) == KEEPALIVE


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="no TCP_KEEPIDLE here")
def test_tcp_keepalive_on_uvloop() -> None:
    """``integrator run`` uses uvloop, whose transports hand out a socket of their own."""
    uvloop = pytest.importorskip("uvloop")

    async def options() -> tuple[int, ...]:
        async with MllpReceiver() as receiver, client_for(receiver.port) as client:
            await client.send(make_message("U1"))
            return _keepalive_of(client)

    assert uvloop.run(options()) == KEEPALIVE
