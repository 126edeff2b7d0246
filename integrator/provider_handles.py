"""An opaque handle for a provider id in an address, instead of the id itself.

Upstream writes what it likes in an event's ``provider.id``: a hospital's code, but also a
BSN, a name or a birth date (which is why the metrics count a provider no destination names as
``other``). A link the console makes from such an id (the *Unrouted events* page's, narrowing
the list to one provider) would put it in the browser's history, a proxy's log and the
``Referer`` of the next request. A BSN could be recognised and left out; a name cannot. So the
link names the provider by a handle, and the page finds the provider again among the few it
could mean (the providers with unrouted events: ``provider_named``).

The handle is the engine's keyed hash (HMAC-SHA256 under the search key, as a BSN is made
searchable: ``integrator.store.keyed``), not a kept search (``integrator.kept_searches``):

- it is made while a page is drawn, one per provider listed, and keeping a search per link on
  every view would write rows nobody follows; a keyed hash costs nothing and stores nothing;
- a link stays good as long as its provider has unrouted events, on every engine of the store
  (they all hash with the same key), so it can be bookmarked or handed to a colleague, where
  a kept search is one person's for minutes;
- without the key, the handle of a provider id that is a BSN cannot be found by trying the
  BSNs, as a plain hash allows in minutes; and its input starts with ``DOMAIN``, so it is never
  the ``bsn_hash`` that events and audit entries keep for that number, and cannot be linked
  to them.

An engine without a search key (a store in memory, for a test) hashes with a key of its own
process, so its links last as long as it runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Final

from integrator.settings import Settings

DOMAIN: Final = b"integrator provider handle\0"
"""What every handle's input starts with: a BSN never does, so no handle is a ``bsn_hash``."""
LENGTH: Final = 32
"""Hex digits of a handle: 128 bits, more than enough to tell the providers of a store apart."""
_PROCESS_KEY: Final = secrets.token_bytes(32)


def provider_handle(settings: Settings, provider_id: str) -> str:
    """The handle that names ``provider_id`` in an address (``LENGTH`` hex digits)."""
    key = (
        settings.search_key.get_secret_value().encode("utf-8")
        if settings.search_key is not None
        else _PROCESS_KEY
    )
    digest = hmac.new(key, DOMAIN + provider_id.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:LENGTH]


def provider_named(settings: Settings, handle: str, providers: Iterable[str]) -> str | None:
    """The one of ``providers`` that ``handle`` names, or None when none does (its events were
    routed since, or the search key changed): a handle is only ever looked up among the ids
    it could be made from, never turned back into one."""
    wanted = handle.strip().lower()
    for provider_id in providers:
        if hmac.compare_digest(provider_handle(settings, provider_id), wanted):
            return provider_id
    return None
