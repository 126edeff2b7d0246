"""The keyed hash that makes a patient's BSN searchable without storing it searchably.

HMAC-SHA256 with a secret key (``INTEGRATOR_SEARCH_KEY``): without the key the 64 hex digits
cannot be turned back into a BSN by trying all 10^9 of them, which a plain hash would allow in
minutes. The same key must be used at intake and at search; changing it makes older events
unfindable by BSN (they remain findable by ZD number).
"""

from __future__ import annotations

import functools
import hashlib
import hmac


def bsn_hash(bsn: str, key: bytes) -> str:
    """64 lower-case hex digits; whitespace around the BSN is ignored."""
    if not key:
        raise ValueError("the search key must not be empty")
    keyed = _keyed(key).copy()
    keyed.update(bsn.strip().encode("ascii", "replace"))
    return keyed.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    """The key's HMAC state, made once and copied per BSN.

    ``hmac.digest`` (OpenSSL's one-shot HMAC) releases the GIL for every call, and getting it
    back from the store's writer thread made it three times dearer on the engine's event loop
    than a copy of a ready state, which keeps it (``bench/results/perf.md``, fifth round).
    """
    return hmac.new(key, digestmod=hashlib.sha256)
