"""MLLP framing: ``0x0B payload 0x1C 0x0D``, and nothing about HL7.

Kept byte-only so the same decoder serves the client (reading ACKs), the test receiver and
benchmarks, and so it can be tested exhaustively on its own.

The decoder is incremental because TCP delivers arbitrary chunks: a frame may arrive split at
any byte, and one chunk may hold several frames. Only the bytes of the unfinished frame are kept,
and the search for the end block resumes where the previous chunk stopped, so a multi-MB frame
arriving in 64 KiB pieces costs linear time, not quadratic.
"""

from __future__ import annotations

from destinations.errors import FrameTooLarge, InvalidPayload
from shapes import Shape

# Why a payload cannot be framed (``shapes``).
HAS_START_BYTE = Shape(
    "delivery.payload_start_byte", "payload contains the MLLP start block byte 0x0B"
)
HAS_END_BYTE = Shape("delivery.payload_end_byte", "payload contains the MLLP end block byte 0x1C")

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "END",
    "START",
    "FrameDecoder",
    "FrameTooLarge",
    "InvalidPayload",
    "frame",
]

START = b"\x0b"
END = b"\x1c\x0d"
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024

_FS = 0x1C
_FS_BYTE = b"\x1c"


def frame(payload: bytes) -> bytes:
    """Wrap ``payload`` in start and end blocks.

    Refuses payloads holding the start or end block byte: sent as-is they would split or corrupt
    the frame on the receiver's side, which is worse than failing here.
    """
    if START in payload:
        raise InvalidPayload(HAS_START_BYTE())
    if _FS_BYTE in payload:
        raise InvalidPayload(HAS_END_BYTE())
    return START + payload + END


class FrameDecoder:
    """Turns a byte stream into frame payloads.

    Bytes outside a frame (line noise, a stray ``\\n`` some peers send after the end block) are
    counted in ``discarded_bytes`` and dropped rather than treated as fatal. A ``0x0B`` inside a
    frame is kept as data: the frame ends only at ``0x1C 0x0D``. After ``FrameTooLarge`` the
    decoder is reset, but the stream is out of step and the connection should be closed.
    """

    __slots__ = ("_buffer", "_in_frame", "_scan_from", "discarded_bytes", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if max_frame_size < 1:
            raise ValueError("max_frame_size must be at least 1")
        self.max_frame_size = max_frame_size
        self.discarded_bytes = 0
        self._buffer = bytearray()  # payload bytes of the unfinished frame (start block removed)
        self._in_frame = False
        self._scan_from = 0  # where the next search for END may start inside _buffer

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished frame held so far (0 when between frames)."""
        return len(self._buffer) + 1 if self._in_frame else 0

    def reset(self) -> None:
        self._buffer.clear()
        self._in_frame = False
        self._scan_from = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Consume one chunk; return the payloads of every frame it completes, in order."""
        frames: list[bytes] = []
        if not data:
            return frames
        if self._in_frame:
            rest = self._continue_frame(data, frames)
            if rest is None:
                return frames
            data = rest
        self._scan_chunk(data, frames)
        return frames

    def _continue_frame(self, data: bytes, frames: list[bytes]) -> bytes | None:
        """Append to the unfinished frame; return the bytes after its end, or None if still open."""
        buffer = self._buffer
        buffer += data
        end = buffer.find(END, self._scan_from)
        if end < 0:
            self._check_open_frame()
            return None
        if end > self.max_frame_size:
            self._fail()
        frames.append(bytes(buffer[:end]))
        # END was found at or after the old buffer's end - 1, so the rest lies within this chunk.
        rest = bytes(buffer[end + len(END) :])
        self.reset()
        return rest

    def _scan_chunk(self, data: bytes, frames: list[bytes]) -> None:
        limit = self.max_frame_size
        size = len(data)
        pos = 0
        while pos < size:
            start = data.find(START, pos)
            if start < 0:
                self.discarded_bytes += size - pos
                return
            self.discarded_bytes += start - pos
            begin = start + 1
            end = data.find(END, begin)
            if end < 0:
                self._in_frame = True
                self._buffer += memoryview(data)[begin:]
                self._check_open_frame()
                return
            if end - begin > limit:
                self._fail()
            frames.append(data[begin:end])
            pos = end + len(END)

    def _check_open_frame(self) -> None:
        buffer = self._buffer
        # A trailing 0x1C may be the first half of the end block, so it does not count yet.
        held = len(buffer) - (1 if buffer and buffer[-1] == _FS else 0)
        if held > self.max_frame_size:
            self._fail()
        self._scan_from = max(0, len(buffer) - 1)

    def _fail(self) -> None:
        self.reset()
        raise FrameTooLarge(self.max_frame_size)
