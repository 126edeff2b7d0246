"""Identifiers minted by the engine.

MSH-10 must be unique per message instance, at most 20 characters and never reused, also across
engine processes and restarts: milliseconds since the epoch (11 hex digits until the year 2527)
plus 32 random bits. The store's unique index on control ids is the final guard.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid

_MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_control_id() -> str:
    return f"{time.time_ns() // 1_000_000:011X}{secrets.randbits(32):08X}"


def new_message_id() -> str:
    return str(uuid.uuid4())


def is_message_id(text: str) -> bool:
    """Whether ``text`` is a message id as the engine writes them (a lower-case UUID): one that
    may be named back in an error to who typed it, which a pasted name or BSN may not."""
    return _MESSAGE_ID.fullmatch(text) is not None
