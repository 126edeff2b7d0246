"""MLLP framing: byte-exact, incremental, tolerant of noise between frames, bounded in size."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destinations.errors import DeliveryError
from destinations.mllp import END, START, FrameDecoder, FrameTooLarge, InvalidPayload, frame

MESSAGE = b"MSH|^~\\&|A|B|C|D|20261120091500+0100||ACK^I12^ACK|1|P|2.5.1\rMSA|AA|1\r"


def test_frame_wraps_payload_in_start_and_end_blocks() -> None:
    assert frame(b"abc") == b"\x0babc\x1c\x0d"
    assert START == b"\x0b"
    assert END == b"\x1c\x0d"


@pytest.mark.parametrize("bad", [b"a\x0bb", b"a\x1cb", b"a\x1c\x0db"])
def test_frame_refuses_payload_with_control_bytes(bad: bytes) -> None:
    with pytest.raises(InvalidPayload, match="0x"):
        frame(bad)
    assert not InvalidPayload("x").retryable


def test_whole_frame_in_one_chunk() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame(MESSAGE)) == [MESSAGE]
    assert decoder.discarded_bytes == 0
    assert decoder.pending_bytes == 0


def test_split_at_every_byte_position() -> None:
    data = frame(MESSAGE)
    for cut in range(len(data) + 1):
        decoder = FrameDecoder()
        frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert frames == [MESSAGE], cut
        assert decoder.discarded_bytes == 0


def test_fed_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    frames: list[bytes] = []
    for byte in frame(MESSAGE) * 3:
        frames += decoder.feed(bytes([byte]))
    assert frames == [MESSAGE] * 3


def test_several_frames_in_one_chunk() -> None:
    payloads = [b"one", b"two", b"", b"four"]
    decoder = FrameDecoder()
    assert decoder.feed(b"".join(frame(p) for p in payloads)) == payloads


def test_garbage_between_frames_is_counted_and_dropped() -> None:
    decoder = FrameDecoder()
    data = b"xx" + frame(b"one") + b"\n" + b"noise\x1c\x0d" + frame(b"two") + b"tail"
    assert decoder.feed(data) == [b"one", b"two"]
    assert decoder.discarded_bytes == 2 + 1 + 7 + 4


def test_start_block_inside_frame_is_data() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x0bab\x0bcd\x1c\x0d") == [b"ab\x0bcd"]


def test_lone_fs_inside_frame_is_data_even_when_split() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x0bab\x1c") == []
    assert decoder.feed(b"cd\x1c") == []
    assert decoder.feed(b"\x0d") == [b"ab\x1ccd"]


def test_pending_bytes_reports_unfinished_frame() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"\x0babc")
    assert decoder.pending_bytes == 4
    decoder.feed(b"\x1c\x0d")
    assert decoder.pending_bytes == 0


def test_frame_at_the_limit_is_accepted() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    assert decoder.feed(frame(b"0123456789")) == [b"0123456789"]
    decoder = FrameDecoder(max_frame_size=10)
    assert decoder.feed(b"\x0b0123456789\x1c") == []  # the 0x1C may still be the end block
    assert decoder.feed(b"\x0d") == [b"0123456789"]


def test_frame_over_the_limit_in_one_chunk() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    with pytest.raises(FrameTooLarge, match="limit of 10 bytes") as info:
        decoder.feed(frame(b"0123456789A"))
    assert isinstance(info.value, DeliveryError)
    assert info.value.limit == 10


def test_frame_over_the_limit_without_end_fails_early_and_resets() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    decoder.feed(b"\x0b012345")
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"6789AB")  # no end block yet, but already too large
    assert decoder.pending_bytes == 0
    assert decoder.feed(frame(b"ok")) == [b"ok"]


def test_invalid_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_frame_size"):
        FrameDecoder(max_frame_size=0)


def test_multi_megabyte_frame_in_small_chunks() -> None:
    payload = (b"OBX|1|ED|PDF^Brief||^AP^PDF^Base64^" + b"QUJD" * 2_000_000 + b"\r") * 2
    data = frame(payload)
    decoder = FrameDecoder()
    frames: list[bytes] = []
    for offset in range(0, len(data), 65536):
        frames += decoder.feed(data[offset : offset + 65536])
    assert frames == [payload]


payloads = st.lists(
    st.binary(max_size=60).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b"")),
    max_size=6,
)
garbage = st.binary(max_size=8).map(lambda b: b.replace(b"\x0b", b""))


@settings(max_examples=300, deadline=None)
@given(
    items=payloads,
    noise=st.lists(garbage, min_size=7, max_size=7),
    cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=8),
)
def test_any_stream_split_anywhere_gives_back_the_payloads(
    items: list[bytes], noise: list[bytes], cuts: list[int]
) -> None:
    stream = b""
    for index, payload in enumerate(items):
        stream += noise[index] + frame(payload)
    stream += noise[-1]
    positions = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    decoder = FrameDecoder()
    frames: list[bytes] = []
    for begin, end in itertools.pairwise(positions):
        frames += decoder.feed(stream[begin:end])
    assert frames == items
    assert decoder.discarded_bytes == sum(len(n) for n in noise[: len(items)]) + len(noise[-1])
