"""The delivery worker on real sockets: enhanced acknowledgement mode, policies, rate limit."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from destinations.client import MllpClient
from destinations.receiver import MllpReceiver
from destinations.retry import RetryPolicy
from destinations.worker import AckPolicy, AttemptResult, DeliveryWorker, OutboundMessage
from tests.delivery.misbehaving import MisbehavingReceiver


class ListSink:
    def __init__(self) -> None:
        self.results: list[AttemptResult] = []

    async def record(self, result: AttemptResult) -> None:
        self.results.append(result)


def enhanced_message(control_id: str, accept: str = "AL", application: str = "AL") -> bytes:
    return (
        f"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261127120000+0100||REF^I12^REF_I12|{control_id}|P|"
        f"2.5.1|||{accept}|{application}|NLD|UNICODE UTF-8\rRF1|P\r"
    ).encode()


def outbound(control_id: str, payload: bytes) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"m-{control_id}",
        destination_id="d",
        control_id=control_id,
        payload=payload,
        created_at=datetime.now(UTC),
    )


def worker(port: int, sink: ListSink, *, ack_timeout: float = 0.3) -> DeliveryWorker:
    client = MllpClient("127.0.0.1", port, connect_timeout=1, ack_timeout=ack_timeout)
    return DeliveryWorker(
        "d",
        sender=client,
        sink=sink,
        retry=RetryPolicy(initial=0.01, max_delay=0.01, max_attempts=2),
        ack_policy=AckPolicy(),
        clock=lambda: datetime.now(UTC),
        rng=random.Random(1),
    )


async def attempt(port: int, payload: bytes, control_id: str, **kw: float) -> AttemptResult:
    return await worker(port, ListSink(), **kw).attempt(outbound(control_id, payload), 1)


async def test_commit_then_application_ack_on_the_same_connection() -> None:
    async with MllpReceiver(application_delay=0.1) as receiver:
        result = await attempt(receiver.port, enhanced_message("E1"), "E1")
    assert (result.outcome, result.ack_code, result.status) == ("delivered", "CA/AA", "delivered")
    assert result.ack_bytes is not None and result.ack_bytes.count(b"MSA|") == 2
    assert receiver.connection_count == 1


async def test_commit_ack_is_final_when_msh16_is_ne() -> None:
    async with MllpReceiver() as receiver:
        result = await attempt(receiver.port, enhanced_message("E2", "AL", "NE"), "E2")
    assert (result.outcome, result.ack_code) == ("delivered", "CA")


async def test_application_error_after_commit_is_retried() -> None:
    async with MllpReceiver(ack_code="AE") as receiver:
        result = await attempt(receiver.port, enhanced_message("E3"), "E3")
    assert (result.outcome, result.ack_code, result.status) == ("retry", "CA/AE", "retrying")


async def test_commit_reject_is_final_and_dead() -> None:
    async with MllpReceiver(commit_code="CR") as receiver:
        result = await attempt(receiver.port, enhanced_message("E4"), "E4")
    assert (result.outcome, result.ack_code, result.status) == ("deadletter", "CR", "dead")
    assert result.error is not None and result.error.startswith("ACK CR")


async def test_missing_application_ack_is_a_timeout_that_keeps_the_commit_ack() -> None:
    async with MllpReceiver(application_delay=1.0) as receiver:
        result = await attempt(receiver.port, enhanced_message("E5"), "E5", ack_timeout=0.2)
    assert (result.outcome, result.ack_code) == ("failed", "CA")
    assert result.error is not None and "application ACK" in result.error
    assert result.ack_bytes is not None and b"MSA|CA|E5" in result.ack_bytes


async def test_receiver_that_skips_the_commit_ack_is_accepted() -> None:
    async with MisbehavingReceiver() as receiver:  # answers AA only
        result = await attempt(receiver.port, enhanced_message("E6"), "E6")
    assert (result.outcome, result.ack_code) == ("delivered", "AA")


async def test_a_second_commit_ack_instead_of_the_application_ack_fails() -> None:
    async with MisbehavingReceiver(["CA+CA"]) as receiver:
        result = await attempt(receiver.port, enhanced_message("E7"), "E7")
    # What came is named (it read "-" in the attempts, as if nothing had come).
    assert (result.outcome, result.ack_code) == ("failed", "CA/CA")
    assert result.error is not None and result.error.startswith("MalformedAck")
    assert result.ack_bytes is not None and result.ack_bytes.count(b"MSA|CA|E7") == 2


async def test_commit_and_application_ack_in_one_chunk() -> None:
    async with MisbehavingReceiver(["CA+AA"]) as receiver:
        result = await attempt(receiver.port, enhanced_message("E8"), "E8")
    assert (result.outcome, result.ack_code) == ("delivered", "CA/AA")


async def test_msh16_su_waits_for_the_application_ack_of_a_success() -> None:
    # SU: the receiver answers the application's success, so the CA is not the last word; taken
    # as final, the AA arrived unasked for and cost the connection (or the next message).
    async with MllpReceiver(application_delay=0.1) as receiver:
        result = await attempt(receiver.port, enhanced_message("S1", "AL", "SU"), "S1")
    assert (result.outcome, result.ack_code, result.status) == ("delivered", "CA/AA", "delivered")
    assert receiver.connection_count == 1


async def test_msh16_su_without_an_application_ack_is_a_timeout() -> None:
    # An application error goes unanswered under SU: the missing AA fails the attempt, as under AL.
    async with MllpReceiver(ack_code="AE", application_delay=0.1) as receiver:
        result = await attempt(receiver.port, enhanced_message("S2", "AL", "SU"), "S2")
    assert (result.outcome, result.ack_code) == ("failed", "CA")
    assert result.error is not None and "application ACK" in result.error


async def test_msh16_er_takes_the_commit_ack_as_final() -> None:
    # ER: a success is never answered, so waiting could only time out.
    async with MllpReceiver(application_delay=0.1) as receiver:
        result = await attempt(receiver.port, enhanced_message("S3", "AL", "ER"), "S3")
    assert (result.outcome, result.ack_code) == ("delivered", "CA")


async def test_deliver_retries_until_delivered_keeping_the_control_id() -> None:
    sink = ListSink()
    async with MisbehavingReceiver(["garbage"]) as receiver:
        status = await worker(receiver.port, sink).deliver(
            outbound("R1", enhanced_message("R1", "", ""))
        )
    assert status == "delivered"
    assert [r.outcome for r in sink.results] == ["failed", "delivered"]
    assert receiver.received_ids() == ["R1", "R1"]
