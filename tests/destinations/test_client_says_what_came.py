"""What a failed connection or answer is said as, when something did happen: TCP connected but
the TLS handshake got no answer; the receiver sent part of an answer and then closed. Each was
said as if nothing had happened ("connect … timed out", "connection closed before the ACK
arrived"), pointing support at the network instead of at TLS or at the receiver's framing.
On loopback, against servers written with asyncio streams."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from destinations.client import MllpClient
from destinations.config import destination_from_mapping
from destinations.errors import ConnectFailed, ConnectionLost

from .helpers import VT, ScriptedServer, make_ack, make_message, read_frame

TLS_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
"""A TLS handshake-failure alert record: what a TLS listener answers plain MLLP with."""


async def _plain_and_silent(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
) -> None:
    """A plain MLLP receiver's view of a ClientHello: bytes outside a frame, read and
    ignored while it waits for a frame that never comes."""
    while await reader.read(4096):
        pass


def _tls_destination(port: int) -> MllpClient:
    """A client for a destination whose file sets ``tls`` (the system's trust store: the
    handshake never gets as far as a certificate)."""
    config = destination_from_mapping(
        {
            "id": "tls-to-plain",
            "name": "TLS to a plain receiver",
            "host": "127.0.0.1",
            "port": port,
            "messages": {"referral": "ref-v2"},
            "connect_timeout": "300ms",
            "ack_timeout": "1s",
            "tls": {"server_name": "localhost"},
        },
        source="test",
    )
    assert config.tls is not None
    return MllpClient.for_destination(config)


async def _handshake_unanswered() -> tuple[str, int]:
    async with ScriptedServer(_plain_and_silent) as server:
        client = _tls_destination(server.port)
        with pytest.raises(ConnectFailed) as info:
            await client.send(make_message("T1"))
        assert not client.connected
        return str(info.value), server.port


async def test_a_tls_handshake_without_an_answer_says_so_not_connect_timed_out() -> None:
    said, port = await _handshake_unanswered()
    assert said == (
        f"TLS handshake with 127.0.0.1:{port} got no answer within 0.3s "
        "(does the receiver speak TLS on this port?)"
    )


def test_the_handshake_without_an_answer_is_said_on_uvloop_too() -> None:
    """``integrator run`` uses uvloop, whose TLS transport is its own."""
    uvloop = pytest.importorskip("uvloop")
    said, _ = uvloop.run(_handshake_unanswered())
    assert said.startswith("TLS handshake with 127.0.0.1:") and "no answer within 0.3s" in said


async def test_a_connect_that_does_not_finish_still_says_connect_timed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TCP itself not connecting in time (a firewall dropping the SYN) keeps its own words."""
    loop = asyncio.get_running_loop()

    async def never(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(10)

    monkeypatch.setattr(loop, "create_connection", never)
    client = MllpClient(
        "192.0.2.1",
        2575,
        connect_timeout=0.1,
        ack_timeout=1,
        ssl_context=ssl.create_default_context(),
    )
    with pytest.raises(ConnectFailed) as info:
        await client.send(make_message("T1"))
    assert str(info.value) == "connect to 192.0.2.1:2575 timed out after 0.1s"


def _answering_then_closing(sent: bytes) -> ScriptedServer:
    """A receiver that reads one message, writes ``sent`` and closes the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_frame(reader)
        writer.write(sent)
        await writer.drain()

    return ScriptedServer(handle)


async def _closed_after(sent: bytes) -> ConnectionLost:
    async with _answering_then_closing(sent) as server:
        client = MllpClient("127.0.0.1", server.port, connect_timeout=10, ack_timeout=5)
        with pytest.raises(ConnectionLost) as info:
            await client.send(make_message("C1"))
        assert not client.connected
    return info.value


async def test_half_an_ack_then_a_close_says_the_frame_never_ended() -> None:
    half = VT + make_ack("C1")[:36]
    lost = await _closed_after(half)
    assert str(lost) == (
        "connection closed before the ACK arrived: an MLLP frame of 37 bytes began but never "
        "ended (no 0x1C 0x0D end block)"
    )
    assert lost.retryable


async def test_bytes_outside_a_frame_then_a_close_are_counted() -> None:
    """A TLS listener where the destination has plain MLLP answers with an alert, and closes."""
    lost = await _closed_after(TLS_ALERT)
    assert str(lost) == (
        "connection closed before the ACK arrived: 7 bytes came outside an MLLP frame "
        "(no 0x0B start block before them)"
    )


async def test_a_close_with_nothing_said_is_said_as_before() -> None:
    lost = await _closed_after(b"")
    assert str(lost) == "connection closed before the ACK arrived"
