"""PostgreSQL advisory lock keys: one stable signed 64-bit key per purpose and schema.

Engines and commands on one database take turns by these (migrating a schema, appending to the
audit chain, registering an engine); a key per schema keeps stores in different schemas from
waiting on each other.
"""

from __future__ import annotations

import hashlib


def advisory_key(purpose: str, schema: str | None) -> int:
    """The key of ``purpose`` (``migrate``, ``audit``, ``presence``) in ``schema``."""
    digest = hashlib.sha256(f"integrator.store.{purpose}:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
