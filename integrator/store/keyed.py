"""The keyed hash that makes a patient's BSN searchable without storing it searchably.

HMAC-SHA256 with a secret key (``INTEGRATOR_SEARCH_KEY``): without the key the 64 hex digits
cannot be turned back into a BSN by trying all 10^9 of them, which a plain hash would allow in
minutes. The same key must be used at intake and at search; changing it makes older events
unfindable by BSN (they remain findable by ZD number).
"""

from __future__ import annotations

import functools
import hashlib

_BLOCK = 64  # SHA-256's block size, in bytes (RFC 2104's B)
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


def bsn_hash(bsn: str, key: bytes) -> str:
    """64 lower-case hex digits; whitespace around the BSN is ignored."""
    if not key:
        raise ValueError("the search key must not be empty")
    inner_state, outer_state = _keyed(key)
    inner = inner_state.copy()
    inner.update(bsn.strip().encode("ascii", "replace"))
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC's inner and outer hash states after the padded key (RFC 2104), made once per key and
    copied per BSN: exactly ``hmac.new(key, bsn, sha256)`` (a test compares them).

    ``hmac.digest`` (OpenSSL's one-shot HMAC) releases the GIL for every call, and getting it
    back from the store's writer thread made it three times dearer on the engine's event loop
    than a copy of a ready state (``bench/results/perf.md``, fifth round); ``hmac.HMAC.copy`` wraps
    that copy in Python (a new object, four attributes) that cost more than the two hashes.
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER)), hashlib.sha256(key.translate(_OUTER))
