"""The client against python-hl7's asyncio MLLP server, an implementation we did not write."""

from __future__ import annotations

import asyncio

import hl7
from hl7.mllp import HL7StreamReader, HL7StreamWriter, start_hl7_server

from destinations.ack import AckOutcome, classify_ack, parse_ack
from destinations.client import MllpClient

from .helpers import make_message


async def test_client_against_python_hl7_server() -> None:
    connections = 0

    async def handle(reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                writer.writemessage(message.create_ack())
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    server = await start_hl7_server(handle, "127.0.0.1", 0, encoding="utf-8")
    port = server.sockets[0].getsockname()[1]
    try:
        async with MllpClient("127.0.0.1", port, connect_timeout=0.5, ack_timeout=0.5) as client:
            for i in range(20):
                ack = parse_ack(await client.send(make_message(f"T{i}")))
                assert classify_ack(ack, f"T{i}") is AckOutcome.DELIVERED
                # python-hl7 mirrors the header its own way; read it with python-hl7 too.
                header = hl7.parse(ack.raw.decode()).segment("MSH")
                assert str(header(9)) == "ACK^I12^ACK"
                assert str(header(3)) == "HIS"
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 1
