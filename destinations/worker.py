"""The delivery worker: one per destination, sending one message at a time over MLLP.

It owns the decision "delivered, try again, or dead letter" for each attempt and nothing else:
where messages come from (a transport) and where attempts are written (the store) are handed in,
so the same worker runs on the embedded and the RabbitMQ transport and in tests.

``deliver`` keeps trying one message until it is delivered or dead (``fifo`` ordering: a
failing message holds the ones behind it); ``attempt_and_record`` makes one attempt, for the
runner's ``rotate`` ordering, where a failing message goes to the back of the queue.

Enhanced acknowledgement mode is read from the message itself (MSH-15/16), not from the
configuration, so what the worker waits for is always what the message asked for:
the first answer is judged as usual, except that a ``CA`` commit ACK on a message whose MSH-16
is ``AL`` or ``SU`` is not final: the application ACK (``AA``/``AE``/``AR``) must follow on the
same connection within ``ack_timeout``, and it decides. (``SU`` is answered only on success, so
its absence is a failure too, as with ``AL``.) ``ER`` is not waited for: a message that went
well is never answered, so waiting could only end in a timeout; the ``CA`` delivers it, and a
later ``AE``/``AR`` is never taken for another message's answer (the client drops a connection
with an unasked-for frame, and one that arrives while the next message waits is skipped as a
late answer, ``MessageAnswers``). A ``CE``/``CR``
commit ACK is final (the receiver did not take the message, so no application ACK will come). A
receiver that skips the commit ACK and answers ``AA`` straight away is accepted.

A retry keeps the message's MSH-10, so a receiver that did get an earlier copy can recognise the
duplicate. After any failed attempt the connection is closed (the client does that for transport
errors, the worker for a bad ACK) so a late ACK is never matched to another message.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

import structlog

from destinations.ack import (
    COMMIT_CODES,
    Ack,
    AckOutcome,
    application_ack_type,
    classify_ack,
    message_type,
    parse_ack,
    unsolicited_type,
)
from destinations.client import SETTLED_KEPT, Answers
from destinations.errors import DeliveryError, InvalidAck, MalformedAck
from destinations.ratelimit import TokenBucket
from destinations.retry import RetryPolicy, age_start
from shapes import ANY, NUMBER, TEXT, Shape

_log = structlog.get_logger(__name__)

Outcome = Literal["delivered", "retry", "deadletter", "failed"]
FinalStatus = Literal["delivered", "retrying", "dead"]


@dataclass(frozen=True)
class OutboundMessage:
    """What a transport hands to a worker: enough to send without reading the store."""

    message_id: str
    destination_id: str
    control_id: str
    payload: bytes
    created_at: datetime
    attempt_count: int = 0
    released_at: datetime | None = None
    """When it was last released from held (None: never held); ``max_age`` counts from the
    later of this and ``created_at`` (and the destination's last resume; ``retry.age_start``)."""
    not_before: datetime | None = None
    """A retry handed back before its time (a stopping runner's backoff timer): not attempted
    before this, its ``next_attempt_at``, by whichever runner receives it (``delivery.py``)."""


@dataclass(frozen=True)
class AttemptResult:
    message_id: str
    number: int
    started_at: datetime
    duration_ms: float
    outcome: Outcome
    ack_code: str | None
    ack_bytes: bytes | None
    error: str | None
    status: FinalStatus
    next_attempt_at: datetime | None
    ack_decided: bool = False
    """The ACK was read and judged (an ``outcome`` of ``deadletter`` does not tell: the last of
    several failed attempts is one too); the ACK round trip metric counts only these."""
    control_id: str | None = None
    """The message's MSH-10, for the log's lines about it (what the hospital reads out)."""


class AttemptSink(Protocol):
    async def record(self, result: AttemptResult) -> None:
        """Persist one attempt and the message's new status."""
        ...


LateHow = Literal["skipped", "dropped"]


@dataclass(frozen=True, slots=True)
class LateAnswer:
    """An answer not taken for having come after its message's answer (``MessageAnswers``)."""

    code: str
    """Its MSA-1."""
    message_id: str | None
    """The message it answers, when its MSA-2 is the MSH-10 of one this worker sent on the
    connection it came on; None: one it cannot tell."""
    received_at: datetime
    """When it came: for one ``dropped``, by when (the last frames' arrival on its connection,
    which it came with or before), not when the next send met it."""
    how: LateHow
    """``skipped``: it came while the next message waited for its answer; ``dropped``: with
    nothing waiting, and the connection was closed for it at the next send."""


@runtime_checkable
class CountsLateAnswers(Protocol):
    """A sink that also takes the answers not taken for having come after their message's
    (``MessageAnswers``): the engine counts them and keeps them with their message, which
    the worker itself stays free of."""

    def late_answer(self, answer: LateAnswer) -> None:
        """One answer came for a message already answered."""
        ...


class Sender(Protocol):
    async def exchange(
        self, payload: bytes, more: Callable[[bytes], bool] | None = None
    ) -> list[bytes]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class AckPolicy:
    on_error: Literal["retry", "deadletter"] = "retry"
    on_reject: Literal["retry", "deadletter"] = "deadletter"


async def _sleep_for_retry(result: AttemptResult, seconds: float) -> None:
    await asyncio.sleep(seconds)


class DeliveryWorker:
    def __init__(
        self,
        destination_id: str,
        *,
        sender: Sender,
        sink: AttemptSink,
        retry: RetryPolicy,
        ack_policy: AckPolicy,
        clock: Callable[[], datetime],
        wait_for_retry: Callable[[AttemptResult, float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
        limiter: TokenBucket | None = None,
        resumed_at: datetime | None = None,
    ) -> None:
        """``resumed_at``: when the destination was last resumed after a pause (None: never),
        as the store keeps it; no message's ``max_age`` counts from before it."""
        self.destination_id = destination_id
        self._resumed_at = resumed_at
        self._limiter = limiter
        self._sender = sender
        self._sink = sink
        self._retry = retry
        self._ack_policy = ack_policy
        self._clock = clock
        self._wait_for_retry = wait_for_retry or _sleep_for_retry
        self._rng = rng or random.Random()
        self._late_sink = sink if isinstance(sink, CountsLateAnswers) else None
        # The messages sent lately, by MSH-10: whom a late answer's MSA-2 names.
        self._sent: dict[str, str] = {}

    def _on_late(self, code: str, control_id: str | None, how: LateHow, age: float) -> None:
        if self._late_sink is not None:
            message_id = None if control_id is None else self._sent.get(control_id)
            came = self._clock() - timedelta(seconds=age)
            self._late_sink.late_answer(LateAnswer(code, message_id, came, how))

    def _sending(self, message: OutboundMessage) -> None:
        """Remember ``message`` by its MSH-10, as the last of at most ``SETTLED_KEPT * 2``
        (a connection recognises late answers for its last ``SETTLED_KEPT`` messages)."""
        self._sent.pop(message.control_id, None)
        self._sent[message.control_id] = message.message_id
        if len(self._sent) > SETTLED_KEPT * 2:
            del self._sent[next(iter(self._sent))]

    async def deliver(
        self, message: OutboundMessage, keep_going: Callable[[], bool] | None = None
    ) -> FinalStatus:
        """Send until delivered or dead; returns the final status. ``keep_going`` is asked
        before each retry: False leaves the message ``retrying`` (returned) for the caller."""
        attempts = message.attempt_count
        while True:
            attempts += 1
            result = await self.attempt_and_record(message, attempts)
            if result.status != "retrying":
                return result.status
            assert result.next_attempt_at is not None
            wait = (result.next_attempt_at - self._clock()).total_seconds()
            if wait > 0:
                await self._wait_for_retry(result, wait)
            if keep_going is not None and not keep_going():
                return "retrying"

    async def attempt_and_record(self, message: OutboundMessage, number: int) -> AttemptResult:
        """One attempt (after waiting for the rate limit), handed to the sink."""
        if self._limiter is not None:
            await self._limiter.acquire()
        result = await self.attempt(message, number)
        await self._sink.record(result)
        return result

    async def attempt(self, message: OutboundMessage, number: int) -> AttemptResult:
        """One attempt: send, read and judge the ACK(s), decide what comes next."""
        started_at = self._clock()
        t0 = time.perf_counter()
        ack_code: str | None = None
        ack_bytes: bytes | None = None
        error: str | None = None
        outcome: Outcome
        ack_decided = False
        if self._late_sink is not None:
            self._sending(message)
        read = MessageAnswers(
            message.payload,
            message.control_id,
            self.destination_id,
            message.message_id,
            on_late=self._on_late if self._late_sink is not None else None,
        )
        answers: list[bytes] = []
        try:
            answers = await self._sender.exchange(message.payload, read)
            ack_bytes = read.received(answers)
            ack, ack_code = read.deciding(answers)
            verdict = classify_ack(
                ack,
                message.control_id,
                on_error=self._ack_policy.on_error,
                on_reject=self._ack_policy.on_reject,
            )
        except InvalidAck as exc:
            await self._sender.close()
            outcome, error = "failed", FAILED(kind=type(exc).__name__, cause=exc)
            # Readable answers out of step (a second ``CA`` where the application ACK was
            # expected) are named as what came, ``CA/CA``, not as no answer at all.
            codes = [_code(a) for a in answers]
            if codes and "?" not in codes:
                ack_code = "/".join(codes)
        except DeliveryError as exc:
            outcome, error = "failed", FAILED(kind=type(exc).__name__, cause=exc)
            if exc.answers:
                ack_code = answer_codes(exc.answers)
            if exc.answers:
                ack_bytes = read.received(list(exc.answers))
            if not exc.retryable:
                outcome = "deadletter"
        else:
            ack_decided = True
            if verdict is AckOutcome.DELIVERED:
                outcome = "delivered"
            elif verdict is AckOutcome.DEADLETTER:
                outcome = "deadletter"
                error = _ack_error(ack.code, ack.text, ack.error)
            else:
                outcome = "retry"
                error = _ack_error(ack.code, ack.text, ack.error)
        duration_ms = (time.perf_counter() - t0) * 1000.0

        status: FinalStatus
        next_at: datetime | None = None
        if outcome == "delivered":
            status = "delivered"
        elif outcome == "deadletter":
            status = "dead"
        else:
            since = age_start(
                message.created_at, released_at=message.released_at, resumed_at=self._resumed_at
            )
            next_at = self._retry.next_attempt_at(
                number, since=since.at, now=self._clock(), rng=self._rng
            )
            if next_at is None:
                # The last attempt says so itself: recorded as ``retry``/``failed`` it read
                # "will retry" on every screen while the message was already dead.
                outcome, status = "deadletter", "dead"
                error = GAVE_UP(error=error, why=self._retry.exhausted_reason(number, since))
            else:
                status = "retrying"
        return AttemptResult(
            message_id=message.message_id,
            number=number,
            started_at=started_at,
            duration_ms=duration_ms,
            outcome=outcome,
            ack_code=ack_code,
            ack_bytes=ack_bytes,
            error=error,
            status=status,
            next_attempt_at=next_at,
            ack_decided=ack_decided,
            control_id=message.control_id,
        )


# An attempt's error (``shapes``): an error raised while delivering, by its class and text (the
# texts are ``destinations.client``'s, ``.errors``'s, ``.ack``'s, …), or a negative ACK with the
# receiver's own words as it sent them; after the last attempt, why the engine gave up too.
FAILED = Shape("delivery.failed", "{kind}: {cause}", kind=r"[A-Z][A-Za-z]*", cause=TEXT)
NEGATIVE_ACK = Shape("delivery.negative_ack", "ACK {ack}", ack=r"[A-Z]{2}|None")
NEGATIVE_ACK_SAYING = Shape(
    "delivery.negative_ack_saying", "ACK {ack}: {text}", ack=r"[A-Z]{2}|None", text=ANY
)
NEGATIVE_ACK_CUT = Shape(
    "delivery.negative_ack_cut",
    "ACK {ack}: {text}… ({more} more characters; the whole ACK is kept with the attempt)",
    ack=r"[A-Z]{2}|None",
    text=ANY,
    more=NUMBER,
)
"""A negative ACK whose words ran longer than ``QUOTED_MAX``: their start, and how much more
there was (``_ack_error``)."""
GAVE_UP = Shape("delivery.gave_up", "{error}; {why}", error=TEXT, why=r"gave up after .+")
SECOND_COMMIT_ACK = Shape(
    "delivery.second_commit_ack",
    "a second commit ACK came where the application ACK was expected",
)


QUOTED_MAX = 1_000
"""The most characters of a receiver's words (MSA-3 / ERR) an attempt's error quotes."""


def _ack_error(code: str | None, text: str, detail: str) -> str:
    """The receiver's own words about a negative ACK (MSA-3 / ERR), for support staff; at
    most ``QUOTED_MAX`` characters of them, then how many more there were.

    The receiver decides how long its words are, up to the 64 MiB an MLLP frame may hold: one
    that echoed the message or a blob in MSA-3 had its whole text stored three times per
    attempt (the ACK's bytes, the attempt's error, the message's last error), and every view
    that lays the error out (``messages show``, ``deadletter show``) took minutes. The ACK's
    bytes stay as received, so the whole text is still there for who needs it.
    """
    said = ": ".join(part for part in (text, detail) if part)
    if not said:
        return NEGATIVE_ACK(ack=code)
    if len(said) > QUOTED_MAX:
        more = len(said) - QUOTED_MAX
        return NEGATIVE_ACK_CUT(ack=code, text=said[:QUOTED_MAX], more=more)
    return NEGATIVE_ACK_SAYING(ack=code, text=said)


NEGATIVE_ANSWERS = frozenset({"AE", "AR", "CE", "CR"})
"""Answer codes that say the message was not taken: a late one is a warning, for support to
look at that message (the first answer stood); a late ``AA`` or ``CA`` is routine."""


def _said_late(event: str, ack: Ack, **fields: str | None) -> None:
    """The log line of an answer that was not taken: its code, and the MSH-10 it answers (the
    engine's own, as it sent it) unless ``fields`` name it already; never its text."""
    fields.setdefault("answers_control_id", ack.control_id)
    say = _log.warning if ack.code in NEGATIVE_ANSWERS else _log.info
    say(event, ack_code=ack.code, **fields)


_ANSWERED_ON_SUCCESS = frozenset({"AL", "SU"})
"""MSH-16 values (HL7 table 0155) under which an application ACK follows a ``CA`` that went
well: always, or on success only."""


class MessageAnswers(Answers):
    """How what comes back for one message is read (``destinations.client.Answers``): by the
    worker, and by a destination's test message, so that a test reads a receiver as a
    delivery does.

    A frame whose MSA-2 is the MSH-10 of a message settled earlier on the connection is a late
    answer to that one (a receiver that sends a commit ACK and then an application ACK even in
    original mode: the ``AA`` of one message arrived after the next was sent, was read as the
    next one's answer, and failed it). It is skipped, never matched to this message; any
    other MSA-2 that is not this message's stays this message's (wrong) answer, which fails
    the attempt. A frame with no MSA whose type is not an acknowledgement is a message the
    receiver sent unasked (an ``ADT^A08`` before each ACK dead-lettered messages the receiver
    had taken, as "ACK has no MSA segment"): skipped too. Each answer is parsed here once; the
    worker judges the last (``parsed``).
    """

    def __init__(
        self,
        payload: bytes,
        control_id: str,
        destination_id: str,
        message_id: str | None = None,
        on_late: Callable[[str, str | None, LateHow, float], None] | None = None,
    ) -> None:
        """``payload``: the message as sent, whose MSH-10 is ``control_id``; ``message_id``:
        the stored message's id for the log lines (None for a test message, stored nowhere);
        ``on_late``: told of each answer not taken for having come late: its MSA-1, its MSA-2
        when that is the MSH-10 of a message settled on the connection (else None), how it
        was met, and how many seconds ago it came (``Answers.dropped``'s ``age``; 0 for one
        read as it came)."""
        self.key = control_id
        self._message_id = message_id
        self._on_late = on_late
        self._destination_id = destination_id
        # MSH-16 (None: no usable MSH) asks for an application ACK after a ``CA``.
        self._wanted = application_ack_type(payload) in _ANSWERED_ON_SUCCESS
        self.parsed: list[Ack | None] = []  # per answer, in order; None: unreadable

    @staticmethod
    def received(answers: list[bytes]) -> bytes:
        """What came back, as the attempt keeps it: the answers in the order they arrived,
        never a late answer to another message (about another patient, very likely)."""
        return b"\n".join(answers)

    def deciding(self, answers: list[bytes]) -> tuple[Ack, str]:
        """The answer that decides (the last; ``InvalidAck`` when it is unreadable or a second
        commit ACK) and the codes of all of them, ``CA/AA``. The last is parsed once, here in
        ``unasked``; earlier ones only give a code."""
        ack = _final_ack(answers, self.parsed)
        return ack, "/".join([*(_code(a) for a in answers[:-1]), ack.code])

    def unasked(self, frame: bytes, settled: Collection[str]) -> str | None:
        try:
            ack = parse_ack(frame)
        except InvalidAck:
            kind = unsolicited_type(frame)
            if kind is not None:
                return self._unsolicited(kind)
            ack = None  # an answer all the same: refused by the worker
        if ack is not None and ack.control_id != self.key and ack.control_id in settled:
            kind = message_type(frame) or "ACK"
            if self._on_late is not None:
                self._on_late(ack.code, ack.control_id, "skipped", 0.0)
            _said_late(
                "skipped a late answer to an earlier message",
                ack,
                destination=self._destination_id,
                message_id=self._message_id,
                message_type=kind,
            )
            return kind
        self.parsed.append(ack)
        return None

    def dropped(self, frame: bytes, settled: Collection[str], age: float) -> None:
        """An answer after the answer, dropped with the connection (``Answers.dropped``): an
        ``AR`` after the ``AA`` that delivered the message went without a word. Said like a
        late answer; the first answer stands. Anything else is named by its type only."""
        try:
            ack = parse_ack(frame)
        except InvalidAck:
            _log.info(
                "dropped a frame that came after the answer",
                destination=self._destination_id,
                message_type=unsolicited_type(frame) or message_type(frame),
            )
            return
        # Only an MSH-10 the engine sent on this connection is named: it is its own.
        answers = ack.control_id if ack.control_id in settled else None
        if self._on_late is not None:
            self._on_late(ack.code, answers, "dropped", age)
        _said_late(
            "dropped an answer that came after the answer",
            ack,
            destination=self._destination_id,
            message_type=message_type(frame) or "ACK",
            answers_control_id=answers,
        )

    def _unsolicited(self, kind: str) -> str:
        """A message the receiver sent of its own accord (no MSA, a type other than ACK): not
        kept with the attempt, as it is about another patient than this message's; its type
        is logged and, should no answer come, named in the attempt's error."""
        _log.info(
            "skipped a message the receiver sent unasked",
            destination=self._destination_id,
            message_id=self._message_id,
            message_type=kind,
        )
        return kind

    def __call__(self, frame: bytes) -> bool:
        """Whether another answer follows ``frame``: only a matching ``CA`` when MSH-16 asks
        for the application ACK of a message that went well (``AL``, ``SU``)."""
        if not self._wanted or len(self.parsed) > 1:  # at most commit + application ACK
            return False
        ack = self.parsed[-1]
        return ack is not None and ack.code == "CA" and ack.control_id == self.key


def _final_ack(answers: list[bytes], parsed: list[Ack | None] | None = None) -> Ack:
    """The answer that decides: the last one; a second commit ACK is out of step. ``parsed``:
    the answers as ``MessageAnswers`` read them, so none is parsed twice."""
    last = parsed[-1] if parsed is not None and len(parsed) == len(answers) else None
    ack = last if last is not None else parse_ack(answers[-1])
    if len(answers) > 1 and ack.code in COMMIT_CODES:
        raise MalformedAck(SECOND_COMMIT_ACK())
    return ack


def answer_codes(answers: Sequence[bytes]) -> str:
    """The codes of the answers that came, ``CA/AA``; ``?`` for one that cannot be read."""
    return "/".join(_code(a) for a in answers)


def _code(frame: bytes) -> str:
    try:
        return parse_ack(frame).code
    except InvalidAck:
        return "?"
