"""The test/demo receiver and ``build_ack``, checked with python-hl7 as an independent reader."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import hl7
import pytest

from destinations.ack import parse_ack
from destinations.errors import MalformedMessage
from destinations.receiver import MllpReceiver, build_ack, new_control_id

from .helpers import FS_CR, make_message, msh10, read_frame

CET = timezone(timedelta(hours=1))


def test_build_ack_mirrors_the_message_header() -> None:
    now = datetime(2026, 11, 20, 9, 15, 1, tzinfo=CET)
    raw = build_ack(make_message("CTRL1"), "AA", now=now, control_id="ACK1")
    ack = hl7.parse(raw.decode())
    msh = ack.segment("MSH")
    assert (str(msh(3)), str(msh(4))) == ("HIS", "ZNOORD")
    assert (str(msh(5)), str(msh(6))) == ("INTEGRATOR", "PLATFORM")
    assert str(msh(7)) == "20261120091501+0100"
    assert str(msh(9)) == "ACK^I12^ACK"
    assert str(msh(10)) == "ACK1"
    assert (str(msh(11)), str(msh(12)), str(msh(18))) == ("P", "2.5.1", "UNICODE UTF-8")
    msa = ack.segment("MSA")
    assert (str(msa(1)), str(msa(2))) == ("AA", "CTRL1")
    assert raw.endswith(b"\r")
    assert b"\n" not in raw


def test_build_ack_text_is_escaped_to_one_field() -> None:
    raw = build_ack(make_message("C2"), "AE", text="bad|value^here\nsecond line")
    assert raw.count(b"\r") == 2
    ack = parse_ack(raw)
    assert (ack.code, ack.control_id, ack.text) == ("AE", "C2", "bad|value^here second line")


def test_build_ack_keeps_the_message_charset() -> None:
    message = make_message("C3", charset="8859/1", version="2.4").replace(b"ZNOORD", b"Caf\xe9")
    raw = build_ack(message, "AA", text="café")
    assert b"|Caf\xe9|" in raw  # Latin-1 in, Latin-1 out
    assert parse_ack(raw).text == "café"


def test_build_ack_new_control_ids_are_unique_and_short() -> None:
    ids = {new_control_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) <= 20 for i in ids)
    first = hl7.parse(build_ack(make_message("C"), "AA").decode()).segment("MSH")(10)
    second = hl7.parse(build_ack(make_message("C"), "AA").decode()).segment("MSH")(10)
    assert str(first) != str(second)


def test_build_ack_refuses_bad_code_and_unreadable_message() -> None:
    with pytest.raises(ValueError, match="code must be one of"):
        build_ack(make_message("C"), "OK")
    with pytest.raises(MalformedMessage):
        build_ack(b"not hl7", "AA")


def test_receiver_refuses_unknown_ack_code() -> None:
    with pytest.raises(ValueError, match="ack_code"):
        MllpReceiver(ack_code="XX")


async def _exchange(port: int, messages: list[bytes]) -> list[bytes]:
    """Send all messages on one raw connection, pipelined, and read the same number of ACKs."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(b"\x0b" + m + FS_CR for m in messages))
    acks = [await asyncio.wait_for(read_frame(reader), 2) for _ in messages]
    writer.close()
    await writer.wait_closed()
    return acks


async def test_pipelined_frames_are_answered_in_order() -> None:
    async with MllpReceiver() as receiver:
        messages = [make_message(f"P{i}") for i in range(5)]
        acks = await _exchange(receiver.port, messages)
    assert [parse_ack(a).control_id for a in acks] == [f"P{i}" for i in range(5)]
    assert receiver.received == messages
    assert receiver.connection_count == 1


async def test_many_connections_at_once() -> None:
    async with MllpReceiver() as receiver:
        batches = [[make_message(f"C{c}-{i}") for i in range(20)] for c in range(10)]
        results = await asyncio.gather(*(_exchange(receiver.port, b) for b in batches))
    for batch, acks in zip(batches, results, strict=True):
        assert [parse_ack(a).control_id for a in acks] == [msh10(m) for m in batch]
    assert receiver.connection_count == 10
    assert receiver.message_count == 200
    assert sorted(receiver.received) == sorted(m for b in batches for m in b)


async def test_ack_code_can_change_while_running() -> None:
    async with MllpReceiver(ack_code="AE") as receiver:
        first = await _exchange(receiver.port, [make_message("E1")])
        receiver.ack_code = "AR"
        second = await _exchange(receiver.port, [make_message("R1")])
    assert parse_ack(first[0]).code == "AE"
    assert parse_ack(second[0]).code == "AR"


async def test_save_dir_keeps_every_message(tmp_path: Path) -> None:
    save_dir = tmp_path / "inbox"
    async with MllpReceiver(save_dir=save_dir) as receiver:
        messages = [make_message("S1"), make_message("../S2")]
        await _exchange(receiver.port, messages)
    files = sorted(save_dir.iterdir())
    assert [f.name for f in files] == ["000001-S1.hl7", "000002-.._S2.hl7"]
    assert [f.read_bytes() for f in files] == messages


async def test_saved_messages_are_private_to_their_user(tmp_path: Path) -> None:
    """Full HL7 (a BSN, names): the folder made 0700, each file 0600 from its creation,
    whatever the umask; the modes are checked, which holds when the tests run as root too."""
    save_dir = tmp_path / "made" / "inbox"
    previous = os.umask(0o022)  # the usual umask, which gave 0644 files in a 0755 folder
    try:
        async with MllpReceiver(save_dir=save_dir) as receiver:
            assert not receiver.save_dir_shared
            await _exchange(receiver.port, [make_message("P1"), make_message("P2")])
    finally:
        os.umask(previous)
    assert stat.S_IMODE(save_dir.stat().st_mode) == 0o700
    files = sorted(save_dir.iterdir())
    assert len(files) == 2
    assert [stat.S_IMODE(f.stat().st_mode) for f in files] == [0o600, 0o600]


async def test_an_existing_folder_is_left_as_it_is_and_said_to_be_shared(tmp_path: Path) -> None:
    """A folder that exists keeps its mode (it may be someone's on purpose); that others may
    read it is said (``save_dir_shared``, which ``integrator receiver`` warns about). A file of
    an earlier run with the same name is kept: the new one gets a suffix, private too."""
    save_dir = tmp_path / "inbox"
    save_dir.mkdir()
    save_dir.chmod(0o755)
    earlier = save_dir / "000001-S1.hl7"
    earlier.write_bytes(b"earlier run")
    async with MllpReceiver(save_dir=save_dir) as receiver:
        assert receiver.save_dir_shared
        await _exchange(receiver.port, [make_message("S1")])
    assert stat.S_IMODE(save_dir.stat().st_mode) == 0o755
    assert earlier.read_bytes() == b"earlier run"
    second = save_dir / "000001-S1-2.hl7"
    assert second.read_bytes() == make_message("S1")
    assert stat.S_IMODE(second.stat().st_mode) == 0o600


async def test_on_message_is_called_and_its_failure_answers_ae() -> None:
    seen: list[bytes] = []

    def on_message(message: bytes) -> None:
        seen.append(message)
        if msh10(message) == "BOOM":
            raise RuntimeError("callback failed")

    async with MllpReceiver(on_message=on_message) as receiver:
        acks = await _exchange(receiver.port, [make_message("OK1"), make_message("BOOM")])
    assert len(seen) == 2
    assert parse_ack(acks[0]).code == "AA"
    failed = parse_ack(acks[1])
    assert (failed.code, failed.control_id) == ("AE", "BOOM")
    assert "could not process" in failed.text


async def test_unreadable_frame_is_rejected_with_empty_msa2() -> None:
    async with MllpReceiver() as receiver:
        acks = await _exchange(receiver.port, [b"this is not HL7"])
    ack = parse_ack(acks[0])
    assert (ack.code, ack.control_id) == ("AR", "")
    assert receiver.received == [b"this is not HL7"]


async def test_clear_forgets_messages_but_not_counts() -> None:
    async with MllpReceiver() as receiver:
        await _exchange(receiver.port, [make_message("X1"), make_message("X2")])
        receiver.clear()
        assert receiver.received == []
        assert receiver.message_count == 2


async def test_too_large_frame_drops_the_connection() -> None:
    async with MllpReceiver(max_frame_size=100) as receiver:
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        writer.write(b"\x0b" + b"x" * 200)
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the receiver
        writer.close()
    assert receiver.received == []


async def test_stop_closes_open_connections_and_start_twice_is_refused() -> None:
    receiver = MllpReceiver()
    port = await receiver.start()
    with pytest.raises(RuntimeError, match="already started"):
        await receiver.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _exchange(port, [make_message("Z1")])
    await asyncio.sleep(0.01)
    assert receiver.open_connections == 1
    await asyncio.wait_for(receiver.stop(), 2)
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
