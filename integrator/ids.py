"""Identifiers minted by the engine.

MSH-10 must be unique per message instance, at most 20 characters and never reused, also across
engine processes and restarts: milliseconds since the epoch (11 hex digits until the year 2527)
plus 32 random bits. The store's unique index on control ids is the final guard.
"""

from __future__ import annotations

import secrets
import time
import uuid


def new_control_id() -> str:
    return f"{time.time_ns() // 1_000_000:011X}{secrets.randbits(32):08X}"


def new_message_id() -> str:
    return str(uuid.uuid4())
