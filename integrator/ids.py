"""Identifiers minted by the engine.

MSH-10 must be unique per message instance, at most 20 characters and never reused, also across
engine processes and restarts: milliseconds since the epoch (11 hex digits until the year 2527)
plus 32 random bits. The store's unique index on control ids is the final guard.

Both take their random bits from ``os.urandom`` at every call, never from a buffer kept between
calls (a forked child would share it; see ``bench/results/perf.md``, fifth round).
"""

from __future__ import annotations

import os
import re
import time
import uuid

ID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
"""A message's, event's or job's id as the store keeps it (a UUID's text), for whoever finds
ids in text: one pattern, not one per reader."""
_MESSAGE_ID = re.compile(ID_PATTERN)

# RFC 4122 version 4: the version nibble 4 (bits 76-79) and the variant bits 10 (bits 62-63);
# what ``uuid.uuid4`` sets, the other 122 bits random.
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_control_id() -> str:
    return _control_id(os.urandom(4))


def new_message_id() -> str:
    """A random (version 4) UUID as ``str(uuid.uuid4())`` writes it: the same 122 random bits
    from ``os.urandom``, without the ``UUID`` object that intake then only turned into text
    (about half the cost)."""
    return _message_id(os.urandom(16))


def new_message_ids() -> tuple[str, str]:
    """A new message's id and control id (``new_message_id``, ``new_control_id``), their 20
    random bytes read in one ``os.urandom`` call: a system call less for each message intake
    makes. Each call reads its own bytes, as the two functions do."""
    random = os.urandom(20)
    return _message_id(random[:16]), _control_id(random[16:])


def _control_id(random: bytes) -> str:
    return f"{time.time_ns() // 1_000_000:011X}{random.hex().upper()}"


def _message_id(random: bytes) -> str:
    h = f"{int.from_bytes(random) & _V4_CLEAR | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_message_id(text: str) -> bool:
    """Whether ``text`` is a message id as the engine writes them (a lower-case UUID): one that
    may be named back in an error to who typed it, which a pasted name or BSN may not."""
    return _MESSAGE_ID.fullmatch(text) is not None


def stored_id(text: str) -> str | None:
    """``text`` as the store keeps an id (a lower-case UUID with dashes), however it was typed
    (any case, with or without dashes, spaces around it); None when it is no id at all."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None
