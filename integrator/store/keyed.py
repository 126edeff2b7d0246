"""The keyed hash that makes a patient's BSN searchable without storing it searchably.

HMAC-SHA256 with a secret key (``INTEGRATOR_SEARCH_KEY``): without the key the 64 hex digits
cannot be turned back into a BSN by trying all 10^9 of them, which a plain hash would allow in
minutes. The same key must be used at intake and at search; changing it makes older events
unfindable by BSN (they remain findable by ZD number).
"""

from __future__ import annotations

import hmac


def bsn_hash(bsn: str, key: bytes) -> str:
    """64 lower-case hex digits; whitespace around the BSN is ignored."""
    if not key:
        raise ValueError("the search key must not be empty")
    # hmac.digest: OpenSSL's one-shot HMAC, the same value as hmac.new(...).hexdigest()
    # without building an HMAC object per event.
    return hmac.digest(key, bsn.strip().encode("ascii", "replace"), "sha256").hex()
