"""A delivery's error, said in the person's language (``integrator.console.delivery_text``).

The engine keeps an attempt's error and a message's last error in English, for the CLI and the
API; the console reads each back by the ``Shape`` it was written with and words it in Dutch or
English. Here the real client, worker, ACK parser, framing, TLS setup and retry policy write
every error they can, on real sockets where there is one; each must be worded in Dutch (none
falls back to the English) and in English exactly as stored. The receiver's own words stay as
it sent them, quoted; a text no shape reads is shown as stored.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations import client, mllp, worker
from destinations.ack import parse_ack
from destinations.client import MllpClient
from destinations.config import FILES_UNCHECKED, TlsSettings
from destinations.errors import DeliveryError, FrameTooLarge
from destinations.retry import AgeStart, RetryPolicy
from destinations.tls import client_ssl_context
from destinations.worker import AckPolicy, AttemptResult, DeliveryWorker, OutboundMessage
from integrator import operators, recorder
from integrator.ack_reason import from_receiver, short_reason
from integrator.console.delivery_text import ERRORS, word
from integrator.console.i18n import Translator
from tests.console.shaped_support import assert_every_shape_has_its_sentences
from tests.destinations.helpers import ScriptedServer, make_ack, make_message, read_frame
from tests.destinations.test_worker import enhanced_message
from tests.services import free_port

RECEIVER_SAYS = "Patient niet gevonden; PID-3 onbekend"


class Kept:
    """Where the worker hands its attempts, as the engine's recorder would take them."""

    def __init__(self) -> None:
        self.results: list[AttemptResult] = []

    async def record(self, result: AttemptResult) -> None:
        self.results.append(result)


async def _attempt(
    port: int, control_id: str, *, max_attempts: int = 5, payload: bytes | None = None
) -> AttemptResult:
    """One attempt of a small message to ``port``, as a destination's worker makes it."""
    sender = MllpClient("127.0.0.1", port, connect_timeout=1, ack_timeout=0.3)
    deliverer = DeliveryWorker(
        "d",
        sender=sender,
        sink=Kept(),
        retry=RetryPolicy(initial=0.01, max_delay=0.01, max_attempts=max_attempts),
        ack_policy=AckPolicy(),
        clock=lambda: datetime.now(UTC),
        rng=random.Random(1),
    )
    message = OutboundMessage(
        message_id=f"m-{control_id}",
        destination_id="d",
        control_id=control_id,
        payload=payload or make_message(control_id),
        created_at=datetime.now(UTC),
    )
    try:
        return await deliverer.attempt(message, 1)
    finally:
        await sender.close()


def _answering(
    answer: bytes | None, *, raw: bool = False, then_close: bool = False
) -> ScriptedServer:
    """A receiver that reads one message and sends ``answer`` (None: hangs up; b"": silent),
    framed, or ``raw`` as it is; ``then_close``: and hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_frame(reader)
        if answer is None:
            return  # closes the connection
        if answer:
            writer.write(answer if raw else b"\x0b" + answer + b"\x1c\x0d")
            await writer.drain()
        if not then_close:
            await asyncio.sleep(2)

    return ScriptedServer(handle)


async def _tls_to_plain() -> str:
    """TLS to a receiver that reads the ClientHello as bytes outside a frame, and waits."""
    async with _answering(b"") as server:
        sender = MllpClient(
            "127.0.0.1",
            server.port,
            connect_timeout=0.3,
            ack_timeout=0.3,
            ssl_context=ssl.create_default_context(),
            server_hostname="localhost",
        )
        with pytest.raises(DeliveryError) as failed:
            await sender.send(make_message("C4"))
    return worker.FAILED(kind=type(failed.value).__name__, cause=failed.value)


def _nack(code: str, text: str) -> bytes:
    return make_ack("C1", code).replace(f"MSA|{code}|C1".encode(), f"MSA|{code}|C1|{text}".encode())


async def _over_the_wire() -> list[str]:
    """The errors a worker records on real sockets."""
    found: list[str] = []
    for answer, control_id, attempts in (
        (_nack("AE", RECEIVER_SAYS), "C1", 5),  # the receiver's words
        (_nack("AE", RECEIVER_SAYS * 40), "C1", 5),  # so many words that they are cut
        (make_ack("C1", "AE"), "C1", 1),  # no words; and the last attempt: gave up
        (make_ack("C1", "AR"), "C1", 5),
        (make_ack("OTHER", "AA"), "C1", 5),  # MSA-2 names another message
        # MSA-2 names another message by an MSH-10 of the engine's form (an earlier one's)
        (make_ack("1A2512399F28ADBE530", "AA"), "1A2512399F28ADBE537", 5),
        (b"hello", "C1", 5),  # no HL7 at all
        (b"", "C1", 5),  # no answer in time
        (None, "C1", 5),  # hung up
    ):
        async with _answering(answer) as server:
            result = await _attempt(server.port, control_id, max_attempts=attempts)
        assert result.error is not None, answer
        found.append(result.error)
    for raw in (make_ack("C1", "AA"), b"\x0b" + make_ack("C1", "AA")):  # framed wrongly
        async with _answering(raw, raw=True) as server:
            wrongly = await _attempt(server.port, "C1")
        assert wrongly.error is not None
        found.append(wrongly.error)
    for raw in (b"\x0b" + make_ack("C1", "AA")[:30], b"\x15\x03\x03\x00\x02\x02\x28"):
        async with _answering(raw, raw=True, then_close=True) as server:  # part, then closed
            closed = await _attempt(server.port, "C1")
        assert closed.error is not None
        found.append(closed.error)
    found.append(await _tls_to_plain())
    # Enhanced mode: the commit ACK came, the application ACK did not.
    async with _answering(make_ack("C3", "CA")) as server:
        late = await _attempt(server.port, "C3", payload=enhanced_message("C3"))
    assert late.error is not None
    found.append(late.error)
    refused = await _attempt(free_port(), "C2")
    assert refused.error is not None
    found.append(refused.error)
    return found


def _malformed() -> list[str]:
    """What the ACK parser and the framing refuse, and the errors of their own."""
    found: list[str] = []
    for answer in (
        b"",
        b"PID|1",
        b"MSHx|",
        b"MSHxa|b",
        b"MSH|ab|c",
        b"MSH|^~\\&|HIS\rPID|1",
        b"MSH|^~\\&|HIS\rMSA||C1",
        b"MSH|^~\\&|HIS\rMSA|XX|C1",  # a code's form: named
        b"MSH|^~\\&|HIS\rMSA|Jansen|C1",  # any other: not named
    ):
        with pytest.raises(DeliveryError) as refused:
            parse_ack(answer)
        found.append(str(refused.value))
    for payload in (b"\x0bx", b"x\x1c"):
        with pytest.raises(DeliveryError) as refused:
            mllp.frame(payload)
        found.append(str(refused.value))
    found.append(str(FrameTooLarge(1024)))
    commit = make_ack("C1", "CA")
    with pytest.raises(DeliveryError) as refused:
        worker._final_ack([commit, commit])
    found.append(str(refused.value))
    return found


def _tls_error(error: ssl.SSLError, reason: str, verify_message: str | None = None) -> OSError:
    """``error`` as the ssl module raises it, with the attributes it sets then."""
    error.reason = reason
    if verify_message is not None:
        error.verify_message = verify_message  # type: ignore[attr-defined]
    return error


def _connecting(tmp_path: Path) -> list[str]:
    """Why a connection or its TLS could not be made, as the client and the TLS setup say."""
    unverified = ssl.SSLCertVerificationError(1, "certificate verify failed")
    refusals: list[OSError] = [
        _tls_error(unverified, "CERTIFICATE_VERIFY_FAILED", "self-signed certificate"),
        _tls_error(ssl.SSLError(1, "wrong version number"), "WRONG_VERSION_NUMBER"),
        OSError(113, "No route to host"),
    ]
    found = [
        client.CONNECT_TIMED_OUT(where="10.0.0.1:2575", seconds="2.5"),
        *(
            client.CONNECT_FAILED(where="his.example:2575", cause=client._describe(refusal))
            for refusal in refusals
        ),
        # TLS 1.2: a receiver refusing the client certificate drops the handshake.
        client.CONNECT_FAILED(
            where="his.example:2575", cause=client._describe(ConnectionResetError(), tls=True)
        ),
    ]
    # No answer in time, though frames came that answer no message sent now.
    skipped = client._and_skipped(client.NO_ACK(seconds="0.3"), ["ACK^I12", "ACK^I12"])
    found.append(worker.FAILED(kind="AckTimeout", cause=skipped))
    # A large message the receiver stopped reading halfway (its TCP window stayed closed).
    stalled = client.SEND_STALLED(written="65,536", size="4,194,581", seconds="30")
    found.append(worker.FAILED(kind="SendStalled", cause=stalled))
    # TLS 1.3: it closes after the client's handshake, with or without an alert.
    alert = _tls_error(ssl.SSLError(1, "tlsv13 alert"), "TLSV13_ALERT_CERTIFICATE_REQUIRED")
    for closed in (None, alert):
        found.append(worker.FAILED(kind="ConnectionLost", cause=client._tls_closed(closed)))
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate")
    # Files that stopped loading after the definition was accepted (it refuses them).
    for tls in ({"ca_file": broken}, {"cert_file": broken}):
        settings = TlsSettings.model_validate(tls, context=FILES_UNCHECKED)
        try:
            client_ssl_context(settings)
        except DeliveryError as exc:
            found.append(worker.FAILED(kind=type(exc).__name__, cause=exc))
    return found


RELEASED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _gave_up() -> list[str]:
    policy = RetryPolicy(max_attempts=3, max_age=60)
    return [
        worker.GAVE_UP(error="AckTimeout: no ACK within 2s", why=policy.exhausted_reason(3)),
        worker.GAVE_UP(error="ACK AE", why=policy.exhausted_reason(2)),  # max_age reached
        # max_age counted from a release from held, or from the destination's resume
        worker.GAVE_UP(
            error="ACK AE", why=policy.exhausted_reason(2, AgeStart(RELEASED, "released"))
        ),
        worker.GAVE_UP(
            error="ACK AE", why=policy.exhausted_reason(2, AgeStart(RELEASED, "resumed"))
        ),
    ]


def _removed() -> list[str]:
    return [
        operators.REMOVED(actor="person:anna@example.org"),
        operators.REMOVED_BECAUSE(actor="person:anna@example.org", reason="contract ended"),
    ]


def _not_kept() -> list[str]:
    return [recorder.NOT_KEPT(error_code="22021")]  # PostgreSQL's "not in the character set"


@pytest.fixture
async def written(tmp_path: Path) -> list[str]:
    found = await _over_the_wire()
    found += _malformed() + _connecting(tmp_path) + _gave_up() + _removed() + _not_kept()
    # What the listings and the dead-letter pages show: the receiver's words cut off.
    shortened = [short_reason(error) or error for error in found]
    found += [short for short in shortened if short not in found]
    return found


def _codes(errors: list[str]) -> set[str]:
    """The codes of the shapes that read ``errors``, and of the errors within them."""
    codes: set[str] = set()
    for error in errors:
        found = ERRORS.read(error)
        if found is not None:
            shape, values = found
            codes |= {shape.code, *_codes([values[n] for n in ERRORS.nested & set(values)])}
    return codes


async def test_every_error_the_engine_writes_is_worded_in_dutch(written: list[str]) -> None:
    for error in written:
        dutch = ERRORS.worded_in("nl", error)
        assert dutch is not None, f"no shape reads {error!r}: it would be shown in English"
        assert dutch != error, error
    assert _codes(written) == {shape.code for shape in ERRORS.shapes}  # each is written above


RECEIVERS: frozenset[str] = frozenset(
    {
        "delivery.negative_ack",
        "delivery.negative_ack_saying",
        "delivery.negative_ack_cut",
        "delivery.negative_ack_withheld",
    }
)
"""The shapes of a negative ACK: what the receiver answered about a message."""


async def test_only_a_negative_ack_is_the_receivers_answer(written: list[str]) -> None:
    """The line a destination's last attempt is shown by (``ack_reason.from_receiver``):
    every error that is, or was cut from, a negative ACK is the receiver's, for who may read
    the messages; every other error the engine writes is its own words, shown to an operator
    too, and none of those holds what the receiver said."""
    judged = {error: from_receiver(error) for error in written}
    for error, receivers in judged.items():
        assert receivers == bool(_codes([error]) & RECEIVERS), error
        if not receivers:
            assert RECEIVER_SAYS not in error, error
    assert any(judged.values()) and not all(judged.values())


async def test_english_pages_show_each_error_as_the_engine_wrote_it(written: list[str]) -> None:
    for error in written:
        assert ERRORS.worded_in("en", error) == error


@pytest.mark.parametrize(
    ("stored", "dutch"),
    [
        (
            "ConnectFailed: connect to 127.0.0.1:2575 failed: ConnectionRefusedError: Connect "
            "call failed ('127.0.0.1', 2575)",
            'verbinden met 127.0.0.1:2575 mislukt: de verbinding werd geweigerd ("Connect call '
            "failed ('127.0.0.1', 2575)\") (ConnectFailed)",
        ),
        (
            "AckTimeout: no ACK within 10s; gave up after 20 attempts (max_attempts 20)",
            "geen ACK binnen 10s (AckTimeout); opgegeven na 20 pogingen (max_attempts 20)",
        ),
        (
            f"ACK AE: {RECEIVER_SAYS}",
            "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht: "
            f'"{RECEIVER_SAYS}"',
        ),
        (
            "ACK AR (receiver's text withheld); gave up after 4 attempts (max_age 3600s reached)",
            "de ontvanger antwoordde met ACK AR, bericht geweigerd (de tekst van de ontvanger "
            "wordt hier niet getoond); opgegeven na 4 pogingen (max_age 3600s bereikt)",
        ),
        (
            "ACK AE; gave up after 2 attempts (max_age 86400s reached, counted from its "
            "destination's resume at 2026-11-30T08:00:00+00:00)",
            "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht; "
            "opgegeven na 2 pogingen (max_age 86400s "
            "bereikt, gerekend vanaf het hervatten van de bestemming op "
            "2026-11-30T08:00:00+00:00)",
        ),
        (
            "AckControlIdMismatch: MSA-2 (length 5) does not match the MSH-10 sent 'C1'",
            "MSA-2 (lengte 5) is niet de MSH-10 die verstuurd is ('C1') (AckControlIdMismatch)",
        ),
        (
            "AckControlIdMismatch: MSA-2 1A2512399F28ADBE530 is not the MSH-10 sent "
            "'1A2512399F28ADBE537', but has the form of the MSH-10s this engine sends: the "
            "answer to another message (an earlier one, likely)",
            "MSA-2 1A2512399F28ADBE530 is niet de MSH-10 die verstuurd is "
            "('1A2512399F28ADBE537'), maar heeft de vorm van de MSH-10's die deze engine "
            "verstuurt: het antwoord op een ander bericht (een eerder, waarschijnlijk) "
            "(AckControlIdMismatch)",
        ),
        (  # an earlier engine's error, as the listings show it (integrator.ack_reason)
            "AckControlIdMismatch: MSA-2 (length 41+) does not match the MSH-10 sent 'C1'",
            "MSA-2 (lengte 41+) is niet de MSH-10 die verstuurd is ('C1') (AckControlIdMismatch)",
        ),
        (
            f"ACK AE: {RECEIVER_SAYS}… (5242880 more characters; the whole ACK is kept with "
            "the attempt); gave up after 3 attempts (max_attempts 3)",
            "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht: "
            f'"{RECEIVER_SAYS}…" (5242880 tekens meer; '
            "de hele ACK is bij de poging bewaard); opgegeven na 3 pogingen (max_attempts 3)",
        ),
        (
            "ConnectFailed: TLS handshake with his.example:2575 got no answer within 2s (does "
            "the receiver speak TLS on this port?)",
            "de TLS-handshake met his.example:2575 kreeg binnen 2s geen antwoord (spreekt de "
            "ontvanger TLS op deze poort?) (ConnectFailed)",
        ),
        (
            "ConnectionLost: connection closed before the ACK arrived: an MLLP frame of 37 bytes "
            "began but never ended (no 0x1C 0x0D end block)",
            "de verbinding werd verbroken voordat de ACK binnenkwam: een MLLP-frame van 37 bytes "
            "begon maar eindigde niet (geen eindblok 0x1C 0x0D) (ConnectionLost)",
        ),
        (
            "destination removed by person:anna@example.org: contract ended",
            'bestemming verwijderd door person:anna@example.org: "contract ended"',
        ),
    ],
)
def test_each_error_is_worded_in_dutch_with_its_values(stored: str, dutch: str) -> None:
    assert word("nl", stored) == dutch
    assert word("en", stored) == stored
    assert Translator("nl").error(stored) == dutch  # what the pages call


@pytest.mark.parametrize(
    "stored",
    [
        "ConnectFailed",  # a class without a text
        "RuntimeError: something no shape wrote",
        "ConnectFailed: connect to his.example:2575 failed",
        "the engine stopped while the job ran",
        "",
    ],
)
def test_an_error_no_shape_reads_is_shown_as_stored(stored: str) -> None:
    assert word("nl", stored) == stored
    assert Translator("nl").error(stored) == stored


def test_every_error_shape_has_a_sentence_in_both_languages() -> None:
    assert_every_shape_has_its_sentences(ERRORS)
