"""A well-behaved MLLP receiver for ``integrator receiver``, the demo, tests and benchmarks.

It stands in for a hospital interface engine: it accepts many connections and many messages per
connection, answers every frame with an ACK in order, and can save what it gets. It is built on
``asyncio.Protocol`` and answers all frames of one TCP chunk with one write, because benchmarks
push hundreds of thousands of messages through it.

``build_ack`` is a separate function of the message alone (plus an optional clock and id), so
tests and other receivers can produce exactly the ACK a conformant engine would.

It takes a frame as large as the largest message the engine can send (``LARGEST_MESSAGE``), so a
hospital testing with it is never refused a referral the engine would send it.

It can also be slow (``answer_delay``) or silent (``answering=False``): the failure met most in
the field is an ACK that comes too late or never, and an operator rehearsing a first connection
must be able to watch the engine time out, retry with the same MSH-10 and give up without
writing a listener of their own.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import ssl
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Final, cast

import structlog

from destinations.ack import ACK_CODES, codec_for, read_msh
from destinations.errors import DeliveryError, FrameTooLarge, MalformedMessage
from destinations.mllp import FrameDecoder, frame

_log = structlog.get_logger(__name__)

ATTACHMENTS_IN_BASE64: Final = 4 * -(-50 * 1024 * 1024 // 3)
"""The attachments of one event at their most, 50 MiB (``schemas.attachments``,
``MAX_ATTACHMENTS_TOTAL_BYTES``), in base64: 69,905,068 bytes. Said again here rather than
imported, as ``destinations`` imports none of the intake's packages (docs/architecture.md); a
test holds the two together (``tests/destinations/test_receiver_largest_message.py``)."""
REST_OF_MESSAGE: Final = 10_000_000
"""Room for the rest of the largest message: its text, at most 1,000,000 characters
(``schemas.fields.MAX_EVENT_TEXT``), each at most five bytes on the wire once escaped
(``\\X01\\``), the segments around it and the attachments' base64 padding, one per file."""
LARGEST_MESSAGE: Final = ATTACHMENTS_IN_BASE64 + REST_OF_MESSAGE
"""The receiver's default largest frame, 79,905,068 bytes: at least the largest message the
engine can send. (The 64 MiB of ``mllp.DEFAULT_MAX_FRAME_SIZE`` bounds an answer, an ACK; it
refused a referral with its full 50 MiB of attachments, some 73 MB.)"""

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_CALLBACK_FAILED = "receiver could not process the message"
_UNREADABLE = "message has no readable MSH segment"


def build_ack(
    message: bytes,
    code: str,
    *,
    text: str = "",
    now: datetime | None = None,
    control_id: str | None = None,
) -> bytes:
    """The original-mode ACK a conformant receiver sends for ``message``.

    MSH-3/4 and MSH-5/6 are swapped, MSH-7 is ``now`` (local time with offset by default),
    MSH-9 is ``ACK^<trigger>^ACK``, MSH-10 a fresh id (or ``control_id``), MSH-11/12/18 are
    copied, MSA-1 is ``code`` and MSA-2 the incoming MSH-10. Raises ``MalformedMessage`` when
    the message has no readable MSH.
    """
    if code not in ACK_CODES:
        raise ValueError("code must be one of AA, AE, AR, CA, CE, CR")
    msh = read_msh(message)
    fs = msh.field_separator
    cs = msh.component_separator
    trigger = msh.trigger_event
    message_type = f"ACK{cs}{trigger}{cs}ACK" if trigger else "ACK"
    fields = [
        msh.receiving_application,  # MSH-3
        msh.receiving_facility,  # MSH-4
        msh.sending_application,  # MSH-5
        msh.sending_facility,  # MSH-6
        _timestamp(now),  # MSH-7
        "",  # MSH-8
        message_type,  # MSH-9
        control_id if control_id is not None else new_control_id(),  # MSH-10
        msh.processing_id,  # MSH-11
        msh.version,  # MSH-12
        "",  # MSH-13
        "",  # MSH-14
        "",  # MSH-15
        "",  # MSH-16
        "",  # MSH-17
        msh.charset,  # MSH-18
    ]
    while fields and not fields[-1]:
        fields.pop()
    header = fs.join(["MSH", msh.encoding_characters, *fields])
    msa = fs.join(
        ["MSA", code, msh.control_id]
        + ([_escape(text, fs, msh.encoding_characters)] if text else [])
    )
    codec = codec_for(msh.charset) or "utf-8"
    return f"{header}\r{msa}\r".encode(codec, errors="replace")


def new_control_id() -> str:
    """A 20-character id that is unique without coordination (MSH-10 allows at most 20)."""
    return "A" + uuid.uuid4().hex[:19]


class MllpReceiver:
    """An asyncio MLLP server that acknowledges every frame it receives.

    ``ack_code`` may be changed while running (tests switch to AE/AR). ``on_message`` runs for
    every frame before it is acknowledged; if it raises, the answer is AE. Frames without a
    readable MSH are answered AR with an empty MSA-2, as there is nothing to refer to.

    Enhanced acknowledgement mode follows each message's own MSH-15/16 (a message with both
    empty is answered in original mode): a commit ACK ``commit_code`` (``CA``) when MSH-15 asks
    for one (``AL``; ``ER`` only for CE/CR, ``SU`` only for CA), then, if the commit was ``CA``,
    the application ACK ``ack_code`` when MSH-16 asks for it, ``application_delay`` seconds
    later (to test a client waiting for it).

    ``answer_delay`` holds each message's answer back that many seconds from the message's
    arrival (a slow interface engine), still in order on its connection and without holding
    up the others. ``answering=False`` takes, records and saves every message but never
    answers, leaving the connection open for the sender to close (one that never ACKs).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ack_code: str = "AA",
        save_dir: Path | None = None,
        on_message: Callable[[bytes], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_frame_size: int = LARGEST_MESSAGE,
        commit_code: str = "CA",
        application_delay: float = 0.0,
        answer_delay: float = 0.0,
        answering: bool = True,
    ) -> None:
        if commit_code not in ("CA", "CE", "CR"):
            raise ValueError("commit_code must be one of CA, CE, CR")
        if not math.isfinite(answer_delay) or answer_delay < 0:
            raise ValueError("answer_delay must be a finite number of seconds, 0 or more")
        self.answer_delay = answer_delay
        self.answering = answering
        self.commit_code = commit_code
        self.application_delay = application_delay
        self.host = host
        self.port = port
        self.ack_code = ack_code
        self.save_dir = save_dir
        self.on_message = on_message
        self.received: list[bytes] = []
        self.message_count = 0  # total since start; unlike ``received`` not reset by clear()
        self.connection_count = 0  # connections accepted since start
        self._ssl_context = ssl_context
        self._max_frame_size = max_frame_size
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()

    @property
    def ack_code(self) -> str:
        return self._ack_code

    @ack_code.setter
    def ack_code(self, code: str) -> None:
        if code not in ACK_CODES:
            raise ValueError("ack_code must be one of AA, AE, AR, CA, CE, CR")
        self._ack_code = code

    @property
    def open_connections(self) -> int:
        return len(self._transports)

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with ``port=0``)."""
        if self._server is not None:
            raise RuntimeError("receiver already started")
        if self.save_dir is not None:
            # The messages are full HL7 (a BSN, names, addresses): a folder made here is its
            # user's only; one that exists is left as it is (``save_dir_shared`` says whether
            # others may read it).
            self.save_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ReceiverProtocol(self), self.host, self.port, ssl=self._ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for transport in list(self._transports):
            transport.close()
        await server.wait_closed()

    def clear(self) -> None:
        """Forget the received messages (counters keep running)."""
        self.received.clear()

    async def __aenter__(self) -> MllpReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _connected(self, transport: asyncio.Transport) -> None:
        self._transports.add(transport)
        self.connection_count += 1

    def _disconnected(self, transport: asyncio.Transport) -> None:
        self._transports.discard(transport)

    def _answer(self, message: bytes) -> tuple[bytes, bytes]:
        """Record one message; return its framed answer now, and one to send after a delay."""
        self.received.append(message)
        self.message_count += 1
        code, text = self._ack_code, ""
        if self.on_message is not None:
            try:
                self.on_message(message)
            except Exception as exc:
                _log.warning("receiver_callback_failed", error=type(exc).__name__)
                code, text = "AE", _CALLBACK_FAILED
        if self.save_dir is not None:
            self._save(message)
        try:
            msh = read_msh(message)
            if not msh.accept_ack_type and not msh.application_ack_type:
                return frame(build_ack(message, code, text=text)), b""
            commit = self.commit_code
            now = b""
            if _wanted(msh.accept_ack_type, success=commit == "CA"):
                now = frame(build_ack(message, commit))
            later = b""
            if commit == "CA" and _wanted(msh.application_ack_type, success=code == "AA"):
                later = frame(build_ack(message, code, text=text))
            if self.application_delay <= 0:
                return now + later, b""
            return now, later
        except (MalformedMessage, DeliveryError):
            return frame(_unreadable_ack()), b""

    def _save(self, message: bytes) -> None:
        try:
            name = _UNSAFE_NAME.sub("_", read_msh(message).control_id)[:40] or "message"
        except MalformedMessage:
            name = "unreadable"
        assert self.save_dir is not None
        stem = f"{self.message_count:06d}-{name}"
        for attempt in range(1, 1000):
            path = self.save_dir / (f"{stem}.hl7" if attempt == 1 else f"{stem}-{attempt}.hl7")
            try:
                # Made readable by its owner only from the start (never chmod after writing:
                # the bytes would be readable in between). A file of an earlier run with the
                # same name is kept, not overwritten: this one gets a suffix.
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as out:
                out.write(message)
            return
        _log.warning("receiver_save_failed", reason="no free file name")

    @property
    def save_dir_shared(self) -> bool:
        """Whether the save folder may be read or entered by other users of the machine (one
        that existed before, made so by hand or by an older version): the saved messages are
        private files, but their names and count are not."""
        if self.save_dir is None:
            return False
        try:
            return bool(self.save_dir.stat().st_mode & 0o077)
        except OSError:
            return False


class _ReceiverProtocol(asyncio.Protocol):
    def __init__(self, owner: MllpReceiver) -> None:
        self._owner = owner
        self._decoder = FrameDecoder(owner._max_frame_size)
        self._transport: asyncio.Transport | None = None
        # Answers held back by ``answer_delay``: (when due, answer, enhanced mode's later one),
        # oldest first; one timer for the oldest keeps them in order on this connection only.
        self._held: deque[tuple[float, bytes, bytes]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        self._owner._connected(transport)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        try:
            frames = self._decoder.feed(data)
        except FrameTooLarge:
            _log.warning("receiver_frame_too_large", limit=self._owner._max_frame_size)
            transport.abort()
            return
        if not frames:
            return
        owner = self._owner
        if not owner.answering:
            for message in frames:
                owner._answer(message)  # recorded, shown and saved; the answer is dropped
            return
        if owner.answer_delay > 0:
            loop = asyncio.get_running_loop()
            due = loop.time() + owner.answer_delay
            for message in frames:
                answer, later = owner._answer(message)
                self._held.append((due, answer, later))
            if self._timer is None:
                self._timer = loop.call_at(self._held[0][0], self._release)
            return
        self._write_now([owner._answer(message) for message in frames])

    def _write_now(self, answers: list[tuple[bytes, bytes]]) -> None:
        """All answers in one write (a benchmark's pipelined frames), enhanced mode's later ones
        each ``application_delay`` on."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        now: list[bytes] = []
        for answer, later in answers:
            now.append(answer)
            if later:
                asyncio.get_running_loop().call_later(
                    self._owner.application_delay, self._write_later, later
                )
        transport.write(b"".join(now))

    def _release(self) -> None:
        """Write the held answers that are due. The clock is asked again rather than trusting
        the timer: a loop may run a timer a little early, and an answer must never come sooner
        than ``answer_delay`` (a rehearsal's timeout counts on it)."""
        self._timer = None
        loop = asyncio.get_running_loop()
        due: list[tuple[bytes, bytes]] = []
        while self._held and self._held[0][0] <= loop.time():
            _, answer, later = self._held.popleft()
            due.append((answer, later))
        if due:
            self._write_now(due)
        if self._held:
            self._timer = loop.call_at(self._held[0][0], self._release)

    def _write_later(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()
        if self._transport is not None:
            self._owner._disconnected(self._transport)


def _wanted(ack_type: str, *, success: bool) -> bool:
    """HL7 table 0155: AL always, NE never, ER only on error, SU only on success."""
    return ack_type == "AL" or (ack_type == "ER" and not success) or (ack_type == "SU" and success)


def _timestamp(now: datetime | None) -> str:
    moment = now if now is not None else datetime.now().astimezone()
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.strftime("%Y%m%d%H%M%S%z")


def _escape(text: str, fs: str, enc: str) -> str:
    """Escape delimiters in free text; line breaks become spaces (MSA-3 is a single line)."""
    esc = enc[2] if len(enc) > 2 else "\\"
    text = text.replace(esc, f"{esc}E{esc}")
    replacements = [(fs, "F"), (enc[0], "S")]
    if len(enc) > 1:
        replacements.append((enc[1], "R"))
    if len(enc) > 3:
        replacements.append((enc[3], "T"))
    for char, letter in replacements:
        text = text.replace(char, f"{esc}{letter}{esc}")
    return " ".join(text.splitlines())


def _unreadable_ack() -> bytes:
    header = f"MSH|^~\\&|||||{_timestamp(None)}||ACK|{new_control_id()}|P|2.5.1"
    return f"{header}\rMSA|AR||{_UNREADABLE}\r".encode("ascii")
