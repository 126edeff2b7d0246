"""The ids the engine mints: message ids are random UUIDs as ``uuid.uuid4`` gives them, control
ids fit MSH-10 (20 characters at most, no HL7 delimiters)."""

from __future__ import annotations

import time
import uuid

from integrator.ids import is_message_id, new_control_id, new_message_id, new_message_ids


def test_a_message_id_is_a_version_4_uuid_in_its_canonical_text() -> None:
    for _ in range(2000):
        text = new_message_id()
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower case, dashes where str(uuid4()) puts them
        assert is_message_id(text)


def test_message_ids_take_every_random_bit() -> None:
    # 2,000 ids: each of the 122 random bits is set in some and clear in others (a bit stuck
    # either way would show with a probability of 2 ** -2000); the 6 fixed bits never move.
    values = [uuid.UUID(new_message_id()).int for _ in range(2000)]
    ones = 0
    zeros = 0
    for value in values:
        ones |= value
        zeros |= ~value
    fixed = (0xF000 << 64) | (0xC000 << 48)
    random_bits = ((1 << 128) - 1) & ~fixed
    assert ones & random_bits == random_bits
    assert zeros & random_bits == random_bits
    assert len(set(values)) == len(values)


def test_a_control_id_is_the_time_in_milliseconds_and_32_random_bits_in_upper_case_hex() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_control_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    random_ones = 0
    for control_id in ids:
        assert len(control_id) == 19
        assert control_id == control_id.upper()
        assert before <= int(control_id[:11], 16) <= after
        random_ones |= int(control_id[11:], 16)
    assert random_ones == 0xFFFFFFFF


def test_a_new_messages_two_ids_are_each_as_made_alone_from_bits_of_their_own() -> None:
    """``new_message_ids`` reads both ids' random bytes at once: each id keeps its form, every
    random bit of each moves, and neither is made of the other's bytes."""
    before = time.time_ns() // 1_000_000
    pairs = [new_message_ids() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    fixed = (0xF000 << 64) | (0xC000 << 48)
    random_bits = ((1 << 128) - 1) & ~fixed
    ones = zeros = control_ones = 0
    for message_id, control_id in pairs:
        parsed = uuid.UUID(message_id)
        assert parsed.version == 4 and str(parsed) == message_id and is_message_id(message_id)
        ones |= parsed.int
        zeros |= ~parsed.int
        assert len(control_id) == 19 and control_id == control_id.upper()
        assert before <= int(control_id[:11], 16) <= after
        control_ones |= int(control_id[11:], 16)
        assert control_id[11:].lower() not in message_id.replace("-", "")
    assert ones & random_bits == random_bits
    assert zeros & random_bits == random_bits
    assert control_ones == 0xFFFFFFFF
    assert len({m for m, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
