"""The MLLP client on real loopback sockets: our receiver, and servers that misbehave."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from destinations.ack import AckOutcome, classify_ack, parse_ack
from destinations.client import MllpClient
from destinations.errors import (
    AckControlIdMismatch,
    AckTimeout,
    ConnectFailed,
    ConnectionLost,
    DeliveryError,
    FrameTooLarge,
    InvalidPayload,
    MalformedAck,
)
from destinations.receiver import MllpReceiver
from tests.services import free_port

from .helpers import FS_CR, ScriptedServer, make_ack, make_message, msh10, read_frame


def client_for(port: int, *, ack_timeout: float = 0.5, max_frame_size: int = 1 << 20) -> MllpClient:
    # A generous connect timeout: these servers listen on loopback, and the one test about the
    # connect timeout makes its own client. Half a second was once too little for a loaded
    # two-core machine to accept a connection (a clean-clone run failed on it).
    return MllpClient(
        "127.0.0.1",
        port,
        connect_timeout=10,
        ack_timeout=ack_timeout,
        max_frame_size=max_frame_size,
    )


def framed(payload: bytes) -> bytes:
    return b"\x0b" + payload + FS_CR


async def ack_immediately(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        message = await read_frame(reader)
        writer.write(framed(make_ack(msh10(message))))
        await writer.drain()


async def test_many_messages_reuse_one_connection() -> None:
    async with MllpReceiver() as receiver, client_for(receiver.port) as client:
        assert not client.connected  # opened lazily
        for i in range(200):
            ack = parse_ack(await client.send(make_message(f"M{i}")))
            assert classify_ack(ack, f"M{i}") is AckOutcome.DELIVERED
            assert client.connected
    assert receiver.connection_count == 1
    assert client.connection_count == 1
    assert receiver.message_count == 200
    assert not client.connected


async def test_concurrent_sends_are_serialised_and_each_gets_its_own_ack() -> None:
    async with MllpReceiver() as receiver, client_for(receiver.port) as client:
        ids = [f"C{i}" for i in range(50)]
        acks = await asyncio.gather(*(client.send(make_message(i)) for i in ids))
    assert [parse_ack(a).control_id for a in acks] == ids
    assert receiver.connection_count == 1


async def test_error_and_reject_acks_are_returned_for_classification() -> None:
    async with MllpReceiver(ack_code="AE") as receiver, client_for(receiver.port) as client:
        error = parse_ack(await client.send(make_message("E1")))
        receiver.ack_code = "AR"
        reject = parse_ack(await client.send(make_message("R1")))
    assert classify_ack(error, "E1") is AckOutcome.RETRY
    assert classify_ack(reject, "R1") is AckOutcome.DEADLETTER
    assert receiver.connection_count == 1  # a negative ACK is still a valid exchange


async def test_nothing_listening_is_connect_failed() -> None:
    port = free_port()
    client = client_for(port)
    with pytest.raises(ConnectFailed, match=f"127.0.0.1:{port}") as info:
        await client.send(make_message("M1"))
    assert info.value.retryable
    assert isinstance(info.value.__cause__, OSError)
    assert "M1" not in str(info.value)
    assert not client.connected


async def test_connect_timeout_is_connect_failed() -> None:
    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        await asyncio.sleep(10)  # accepts TCP, never answers the TLS handshake

    context = ssl.create_default_context()
    async with ScriptedServer(silent) as server:
        client = MllpClient(
            "127.0.0.1", server.port, connect_timeout=0.2, ack_timeout=0.2, ssl_context=context
        )
        # TCP connected: the handshake is what timed out, and the error says so.
        with pytest.raises(ConnectFailed, match=r"TLS handshake with .* no answer within 0\.2s"):
            await client.send(make_message("M1"))
    assert not client.connected


async def test_server_closing_without_answer_is_connection_lost() -> None:
    async def close_at_once(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        if index == 0:
            await read_frame(reader)
            return  # the connection closes without an ACK
        await ack_immediately(reader, writer)

    async with ScriptedServer(close_at_once) as server, client_for(server.port) as client:
        with pytest.raises(ConnectionLost, match="before the ACK") as info:
            await client.send(make_message("M1"))
        assert info.value.retryable
        assert not client.connected
        assert parse_ack(await client.send(make_message("M2"))).control_id == "M2"
    assert server.connections == 2


async def test_server_closing_mid_frame_is_connection_lost() -> None:
    async def half_ack(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        message = await read_frame(reader)
        writer.write(framed(make_ack(msh10(message)))[:20])
        await writer.drain()

    async with ScriptedServer(half_ack) as server, client_for(server.port) as client:
        with pytest.raises(ConnectionLost):
            await client.send(make_message("M1"))


async def test_late_ack_is_never_read_as_the_next_answer() -> None:
    async def slow_first(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        if index == 0:
            message = await read_frame(reader)
            await asyncio.sleep(0.3)  # past the client's ack_timeout
            writer.write(framed(make_ack(msh10(message))))
            await writer.drain()
            return
        await ack_immediately(reader, writer)

    async with (
        ScriptedServer(slow_first) as server,
        client_for(server.port, ack_timeout=0.1) as client,
    ):
        with pytest.raises(AckTimeout, match=r"no ACK within 0\.1s") as info:
            await client.send(make_message("LATE"))
        assert info.value.retryable
        assert not client.connected
        ack = parse_ack(await client.send(make_message("NEXT")))
        assert ack.control_id == "NEXT"
        await asyncio.sleep(0.3)  # the late ACK has now been written by the server...
        ack = parse_ack(await client.send(make_message("THIRD")))
        assert ack.control_id == "THIRD"  # ...and still never reached us
    assert server.connections == 2
    assert client.connection_count == 2


async def test_duplicate_ack_in_the_same_chunk_forces_a_new_connection() -> None:
    async def double(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        while True:
            message = await read_frame(reader)
            writer.write(framed(make_ack(msh10(message))) * 2)
            await writer.drain()

    async with ScriptedServer(double) as server, client_for(server.port) as client:
        assert parse_ack(await client.send(make_message("M1"))).control_id == "M1"
        assert parse_ack(await client.send(make_message("M2"))).control_id == "M2"
    assert server.connections == 2


async def test_unsolicited_data_while_idle_forces_a_new_connection() -> None:
    async def echo_later(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        while True:
            message = await read_frame(reader)
            writer.write(framed(make_ack(msh10(message))))
            await writer.drain()
            await asyncio.sleep(0.02)
            writer.write(framed(make_ack(msh10(message))))  # duplicate, after the fact
            await writer.drain()

    async with ScriptedServer(echo_later) as server, client_for(server.port) as client:
        assert parse_ack(await client.send(make_message("M1"))).control_id == "M1"
        await asyncio.sleep(0.1)
        assert parse_ack(await client.send(make_message("M2"))).control_id == "M2"
    assert server.connections == 2


async def test_idle_connection_closed_by_server_is_reopened_without_error() -> None:
    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        message = await read_frame(reader)
        writer.write(framed(make_ack(msh10(message))))
        await writer.drain()

    async with ScriptedServer(one_per_connection) as server, client_for(server.port) as client:
        for i in range(3):
            assert parse_ack(await client.send(make_message(f"M{i}"))).control_id == f"M{i}"
            await asyncio.sleep(0.05)  # let the close arrive
    assert server.connections == 3


async def test_unframed_garbage_is_ignored_until_the_timeout() -> None:
    async def garbage(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        await read_frame(reader)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async with (
        ScriptedServer(garbage) as server,
        client_for(server.port, ack_timeout=0.2) as client,
    ):
        with pytest.raises(AckTimeout):
            await client.send(make_message("M1"))


async def test_framed_garbage_is_returned_and_refused_by_the_ack_parser() -> None:
    async def garbage(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        await read_frame(reader)
        writer.write(framed(b"\x00\xffnonsense"))
        await writer.drain()
        await asyncio.sleep(1)

    async with ScriptedServer(garbage) as server, client_for(server.port) as client:
        raw = await client.send(make_message("M1"))
        with pytest.raises(MalformedAck):
            parse_ack(raw)


async def test_ack_for_another_message_is_a_mismatch() -> None:
    async def wrong_id(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        await read_frame(reader)
        writer.write(framed(make_ack("SOMEONE-ELSE")))
        await writer.drain()
        await asyncio.sleep(1)

    async with ScriptedServer(wrong_id) as server, client_for(server.port) as client:
        ack = parse_ack(await client.send(make_message("M1")))
        with pytest.raises(AckControlIdMismatch):
            classify_ack(ack, "M1")


async def test_oversized_ack_frame_is_frame_too_large_and_closes() -> None:
    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int) -> None:
        await read_frame(reader)
        writer.write(b"\x0b" + b"A" * 5000)
        await writer.drain()
        await asyncio.sleep(1)

    async with ScriptedServer(huge) as server:
        client = client_for(server.port, max_frame_size=1000)
        with pytest.raises(FrameTooLarge):
            await client.send(make_message("M1"))
        assert not client.connected


async def test_payload_with_control_bytes_is_refused_before_connecting() -> None:
    client = client_for(free_port())
    with pytest.raises(InvalidPayload) as info:
        await client.send(b"MSH|^~\\&|\x1c")
    assert not info.value.retryable
    assert client.connection_count == 0


async def test_cancelled_send_closes_the_connection() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int) -> None:
        if index == 0:
            await read_frame(reader)
            await asyncio.sleep(10)
        await ack_immediately(reader, writer)

    async with ScriptedServer(never) as server, client_for(server.port, ack_timeout=5) as client:
        task = asyncio.create_task(client.send(make_message("M1")))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.connected
        assert parse_ack(await client.send(make_message("M2"))).control_id == "M2"


async def test_close_then_send_reconnects() -> None:
    async with MllpReceiver() as receiver:
        client = client_for(receiver.port)
        await client.send(make_message("M1"))
        await client.close()
        await client.close()  # twice is harmless
        assert not client.connected
        await client.send(make_message("M2"))
        await client.close()
    assert receiver.connection_count == 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="port"):
        MllpClient("127.0.0.1", 70000, connect_timeout=1, ack_timeout=1)
    with pytest.raises(ValueError, match="positive"):
        MllpClient("127.0.0.1", 1, connect_timeout=0, ack_timeout=1)
    with pytest.raises(ValueError, match="ssl_context"):
        MllpClient("127.0.0.1", 1, connect_timeout=1, ack_timeout=1, server_hostname="h")
    with pytest.raises(ValueError, match="host"):
        MllpClient("", 1, connect_timeout=1, ack_timeout=1)


def test_every_failure_is_a_delivery_error() -> None:
    for error in (ConnectFailed, ConnectionLost, AckTimeout, MalformedAck, FrameTooLarge):
        assert issubclass(error, DeliveryError)


def test_client_and_receiver_work_on_uvloop() -> None:
    """``integrator run`` uses uvloop, whose transports are not ``asyncio.Transport``
    subclasses; a type check there once left every send without a transport."""
    uvloop = pytest.importorskip("uvloop")

    async def exchange() -> tuple[list[str], int, int]:
        async with MllpReceiver() as receiver, client_for(receiver.port) as client:
            codes = [parse_ack(await client.send(make_message(f"U{i}"))).code for i in range(20)]
            return codes, receiver.message_count, client.connection_count

    codes, received, connections = uvloop.run(exchange())
    assert codes == ["AA"] * 20
    assert received == 20
    assert connections == 1
