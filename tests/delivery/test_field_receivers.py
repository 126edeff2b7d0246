"""End to end (engine + real sockets) against receivers as they are met in the field."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from tests.delivery.misbehaving import FS_CR, VT, ack_for, control_id_of
from tests.delivery.support import DEST, assert_acks_matched, messages, start_engine, submit


class Receiver:
    """A receiver on loopback whose every connection ``serve`` handles."""

    def __init__(self) -> None:
        self.received: list[tuple[str, int]] = []  # control id, connection
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self.serve(reader, writer, number)
        writer.close()

    async def read(self, reader: asyncio.StreamReader, number: int) -> bytes:
        data = await reader.readuntil(FS_CR)
        message = data[data.index(VT) + 1 : -2]
        self.received.append((control_id_of(message), number))
        return message

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        raise NotImplementedError


class ClosingReceiver(Receiver):
    """Answers one message per connection with AA and closes it straight after the ACK, as
    an interface engine set not to keep connections open does."""

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        message = await self.read(reader, number)
        writer.write(VT + ack_for(message, "AA") + FS_CR)
        await writer.drain()


class CommitThenApplicationReceiver(Receiver):
    """Answers each message with CA at once and with AA later, even in original mode: the AA
    of one message comes once the next one was sent, just before that one's CA."""

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        earlier: bytes | None = None
        while True:
            message = await self.read(reader, number)
            if earlier is not None:
                writer.write(VT + ack_for(earlier, "AA") + FS_CR)
            writer.write(VT + ack_for(message, "CA") + FS_CR)
            await writer.drain()
            earlier = message


class UnaskedMessageReceiver(Receiver):
    """Sends a message of its own (an ADT^A08 about another patient) before each ACK."""

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        while True:
            message = await self.read(reader, number)
            writer.write(VT + ADT_A08 + FS_CR)
            writer.write(VT + ack_for(message, "AA") + FS_CR)
            await writer.drain()


ADT_A08 = (
    b"MSH|^~\\&|HIS|ZNOORD|INTEGRATOR|PLATFORM|20261127120000+0100||ADT^A08^ADT_A01|H1|P|2.5.1\r"
    b"PID|1||999999990^^^NLMINBIZA^NNNLD||Anderepatient^A^^^^^L\r"
)


async def test_a_receiver_closing_after_every_ack_takes_each_message_at_the_first_attempt(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Ten messages took 16 s, nine of them with a failed attempt ("connection closed before
    the ACK arrived") and a retry's backoff: each was written on the kept connection before
    the receiver's FIN was read. Now the client writes it again on a new connection."""
    async with ClosingReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="5s")
        try:
            ids = await submit(engine, referral_data, 10)
            assert await engine.wait_settled(timeout=30)
            found = await messages(engine, ids)
            assert [m.status for m in found] == ["delivered"] * 10
            for message in found:
                attempts = await engine.store.list_attempts(message.id)
                assert [(a.outcome, a.error) for a in attempts] == [("delivered", None)]
            # Each reached the receiver once, and in order (fifo).
            assert [cid for cid, _ in receiver.received] == [m.control_id for m in found]
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


async def test_a_late_application_ack_after_the_commit_ack_fails_no_message(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The late AA of one message arrived after the next was sent, was read as its answer
    (AckControlIdMismatch), and that message was sent twice. Now the AA is skipped."""
    async with CommitThenApplicationReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="5s")
        try:
            ids = await submit(engine, referral_data, 5)
            assert await engine.wait_settled(timeout=30)
            found = await messages(engine, ids)
            for message in found:
                attempts = await engine.store.list_attempts(message.id)
                assert [(a.outcome, a.ack_code) for a in attempts] == [("delivered", "CA")]
            assert [cid for cid, _ in receiver.received] == [m.control_id for m in found]
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


async def test_a_message_the_receiver_sends_before_each_ack_dead_letters_none(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Read as the answer ("ACK has no MSA segment"), the ADT^A08 failed every attempt, and
    messages the receiver had taken became dead letters. Now it is skipped."""
    async with UnaskedMessageReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="5s")
        try:
            ids = await submit(engine, referral_data, 3)
            assert await engine.wait_settled(timeout=30)
            found = await messages(engine, ids)
            assert [m.status for m in found] == ["delivered"] * 3
            for message in found:
                [attempt] = await engine.store.list_attempts(message.id)
                assert (attempt.outcome, attempt.ack_code) == ("delivered", "AA")
                assert attempt.ack_bytes is not None and b"ADT" not in attempt.ack_bytes
            assert [cid for cid, _ in receiver.received] == [m.control_id for m in found]
            await assert_acks_matched(engine, ids)
        finally:
            await engine.stop()


class CommitThenApplicationErrorReceiver(Receiver):
    """Enhanced mode: a CA at once, then an AE (the receiver took the message, then refused
    it)."""

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        while True:
            message = await self.read(reader, number)
            writer.write(VT + ack_for(message, "CA") + FS_CR)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(VT + ack_for(message, "AE") + FS_CR)
            await writer.drain()


async def test_a_test_message_waits_for_the_application_ack_as_a_delivery_does(
    tmp_path: Path,
) -> None:
    """``destinations test`` took the CA for the answer and said "delivered" where a delivery
    of the same message, waiting for the AE that followed, would have failed the attempt
    (docs/product.md §5, enhanced acknowledgement mode)."""
    async with CommitThenApplicationErrorReceiver() as receiver:
        engine = await start_engine(
            tmp_path,
            receiver.port,
            ack_timeout="5s",
            ack_mode="enhanced",
            accept_ack_type="AL",
            application_ack_type="AL",
        )
        try:
            result = await engine.admin.test(DEST)
            assert (result.ack_code, result.outcome) == ("CA/AE", "retry")
            assert result.ack is not None and "MSA|AE|" in result.ack
        finally:
            await engine.stop()


async def test_a_test_message_skips_a_message_the_receiver_sends_unasked(
    tmp_path: Path,
) -> None:
    """The ADT^A08 a receiver sends before its ACK was the test's answer: "failed", "ACK has
    no MSA segment", for a receiver that takes every message."""
    async with UnaskedMessageReceiver() as receiver:
        engine = await start_engine(tmp_path, receiver.port, ack_timeout="5s")
        try:
            result = await engine.admin.test(DEST)
            assert (result.ack_code, result.outcome, result.error) == ("AA", "delivered", None)
            assert result.ack is not None and "ADT" not in result.ack
        finally:
            await engine.stop()


async def test_a_test_message_shows_the_commit_ack_that_came_before_no_application_ack(
    tmp_path: Path,
) -> None:
    """Enhanced mode, a ``CA`` and then no application ACK: ``destinations test`` said
    "failed" with no ACK at all, where a delivery's attempt keeps the ``CA`` that came."""
    from destinations.receiver import MllpReceiver

    async with MllpReceiver(application_delay=5.0) as receiver:
        engine = await start_engine(
            tmp_path,
            receiver.port,
            ack_timeout="1s",
            ack_mode="enhanced",
            accept_ack_type="AL",
            application_ack_type="AL",
        )
        try:
            result = await engine.admin.test(DEST)
            assert (result.ack_code, result.outcome) == ("CA", "failed")
            assert result.error is not None and "application ACK" in result.error
            assert result.ack is not None and "MSA|CA|" in result.ack
        finally:
            await engine.stop()
