"""The MLLP client: one message out, exactly one ACK frame back, over a kept-open connection.

Built on an ``asyncio.Protocol`` rather than streams so the client always knows whether the
connection is alive and whether the peer has spoken out of turn. That is what makes the central
rule cheap to keep: *after any error, timeout or unsolicited byte the connection is dropped*, so a
late or duplicate ACK can never be read as the answer to the next message. (While an answer is
awaited, a frame the caller says answers no message sent now, ``Answers``, is skipped instead:
it is never taken for the answer either. Frames dropped with a connection are handed to the
caller first, ``Answers.dropped``, so that none goes unsaid.) A receiver that closed
an idle connection is noticed before the next send, which then simply reconnects; one whose
close is still on its way (a receiver that closes after every ACK: the next message is written
before its FIN is read) loses the kept connection before a byte of the answer came, and the
message is written once more, on a new connection, in the same send (``_resend``).

The wait for the answer starts once the message has left the engine's write buffer, not when it
was handed to the transport: a message of tens of MB takes a minute on a slow link, and that
minute is no receiver's silence. Sending is bounded by progress instead of by size: a receiver
that takes no byte for ``ack_timeout`` has stopped reading (``_sending``).

Foreign exceptions are translated here, at the boundary, into ``destinations.errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Collection, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, cast

import structlog

from destinations.errors import (
    AckTimeout,
    ConnectFailed,
    ConnectionLost,
    DeliveryError,
    FrameTooLarge,
    SendStalled,
)
from destinations.mllp import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, frame
from shapes import ADDRESS, NUMBER, SECONDS, TEXT, Shape

if TYPE_CHECKING:
    from destinations.config import DestinationConfig
    from destinations.tls import RenewedTlsContext

_CLOSE_WAIT = 1.0  # seconds a polite close may take before the transport is aborted
_HANDSHAKE_SPARE = 5.0  # seconds the loop's TLS handshake timeout waits past connect_timeout
_SENDING_CHECK = 0.1  # seconds between looks at a large message's progress (at most)

_log = structlog.get_logger(__name__)

KEEPALIVE_IDLE = 60  # seconds a connection is quiet before TCP's first keepalive probe
KEEPALIVE_INTERVAL = 15  # seconds between probes that go unanswered
KEEPALIVE_PROBES = 4  # unanswered probes before the system closes the connection
_KEEPALIVE_OPTIONS = (
    # (the idle option's name on Linux, then on macOS), the interval, the count
    (getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None)), KEEPALIVE_IDLE),
    (getattr(socket, "TCP_KEEPINTVL", None), KEEPALIVE_INTERVAL),
    (getattr(socket, "TCP_KEEPCNT", None), KEEPALIVE_PROBES),
)


class _AckProtocol(asyncio.Protocol):
    """Collects frames from one connection and wakes the sender waiting for them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_frame_size: int) -> None:
        self.decoder = FrameDecoder(max_frame_size)
        self.bytes_received = 0  # every byte read, framed or not: did the peer say anything?
        self.frames: deque[bytes] = deque()
        self.transport: asyncio.Transport | None = None  # TLS's over the socket's, with TLS
        self._socket_transport: asyncio.Transport | None = None
        self.closed = False
        self.error: DeliveryError | None = None
        self.lost_with: Exception | None = None  # what the transport said when it closed
        self.settled: deque[str] = deque(maxlen=SETTLED_KEPT)  # ``Answers.key``s, newest last
        self.frames_at = 0.0  # when the last frames came (monotonic): a dropped frame's age
        self.lost = loop.create_future()
        self._loop = loop
        self._waiter: asyncio.Future[None] | None = None

    @property
    def stale(self) -> bool:
        """True when the connection cannot carry a fresh request/answer exchange."""
        return (
            self.closed
            or self.error is not None
            or bool(self.frames)
            or self.decoder.pending_bytes > 0
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        transport = cast(asyncio.Transport, transport)
        self.transport = self._socket_transport = transport
        # pause_writing as soon as a write leaves bytes behind, resume_writing once they are
        # all gone: the moment the wait for the answer starts (``MllpClient._sending``).
        transport.set_write_buffer_limits(high=0)
        _keep_alive(transport.get_extra_info("socket"))

    def pause_writing(self) -> None:
        pass  # the bytes are counted when looked at (``unsent``)

    def resume_writing(self) -> None:
        self._wake()

    @property
    def unsent(self) -> int:
        """Bytes written and still in the engine's own buffers, not yet taken by the system.

        With TLS the TLS transport's and the socket's together: the TLS layer hands what it
        encrypted to the socket's transport at once, so its own buffer is empty while
        megabytes wait below it."""
        transport, below = self.transport, self._socket_transport
        if transport is None:
            return 0
        size = transport.get_write_buffer_size()
        if below is not None and below is not transport:
            size += below.get_write_buffer_size()
        return size

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        try:
            frames = self.decoder.feed(data)
        except FrameTooLarge as exc:
            self.error = exc
            if self.transport is not None:
                self.transport.abort()
            self._wake()
            return
        if frames:
            self.frames.extend(frames)
            self.frames_at = time.monotonic()
            self._wake()

    def eof_received(self) -> bool:
        return False  # a half-closed MLLP connection is useless: close it

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost_with = exc
        if not self.lost.done():
            self.lost.set_result(None)
        self._wake()

    async def next_frame(self, deadline: float | None = None) -> bytes:
        """The next frame; ``TimeoutError`` when none has come by ``deadline`` (the loop's
        clock; None: no limit). A frame already here is returned even past it.

        The deadline is a timer on the one future waited for, not ``asyncio.timeout_at``,
        whose context (a task lookup, a reschedule, the cancel-and-uncancel dance) cost more
        than the wait itself, once or twice for every message delivered."""
        while not self.frames:
            if self.error is not None:
                raise self.error
            if self.closed:
                raise ConnectionLost(CONNECTION_CLOSED())
            waiter = self._waiter = self._loop.create_future()
            timer = None if deadline is None else self._loop.call_at(deadline, _time_out, waiter)
            try:
                await waiter
            except TimeoutError:
                if not await self._read_what_came():
                    raise
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        return self.frames.popleft()

    async def _read_what_came(self) -> bool:
        """At the deadline: whether a frame is here after the loop has read what the system
        holds for this connection.

        A process stopped while it waited (SIGSTOP, a virtual machine paused) wakes with the
        answer in the socket's buffer and the deadline passed, and its first wait for events,
        cut short by the stop, returns without reading the socket once its time is up (libuv
        and asyncio's selector alike): the deadline's timer ran first, and an ACK that came in
        time was "no ACK within ack_timeout", the message sent again (a chaos soak). A few
        turns of the loop read it; an answer that did not come is still none."""
        for _ in range(_TURNS_TO_READ):
            if self.frames or self.error is not None or self.closed:
                break
            await asyncio.sleep(0)
        return bool(self.frames)

    async def stir(self, deadline: float) -> None:
        """Return when something happened on the connection (a frame, an error, its loss, the
        write buffer emptied) or at ``deadline`` (the loop's clock), whichever comes first."""
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_at(deadline, _settle, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            timer.cancel()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


async def _within(work: Coroutine[object, object, None], seconds: float) -> None:
    """``work`` done within ``seconds``, else ``TimeoutError`` (``work`` cancelled).

    As ``asyncio.timeout``, but at the deadline the loop gets a few turns to finish what the
    system already did: a process stopped while it connected (SIGSTOP, a virtual machine
    paused) wakes with the connection made and the deadline passed, and the deadline's timer
    ran before the socket was looked at (as for an answer: ``_read_what_came``)."""
    task = asyncio.ensure_future(work)
    unfinished = True
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
        for _ in range(0 if done else _TURNS_TO_CONNECT):
            await asyncio.sleep(0)
            if task.done():
                break
        unfinished = not task.done()
    finally:
        if unfinished:  # timed out, or this wait was cancelled: the loop's connect closes
            task.cancel()  # its socket as it ends (the caller aborts a connection made)
            task.add_done_callback(_retrieved)
    if unfinished:
        raise TimeoutError()
    task.result()


def _retrieved(task: asyncio.Task[None]) -> None:
    """An ended task's outcome taken, so that none is logged as never retrieved."""
    if not task.cancelled():
        task.exception()


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_TURNS_TO_READ = 3
"""Turns of the loop a deadline gives the socket's reads (``_read_what_came``). On uvloop and on
asyncio's loop the answer had been read by the time the deadline's wait ended (looking was
enough: tests/destinations/test_answer_during_a_stand_still.py); the turns are a margin for a
read that comes later (a TLS layer, another loop), and cost nothing but at a deadline."""
_TURNS_TO_CONNECT = 10
"""Turns of the loop a connect's deadline gives a connection the system made meanwhile
(``_within``): the loop's connect takes a few (the socket found writable, the transport made,
its ``connection_made``): four on uvloop and on asyncio's loop, where two were too few
(tests/destinations/test_answer_during_a_stand_still.py); the rest a margin (a handshake)."""

SETTLED_KEPT = 16
"""How many messages settled on a connection a late answer is recognised for (the newest)."""


class Answers:
    """How the caller reads the frames that come back for one message: the client itself knows
    no HL7, only frames, so what a frame *is* is asked here.

    Passed as ``exchange``'s ``more``, which it is: called with an answer, it says whether
    another answer to the same message follows. ``unasked`` is asked first, of every frame:
    what a frame that answers no message sent now is (a late answer to a message already
    settled on this connection, a message the receiver sends of its own accord), said without
    its content; such a frame is skipped and the wait for the answer goes on. ``key`` names the
    message among those settled, for the ``unasked`` of the ones sent after it.
    """

    key: str = ""

    def __call__(self, frame: bytes) -> bool:
        return False

    def unasked(self, frame: bytes, settled: Collection[str]) -> str | None:
        """What ``frame`` is when it answers no message sent now, else None (an answer to this
        message, right or wrong, for the caller to judge). ``settled``: the keys of the last
        ``SETTLED_KEPT`` messages settled on this connection, newest last."""
        return None

    def dropped(self, frame: bytes, settled: Collection[str], age: float) -> None:
        """``frame`` came once the answers were read, and goes with the connection, which is
        dropped for it: after this message's answer (an answer too many), or while the
        connection was quiet, found as this message is about to be sent. Read by no one else:
        the caller says what it was (a receiver that answers ``AA`` and then ``AR``), so that
        no answer is dropped unsaid. ``settled`` as for ``unasked``, this message's key last
        when it settled on this connection; ``age``: seconds since it came at the least (since
        the last frames came on the connection), which may be long on a quiet one."""


class MllpClient:
    """Sends framed messages to one receiver, one at a time, reusing the connection."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        ack_timeout: float,
        ssl_context: ssl.SSLContext | RenewedTlsContext | None = None,
        server_hostname: str | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        if not host:
            raise ValueError("host must not be empty")
        if not 0 <= port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if connect_timeout <= 0 or ack_timeout <= 0:
            raise ValueError("connect_timeout and ack_timeout must be positive")
        if server_hostname is not None and ssl_context is None:
            raise ValueError("server_hostname needs an ssl_context")
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.ack_timeout = ack_timeout
        self.connection_count = 0  # connections opened so far; tests and metrics read it
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        self._max_frame_size = max_frame_size
        self._protocol: _AckProtocol | None = None
        self._last_read: Answers | None = None  # the last message settled: who reads leftovers
        self._lock = asyncio.Lock()

    @classmethod
    def for_destination(cls, config: DestinationConfig) -> MllpClient:
        """A client with the destination's address, timeouts and TLS settings."""
        from destinations.tls import RenewedTlsContext

        tls = config.tls
        return cls(
            config.host,
            config.port,
            connect_timeout=config.connect_timeout,
            ack_timeout=config.ack_timeout,
            ssl_context=RenewedTlsContext(tls) if tls is not None else None,
            server_hostname=tls.server_name if tls is not None else None,
        )

    @property
    def connected(self) -> bool:
        return self._protocol is not None and not self._protocol.closed

    async def send(self, payload: bytes) -> bytes:
        """Send one message; return the content of the one ACK frame that answers it.

        Any failure closes the connection before the error is raised, so the next call starts
        on a fresh connection. Cancellation does the same.
        """
        return (await self.exchange(payload))[0]

    async def exchange(
        self, payload: bytes, more: Callable[[bytes], bool] | None = None
    ) -> list[bytes]:
        """Send one message; return its answer frames, in order.

        The first frame is always read; after each frame ``more(frame)`` says whether another
        answer to the same message follows (enhanced mode: a commit ACK, then the application
        ACK). Each answer gets the full ``ack_timeout``. ``more`` may be an ``Answers``, which
        also says which frames answer no message sent now: those are skipped. Whatever comes
        after the last expected frame makes the connection stale, so it is dropped. A failure
        after some frames arrived carries them in the error's ``answers``, so the attempt
        history shows what did arrive.
        A kept connection the receiver closed before a byte of the answer came is replaced, and
        the message written once more on the new one (``_resend``).
        """
        data = frame(payload)
        async with self._lock:
            protocol, opened = await self._ready_protocol()
            heard = protocol.bytes_received
            try:
                return await self._send_on(protocol, data, more, opened=opened)
            except ConnectionLost:
                if opened or protocol.bytes_received != heard:
                    raise
            return await self._resend(data, more)

    async def _resend(self, data: bytes, more: Callable[[bytes], bool] | None) -> list[bytes]:
        """Write ``data`` again on a new connection: the kept one was closed by the receiver
        before a byte of the answer came.

        Such a receiver closes after each ACK (an interface engine set not to keep connections
        open), and its FIN was still on its way when the message was written. It closed without
        reading, so it did not take the message; the same bytes (the same MSH-10, as a retry
        sends) go once more, in the same send, rather than waiting out a retry's backoff. A
        connection opened for the send is never written twice: its loss is the send's error.
        """
        _log.info(
            "kept connection closed by the receiver before it answered; "
            "sending again on a new connection",
            where=f"{self.host}:{self.port}",
            # The MSH-10 of the message written twice, for the receiver who asks why it came
            # twice (the caller's key: the client reads no HL7).
            control_id=more.key if isinstance(more, Answers) else None,
        )
        protocol = await self._connect()
        return await self._send_on(protocol, data, more, opened=True)

    async def _send_on(
        self,
        protocol: _AckProtocol,
        data: bytes,
        more: Callable[[bytes], bool] | None,
        *,
        opened: bool,
    ) -> list[bytes]:
        """Write one framed message on ``protocol`` and read its answers (``exchange``);
        ``opened``: the connection was opened for this send."""
        transport = protocol.transport
        assert transport is not None
        answers: list[bytes] = []
        stray_before = protocol.decoder.discarded_bytes
        heard = protocol.bytes_received
        skipped: list[str] = []
        try:
            transport.write(data)
            if protocol.unsent:  # a large message, a slow link: the common small one is gone
                await self._sending(protocol, len(data))
            await self._read_answers(protocol, more, answers, skipped)
        except TimeoutError as exc:
            stray = protocol.decoder.discarded_bytes - stray_before
            unfinished = protocol.decoder.pending_bytes
            self._abort()
            said = _no_ack(answers, self.ack_timeout, stray, unfinished)
            error = AckTimeout(_and_skipped(said, skipped) if skipped else said)
            error.answers = tuple(answers)
            raise error from exc
        except ConnectionLost as exc:
            self._abort()
            closed = self._closed(protocol, answers, stray_before, heard, opened=opened)
            if closed is None:
                exc.answers = tuple(answers)
                raise
            raise closed from exc
        except DeliveryError as exc:
            self._abort()
            exc.answers = tuple(answers)
            raise
        except BaseException:
            self._abort()
            raise
        if isinstance(more, Answers):
            protocol.settled.append(more.key)
            self._last_read = more
        if protocol.stale:
            # More than the expected answers, or the start of another: out of step.
            _say_dropped(protocol, more)
            self._abort()
        return answers

    def _closed(
        self,
        protocol: _AckProtocol,
        answers: list[bytes],
        stray_before: int,
        heard: int,
        *,
        opened: bool,
    ) -> ConnectionLost | None:
        """Why the receiver closed before (another) answer, when more can be said than
        "connection closed before the ACK arrived" (None: nothing more). A TLS connection
        opened for the send that closed before any byte: the handshake's refusal, likely
        (``TLS_CLOSED``). Bytes that came and made no frame: what they were, as a timeout says
        it, so a receiver's framing mistake is not taken for silence (``_closed_after``)."""
        if opened and self._ssl_context is not None and protocol.bytes_received == heard:
            return ConnectionLost(_tls_closed(protocol.lost_with))
        stray = protocol.decoder.discarded_bytes - stray_before
        said = _closed_after(answers, stray, protocol.decoder.pending_bytes)
        if said is None:
            return None
        closed = ConnectionLost(said)
        closed.answers = tuple(answers)
        return closed

    async def _sending(self, protocol: _AckProtocol, size: int) -> None:
        """Wait until the ``size`` bytes just written have left the engine's write buffer, so
        that ``ack_timeout`` bounds the receiver's answer, not the link's speed.

        Bounded by progress, not by size: ``SendStalled`` when the receiver took no byte for
        ``ack_timeout`` (it stopped reading, its TCP window closed). The buffer emptying wakes
        the wait (``resume_writing``); the progress is looked at every ``_SENDING_CHECK`` (a
        TLS transport says nothing of the socket's buffer below it). A frame, an error or the
        connection's loss ends the wait too: the answer's wait says what happened."""
        loop = asyncio.get_running_loop()
        check = min(_SENDING_CHECK, self.ack_timeout / 4)
        unsent = protocol.unsent
        moved = loop.time()
        while unsent and not (protocol.frames or protocol.error is not None or protocol.closed):
            await protocol.stir(min(loop.time() + check, moved + self.ack_timeout))
            now, left = loop.time(), protocol.unsent
            if left and left >= unsent and now >= moved + self.ack_timeout:
                # As for an answer (``_read_what_came``): after a stop the timer ran before the
                # socket was written to, though the receiver took bytes meanwhile.
                for _ in range(_TURNS_TO_READ):
                    await asyncio.sleep(0)
                now, left = loop.time(), protocol.unsent
            if left < unsent:
                unsent, moved = left, now
            elif left and now >= moved + self.ack_timeout:
                written = f"{max(size - left, 0):,}"
                seconds = f"{self.ack_timeout:g}"
                raise SendStalled(SEND_STALLED(written=written, size=f"{size:,}", seconds=seconds))

    async def _read_answers(
        self,
        protocol: _AckProtocol,
        more: Callable[[bytes], bool] | None,
        answers: list[bytes],
        skipped: list[str],
    ) -> None:
        """Read the answers into ``answers`` until ``more`` expects no other, each within
        ``ack_timeout``. A frame that ``Answers.unasked`` says answers no message sent now is
        no answer: what it is goes to ``skipped``, and the wait goes on until the same
        deadline, so frames sent unasked cannot stretch it."""
        rules = more if isinstance(more, Answers) else None
        loop = asyncio.get_running_loop()
        while True:
            deadline = loop.time() + self.ack_timeout
            while True:
                answer = await protocol.next_frame(deadline)
                what = None if rules is None else rules.unasked(answer, protocol.settled)
                if what is None:
                    break
                skipped.append(what)
            answers.append(answer)
            if more is None or not more(answer):
                return

    async def close(self) -> None:
        """Close the connection politely (the next ``send`` would reconnect)."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            _say_dropped(protocol, self._last_read)
        if protocol is None or protocol.transport is None or protocol.closed:
            return
        protocol.transport.close()
        _done, pending = await asyncio.wait({protocol.lost}, timeout=_CLOSE_WAIT)
        if pending:
            protocol.transport.abort()

    async def __aenter__(self) -> MllpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _ready_protocol(self) -> tuple[_AckProtocol, bool]:
        """The connection to send on, and whether it was opened for this send. A kept one
        that is stale is dropped, what came on it since the last answer said first
        (``Answers.dropped``, asked of the last message settled on it)."""
        protocol = self._protocol
        if protocol is not None and not protocol.stale:
            return protocol, False
        if protocol is not None:
            _say_dropped(protocol, self._last_read)
        self._abort()
        return await self._connect(), True

    async def _connect(self) -> _AckProtocol:
        """A new connection: TCP, then the TLS handshake when the destination has TLS, both
        within one ``connect_timeout``.

        The two are made one after the other rather than in one ``create_connection``, so a
        timeout says which did not finish: a receiver that speaks plain MLLP on the port
        ignores the ClientHello (bytes outside a frame) and never answers it, and that read
        "connect … timed out" although TCP had connected, pointing at the network instead of
        at TLS (``HANDSHAKE_UNANSWERED``)."""
        loop = asyncio.get_running_loop()
        protocol = _AckProtocol(loop, self._max_frame_size)
        where = f"{self.host}:{self.port}"
        made: list[asyncio.Transport] = []  # the TCP connection, once there is one
        try:
            await _within(self._open(loop, protocol, made), self.connect_timeout)
        except TimeoutError as exc:
            seconds = f"{self.connect_timeout:g}"
            if not made:
                raise ConnectFailed(CONNECT_TIMED_OUT(where=where, seconds=seconds)) from exc
            made[0].abort()
            raise ConnectFailed(HANDSHAKE_UNANSWERED(where=where, seconds=seconds)) from exc
        except OSError as exc:  # includes ssl.SSLError and name resolution errors
            if made:
                made[0].abort()
            tls = self._ssl_context is not None
            raise ConnectFailed(CONNECT_FAILED(where=where, cause=_describe(exc, tls))) from exc
        except BaseException:  # cancelled: no connection is left behind half made
            if made:
                made[0].abort()
            raise
        self._protocol = protocol
        self.connection_count += 1
        return protocol

    async def _open(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: _AckProtocol,
        made: list[asyncio.Transport],
    ) -> None:
        """TCP, then the TLS handshake when the destination has TLS (``_connect`` bounds
        both); the TCP connection goes into ``made`` as soon as there is one."""
        tcp, _ = await loop.create_connection(lambda: protocol, self.host, self.port)
        made.append(tcp)
        if self._ssl_context is not None:
            protocol.transport = await self._handshake(loop, tcp, protocol)

    async def _handshake(
        self, loop: asyncio.AbstractEventLoop, tcp: asyncio.Transport, protocol: _AckProtocol
    ) -> asyncio.Transport:
        """The TLS transport over ``tcp``, once the handshake is done (the caller bounds the
        wait). The loop's own handshake timeout is set past the caller's, so the caller's
        says what happened; its ``ConnectionAbortedError`` would read as a receiver that
        dropped the handshake. A connection lost without an error in the handshake leaves no
        transport: that is a dropped handshake too."""
        assert self._ssl_context is not None
        context = self._ssl_context
        transport = await loop.start_tls(
            tcp,
            protocol,
            context if isinstance(context, ssl.SSLContext) else context.current(),
            server_hostname=self._server_hostname or self.host,
            ssl_handshake_timeout=self.connect_timeout + _HANDSHAKE_SPARE,
        )
        if transport is None:
            raise ConnectionResetError()
        return transport

    def _abort(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None and not protocol.closed:
            protocol.transport.abort()


# What the errors raised here say (``shapes``): the console words them in the person's language.
CONNECT_TIMED_OUT = Shape(
    "delivery.connect_timed_out",
    "connect to {where} timed out after {seconds}s",
    where=ADDRESS,
    seconds=SECONDS,
)
CONNECT_FAILED = Shape(
    "delivery.connect_failed", "connect to {where} failed: {cause}", where=ADDRESS, cause=TEXT
)
"""``cause`` is one of the five below: why the socket or TLS layer refused."""
REFUSED = Shape("delivery.refused", "ConnectionRefusedError: {detail}", detail=TEXT)
SOCKET_ERROR = Shape(
    "delivery.socket_error", "{kind}: {detail}", kind=r"[A-Za-z_][A-Za-z0-9_]*", detail=TEXT
)
"""Any other socket error: its class and the system's own words, shown as they are."""
TLS_UNVERIFIED = Shape(
    "delivery.tls_unverified", "TLS certificate verification failed ({detail})", detail=TEXT
)
TLS_FAILED = Shape("delivery.tls_failed", "TLS error ({detail})", detail=TEXT)
TLS_HANDSHAKE_CLOSED = Shape(
    "delivery.tls_handshake_closed",
    "the receiver closed the connection during the TLS handshake "
    "(was the client certificate missing or refused?)",
)
"""TLS 1.2: a receiver that refuses the client's certificate (or its lack) may drop the
connection without an alert; the socket's own words were a bare ``ConnectionResetError``."""
TLS_CLOSED = Shape(
    "delivery.tls_closed",
    "the receiver closed the TLS connection before answering "
    "(was the client certificate missing or refused?)",
)
"""TLS 1.3: the client's handshake is done before the server has judged its certificate, so a
refusal comes after the message was written, as a closed connection ("connection closed before
the ACK arrived" said nothing of TLS). Said only of a connection opened for the send that closed
before a byte of an answer: the handshake is the likely cause, not a certainty."""
TLS_CLOSED_SAYING = Shape(
    "delivery.tls_closed_saying",
    "the receiver closed the TLS connection before answering: {reason} "
    "(was the client certificate missing or refused?)",
    reason=r"[A-Z0-9_]+",
)
"""As ``TLS_CLOSED``, with the reason the TLS layer gave (the receiver's alert:
``TLSV13_ALERT_CERTIFICATE_REQUIRED``, ``TLSV1_ALERT_UNKNOWN_CA``, ...)."""
CONNECTION_CLOSED = Shape("delivery.connection_closed", "connection closed before the ACK arrived")
NO_ACK = Shape("delivery.no_ack", "no ACK within {seconds}s", seconds=SECONDS)
GROUPED = r"\d{1,3}(?:,\d{3})*"  # a count with thousands separators: `12,345,678`
SEND_STALLED = Shape(
    "delivery.send_stalled",
    "the receiver stopped reading: {written} of {size} bytes written, none taken for {seconds}s",
    written=GROUPED,
    size=GROUPED,
    seconds=SECONDS,
)
"""The message was not all sent: the receiver took no byte for ``ack_timeout`` (its TCP window
stayed closed), so the answer was never waited for. ``written``: the bytes the system took."""
NO_APPLICATION_ACK = Shape(
    "delivery.no_application_ack",
    "no application ACK after the commit ACK within {seconds}s",
    seconds=SECONDS,
)


UNFRAMED_ANSWER = Shape(
    "delivery.unframed_answer",
    "no ACK within {seconds}s: {count} bytes came outside an MLLP frame "
    "(no 0x0B start block before them)",
    seconds=SECONDS,
    count=NUMBER,
)
"""An answer sent without MLLP's frame, a receiver's setup mistake: said as such, not as
silence, so the dead letter does not blame a receiver that did answer."""
UNFINISHED_FRAME = Shape(
    "delivery.unfinished_frame",
    "no ACK within {seconds}s: an MLLP frame of {count} bytes began but never ended "
    "(no 0x1C 0x0D end block)",
    seconds=SECONDS,
    count=NUMBER,
)


CLOSED_IN_FRAME = Shape(
    "delivery.closed_in_frame",
    "connection closed before the ACK arrived: an MLLP frame of {count} bytes began but never "
    "ended (no 0x1C 0x0D end block)",
    count=NUMBER,
)
"""The receiver closed while its answer's frame was open: half an ACK, a crash mid-answer."""
CLOSED_AFTER_UNFRAMED = Shape(
    "delivery.closed_after_unframed",
    "connection closed before the ACK arrived: {count} bytes came outside an MLLP frame "
    "(no 0x0B start block before them)",
    count=NUMBER,
)
"""The receiver sent bytes outside any frame and closed: an unframed answer, or a TLS alert
from a receiver that expects TLS where the destination has none."""
HANDSHAKE_UNANSWERED = Shape(
    "delivery.tls_handshake_unanswered",
    "TLS handshake with {where} got no answer within {seconds}s "
    "(does the receiver speak TLS on this port?)",
    where=ADDRESS,
    seconds=SECONDS,
)
"""TCP connected, the TLS handshake did not finish within ``connect_timeout`` (which bounds
both): most often a receiver that speaks plain MLLP on the port, reading the ClientHello as
bytes outside a frame and waiting for more."""


_DROPPED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError)
"""Errors of a connection the peer dropped: during a TLS handshake, the receiver refusing it."""
_TLS_REASON = re.compile(r"[A-Z0-9_]+")


def _tls_closed(exc: Exception | None) -> str:
    """Why a TLS connection opened for the send closed before any answer: the TLS layer's
    reason (the receiver's alert) when it gave one."""
    reason = getattr(exc, "reason", None) if isinstance(exc, ssl.SSLError) else None
    if isinstance(reason, str) and _TLS_REASON.fullmatch(reason):
        return TLS_CLOSED_SAYING(reason=reason)
    return TLS_CLOSED()


SKIPPED = Shape(
    "delivery.skipped_frames",
    "{error}; {count} frame(s) came that answer no message sent now, skipped ({kinds})",
    error=TEXT,
    count=NUMBER,
    kinds=r"[A-Z0-9]{3}(?:\^[A-Z0-9]{3})?(?:, [A-Z0-9]{3}(?:\^[A-Z0-9]{3})?)*",
)
"""No answer in time, though frames came: late answers to earlier messages, messages the
receiver sent unasked. Said so that a dead letter does not blame a receiver for silence; named
by their message types (MSH-9), never their content."""


def _say_dropped(protocol: _AckProtocol, more: Callable[[bytes], bool] | None) -> None:
    """Hand the frames about to go with ``protocol`` to ``more.dropped`` (nothing without an
    ``Answers``, which only the engine's own callers pass), emptying them: each is said once."""
    frames, protocol.frames = protocol.frames, deque()
    if isinstance(more, Answers) and frames:
        age = time.monotonic() - protocol.frames_at
        for frame in frames:
            more.dropped(frame, protocol.settled, age)


def _and_skipped(said: str, skipped: list[str]) -> str:
    """``said`` (why no answer came), and the frames skipped meanwhile by their types."""
    kinds = ", ".join(dict.fromkeys(skipped))
    return SKIPPED(error=said, count=len(skipped), kinds=kinds)


def _no_ack(answers: list[bytes], timeout: float, stray: int, unfinished: int) -> str:
    """Why no (further) ACK came, by what did arrive: an open frame, bytes outside any
    frame, or nothing at all."""
    seconds = f"{timeout:g}"
    if unfinished:
        return UNFINISHED_FRAME(seconds=seconds, count=str(unfinished))
    if stray and not answers:
        return UNFRAMED_ANSWER(seconds=seconds, count=str(stray))
    return (NO_APPLICATION_ACK if answers else NO_ACK)(seconds=seconds)


def _closed_after(answers: list[bytes], stray: int, unfinished: int) -> str | None:
    """What came before the receiver closed without (another) answer, as ``_no_ack`` says it
    when the timeout runs out: an open frame, or bytes outside any frame (after an answer
    those are its trailing line ends, not worth a word); None when nothing did."""
    if unfinished:
        return CLOSED_IN_FRAME(count=str(unfinished))
    if stray and not answers:
        return CLOSED_AFTER_UNFRAMED(count=str(stray))
    return None


def _keep_alive(sock: socket.socket | None) -> None:
    """TCP keepalive on a kept connection, probing after a minute of quiet.

    A stateful firewall between engine and hospital forgets a connection that is quiet for
    longer than its idle timeout and then drops its packets without a word: the first message
    after a quiet night waited the whole ``ack_timeout`` and was a failed attempt. The probes
    keep such a firewall's entry alive, and a connection that is gone all the same is closed by
    the system within about two minutes (60 s + 4 × 15 s), so the next send opens a new one.
    (The system's default waits two hours before the first probe.) Options a platform lacks
    are left out; one it refuses does not stop the connection.
    """
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in _KEEPALIVE_OPTIONS:
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


def _describe(exc: OSError, tls: bool = False) -> str:
    """A short reason from a socket or TLS error (these carry addresses at most, no content);
    ``tls``: the connection was to do a TLS handshake."""
    if tls and isinstance(exc, _DROPPED):
        return TLS_HANDSHAKE_CLOSED()
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLS_UNVERIFIED(detail=exc.verify_message)
    if isinstance(exc, ssl.SSLError):
        return TLS_FAILED(detail=exc.reason or type(exc).__name__)
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED(detail=reason)
    return SOCKET_ERROR(kind=type(exc).__name__, detail=reason)
