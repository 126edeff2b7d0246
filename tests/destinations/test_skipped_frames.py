"""Frames that answer no message sent now, on real loopback sockets (client and worker): a late
answer to a message settled earlier on the connection, a message the receiver sends unasked.
Each is skipped, never matched to the message waiting for its answer, and the wait goes on
within the same ``ack_timeout``."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime

from structlog.testing import capture_logs

from destinations.client import MllpClient
from destinations.retry import RetryPolicy
from destinations.worker import (
    AckPolicy,
    AttemptResult,
    DeliveryWorker,
    LateAnswer,
    OutboundMessage,
)

from .helpers import FS_CR, ScriptedServer, make_ack, make_message, msh10, read_frame


class Sink:
    """Keeps the attempts, and the codes of the answers not taken for having come late (as
    the engine's metric counts them: ``destinations.worker.CountsLateAnswers``)."""

    def __init__(self) -> None:
        self.results: list[AttemptResult] = []
        self.late: list[str] = []
        self.answers: list[LateAnswer] = []

    async def record(self, result: AttemptResult) -> None:
        self.results.append(result)

    def late_answer(self, answer: LateAnswer) -> None:
        self.late.append(answer.code)
        self.answers.append(answer)


def outbound(control_id: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"m-{control_id}",
        destination_id="d",
        control_id=control_id,
        payload=make_message(control_id),
        created_at=datetime.now(UTC),
    )


async def deliver_all(
    port: int, control_ids: list[str], *, ack_timeout: float = 2.0, pause: float = 0.0
) -> Sink:
    """Deliver each message in turn, as a destination's worker does (fifo); ``pause``: seconds
    between messages, in which the connection goes quiet."""
    sink = Sink()
    sender = MllpClient("127.0.0.1", port, connect_timeout=5, ack_timeout=ack_timeout)
    deliverer = DeliveryWorker(
        "d",
        sender=sender,
        sink=sink,
        retry=RetryPolicy(initial=0.01, max_delay=0.01, max_attempts=3),
        ack_policy=AckPolicy(),
        clock=lambda: datetime.now(UTC),
        rng=random.Random(1),
    )
    try:
        for control_id in control_ids:
            await deliverer.deliver(outbound(control_id))
            if pause:
                await asyncio.sleep(pause)
    finally:
        await sender.close()
    return sink


def framed(payload: bytes) -> bytes:
    return b"\x0b" + payload + FS_CR


def attempts(sink: Sink) -> list[tuple[str, str, str | None]]:
    return [(r.message_id, r.outcome, r.ack_code) for r in sink.results]


class CommitThenApplication:
    """A receiver that answers each message with ``CA`` at once and with ``AA`` later, even in
    original mode: the ``AA`` of one message comes when the next one has been sent, just before
    that one's ``CA``."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def __call__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        earlier: str | None = None
        while True:
            control_id = msh10(await read_frame(reader))
            self.received.append(control_id)
            if earlier is not None:
                writer.write(framed(make_ack(earlier, "AA")))  # late: the earlier one's AA
            writer.write(framed(make_ack(control_id, "CA")))
            await writer.drain()
            earlier = control_id


async def test_a_late_application_ack_of_the_previous_message_is_skipped() -> None:
    """The late AA of message k arrived after k+1 was sent and was read as k+1's answer
    (AckControlIdMismatch): k+1 failed and was sent twice. Now it is skipped."""
    receiver = CommitThenApplication()
    ids = [f"L{i}" for i in range(5)]
    async with ScriptedServer(receiver) as server:
        with capture_logs() as logs:
            sink = await deliver_all(server.port, ids)
    assert attempts(sink) == [(f"m-{i}", "delivered", "CA") for i in ids]
    assert receiver.received == ids  # each sent once
    assert server.connections == 1
    # Only the answer is kept with the attempt: the late AA is about another message (and
    # very likely another patient), said in the log by the MSH-10 it answers.
    second = sink.results[1].ack_bytes
    assert second is not None
    assert re.findall(rb"MSA\|(\w+)\|(\w+)", second) == [(b"CA", b"L1")]
    skipped = [e for e in logs if e["event"] == "skipped a late answer to an earlier message"]
    assert [(e["message_id"], e["answers_control_id"]) for e in skipped] == [
        (f"m-{ids[i + 1]}", ids[i]) for i in range(4)
    ]
    # Each handed on with the message it answers (kept with it: ``integrator.late_answers``).
    assert [(a.message_id, a.code, a.how) for a in sink.answers] == [
        (f"m-{ids[i]}", "AA", "skipped") for i in range(4)
    ]
    assert all(e["message_type"] == "ACK^I12" and e["ack_code"] == "AA" for e in skipped)
    assert all(e["log_level"] == "info" for e in skipped)  # a late AA is routine
    assert sink.late == ["AA"] * 4  # and counted, by its code


async def test_a_late_answer_and_then_none_says_so_in_the_timeout() -> None:
    """Skipped, the late answer does not stretch the wait: the answer's deadline stays, and the
    error says what came meanwhile, by its type."""

    async def late_then_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        first = msh10(await read_frame(reader))
        writer.write(framed(make_ack(first, "AA")))
        await writer.drain()
        await read_frame(reader)
        writer.write(framed(make_ack(first, "AA")))  # the first's again; never the second's
        await writer.drain()
        await asyncio.sleep(5)

    async with ScriptedServer(late_then_silent) as server:
        sink = await deliver_all(server.port, ["T1", "T2"], ack_timeout=0.3)
    first, second = sink.results[:2]
    assert (first.outcome, second.outcome, second.ack_code) == ("delivered", "failed", None)
    assert second.error == (
        "AckTimeout: no ACK within 0.3s; 1 frame(s) came that answer no message sent now, "
        "skipped (ACK^I12)"
    )
    assert second.ack_bytes is None  # the late answer is T1's: not kept with T2's attempt


class AcceptedThenRejected:
    """A receiver whose engine answers ``AA`` at once and its application ``AR`` a moment
    later, after the connection went quiet (or once the next message came)."""

    def __init__(self, pause: float) -> None:
        self.pause = pause

    async def __call__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        while True:
            control_id = msh10(await read_frame(reader))
            writer.write(framed(make_ack(control_id, "AA")))
            await writer.drain()
            await asyncio.sleep(self.pause)
            writer.write(framed(make_ack(control_id, "AR")))
            await writer.drain()


async def test_an_ar_after_the_aa_is_said_not_dropped_unsaid() -> None:
    """The receiver's ``AR`` after its ``AA`` came while the connection was quiet: the engine
    dropped the connection for it at the next send, and nothing (log, attempt) said a message
    it counted delivered had been rejected. Now a warning names the MSH-10 it answers, its
    code, and never its text; the first answer stands."""
    async with ScriptedServer(AcceptedThenRejected(pause=0.05)) as server:
        with capture_logs() as logs:
            sink = await deliver_all(server.port, ["R1", "R2"], pause=0.3)
    assert attempts(sink) == [("m-R1", "delivered", "AA"), ("m-R2", "delivered", "AA")]
    said = [
        (e["log_level"], e["ack_code"], e["answers_control_id"])
        for e in logs
        if e["event"] == "dropped an answer that came after the answer"
    ]
    # R1's AR when R2 is sent; R2's when the connection is closed.
    assert said == [("warning", "AR", "R1"), ("warning", "AR", "R2")]
    assert sink.late == ["AR", "AR"]  # counted (integrator_late_answers_total)
    # And handed on with the message each answers, to be kept with it (``late_answers``).
    assert [(a.message_id, a.how) for a in sink.answers] == [
        ("m-R1", "dropped"),
        ("m-R2", "dropped"),
    ]


async def test_a_late_ar_while_the_next_message_waits_is_a_warning() -> None:
    """The ``AR`` arrives after the next message was written: skipped, as a late ``AA`` is,
    and said at warning level (a late ``AA`` is routine and said at info)."""
    async with ScriptedServer(AcceptedThenRejected(pause=0.0)) as server:
        with capture_logs() as logs:
            sink = await deliver_all(server.port, ["S1", "S2"])
    delivered = [r for r in sink.results if r.outcome == "delivered"]
    assert [r.message_id for r in delivered] == ["m-S1", "m-S2"]
    levels = {
        (e["log_level"], e["ack_code"], e["answers_control_id"])
        for e in logs
        if e["event"]
        in (
            "skipped a late answer to an earlier message",
            "dropped an answer that came after the answer",
        )
    }
    assert ("warning", "AR", "S1") in levels
    assert ("m-S1", "AR") in {(a.message_id, a.code) for a in sink.answers}
    for result in sink.results:  # S1's rejection is never kept with S2's attempt
        assert result.ack_bytes is None or b"MSA|AR" not in result.ack_bytes


async def test_an_answer_naming_a_message_never_sent_on_the_connection_still_fails() -> None:
    """Only the MSH-10s settled on this connection are skipped; any other wrong MSA-2 is the
    waiting message's wrong answer (docs/product.md §5: a failed attempt, the connection
    reopened)."""

    async def wrong_once(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        while True:
            control_id = msh10(await read_frame(reader))
            answer = "SOMEONE-ELSE" if control_id == "W2" and index == 0 else control_id
            writer.write(framed(make_ack(answer, "AA")))
            await writer.drain()

    async with ScriptedServer(wrong_once) as server:
        sink = await deliver_all(server.port, ["W1", "W2"])
    assert attempts(sink) == [
        ("m-W1", "delivered", "AA"),
        ("m-W2", "failed", "AA"),
        ("m-W2", "delivered", "AA"),
    ]
    assert sink.results[1].error is not None
    assert sink.results[1].error.startswith("AckControlIdMismatch")
    assert server.connections == 2


async def test_a_late_answer_is_not_recognised_on_another_connection() -> None:
    """Settled on a connection since closed, a message's MSH-10 in an answer on a new one is no
    late answer (a new connection carries none): it fails the attempt."""

    async def close_then_stale(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int
    ) -> None:
        control_id = msh10(await read_frame(reader))
        answer = control_id if index == 0 else "N1"
        writer.write(framed(make_ack(answer, "AA")))
        await writer.drain()
        if index == 0:
            return  # closes
        await asyncio.sleep(5)

    async with ScriptedServer(close_then_stale) as server:
        sink = await deliver_all(server.port, ["N1", "N2"], ack_timeout=0.3)
    assert attempts(sink)[:2] == [("m-N1", "delivered", "AA"), ("m-N2", "failed", "AA")]
    assert (sink.results[1].error or "").startswith("AckControlIdMismatch")


async def test_fifty_messages_to_a_commit_then_application_receiver_keep_one_connection() -> None:
    receiver = CommitThenApplication()
    ids = [f"P{i}" for i in range(50)]
    async with ScriptedServer(receiver) as server:
        sink = await deliver_all(server.port, ids)
    assert [r.outcome for r in sink.results] == ["delivered"] * 50
    assert receiver.received == ids
    assert server.connections == 1


ADT_A08 = (
    b"MSH|^~\\&|HIS|ZNOORD|INTEGRATOR|PLATFORM|20261120091501+0100||ADT^A08^ADT_A01|H1|P|2.5.1\r"
    b"EVN|A08|20261120091501\r"
    b"PID|1||999999990^^^NLMINBIZA^NNNLD||Anderepatient^A^^^^^L\r"
)
"""A message a receiver sends of its own accord (its patient is not the one sent)."""


def answering(first: list[bytes], answer: bool = True) -> ScriptedServer:
    """A receiver that sends the frames ``first`` before it answers each message (``answer``:
    with an AA)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            control_id = msh10(await read_frame(reader))
            for payload in first:
                writer.write(framed(payload))
            if answer:
                writer.write(framed(make_ack(control_id, "AA")))
            await writer.drain()

    return ScriptedServer(handle)


async def test_a_message_the_receiver_sends_unasked_before_the_ack_is_skipped() -> None:
    """An ADT^A08 before each ACK was read as the answer, "ACK has no MSA segment": every
    attempt failed, and the messages the receiver had taken became dead letters."""
    async with answering([ADT_A08]) as server:
        with capture_logs() as logs:
            sink = await deliver_all(server.port, ["U1", "U2", "U3"])
    assert attempts(sink) == [(f"m-U{i}", "delivered", "AA") for i in (1, 2, 3)]
    assert server.connections == 1
    for result in sink.results:  # what the receiver said about another patient is not kept
        assert result.ack_bytes is not None and b"Anderepatient" not in result.ack_bytes
        assert b"ADT" not in result.ack_bytes
    skipped = [e for e in logs if e["event"] == "skipped a message the receiver sent unasked"]
    assert [(e["message_id"], e["message_type"]) for e in skipped] == [
        (f"m-U{i}", "ADT^A08") for i in (1, 2, 3)
    ]
    assert "Anderepatient" not in str(logs)


async def test_unasked_messages_and_no_ack_name_them_in_the_timeout() -> None:
    async with answering([ADT_A08, ADT_A08], answer=False) as server:
        sink = await deliver_all(server.port, ["V1"], ack_timeout=0.3)
    first = sink.results[0]
    assert (first.outcome, first.ack_code, first.ack_bytes) == ("failed", None, None)
    assert first.error == (
        "AckTimeout: no ACK within 0.3s; 2 frame(s) came that answer no message sent now, "
        "skipped (ADT^A08)"
    )


async def test_an_application_response_carrying_msa_is_an_answer() -> None:
    """RRI^I12, ORR^O02, ORL^O22 answer with an MSA: they are answers, not unasked messages."""

    async def rri(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            control_id = msh10(await read_frame(reader))
            answer = make_ack(control_id, "AA").replace(b"ACK^I12^ACK", b"RRI^I12^RRI_I12")
            writer.write(framed(answer + b"RF1|A\r"))
            await writer.drain()

    async with ScriptedServer(rri) as server:
        sink = await deliver_all(server.port, ["R1"])
    assert attempts(sink) == [("m-R1", "delivered", "AA")]


async def test_a_frame_calling_itself_an_ack_without_msa_is_still_unreadable() -> None:
    no_msa = b"MSH|^~\\&|HIS|ZNOORD|INTEGRATOR|PLATFORM|20261120091501+0100||ACK^I12|X|P|2.5.1\r"
    async with answering([no_msa], answer=False) as server:
        sink = await deliver_all(server.port, ["B1"], ack_timeout=0.3)
    first = sink.results[0]
    assert first.outcome == "failed"
    assert first.error == "MalformedAck: ACK has no MSA segment"
