"""Searches by BSN kept on the server for a few minutes, so their pages are reached by GET.

A search form that holds a BSN must be a POST (a BSN never goes in an address), but a POST's
answer cannot be bookmarked, paged or gone back to without the browser asking to send the
form again, and every such resubmission would search (and be audited) again. So a front door
makes the search once, audited as a view of patient data by the reading service as always,
keeps it here (``keep``) and redirects to a GET whose address holds only the search's handle:
a random value, not derived from anything. Its pages, a reload, Back and its CSV export name
the handle, and the reading services page it (``message_service.page_kept_search``, …)
without recording another view: one audit entry per search made, not per page looked at.

A kept search is the person's own: looking a handle up names the person, so another person's
handle, an expired one and an unknown one are the same ``UnknownSearch`` (nobody learns
whether a handle exists). It lasts ``LASTS``; after that the person searches again (and is
audited again). It holds the identifier terms as typed and the BSN as its keyed hash only
(``Settings.bsn_hash``, as events and audit entries hold it), never the BSN itself; the store
knows the handle's hash only, so its rows cannot be turned into addresses.

In the store rather than in a process's memory: several engines may serve the console behind
one address, and a page of a search may reach another engine than the search did.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from integrator.access.permissions import Identity
from integrator.store import Store

LASTS: Final = timedelta(minutes=15)
"""Long enough to page through a patient's messages and export them; short enough that a
handle left in a browser's history soon opens nothing."""

KINDS: Final = frozenset({"messages", "events", "rejected", "audit"})
MAX_HANDLE: Final = 64
"""The longest handle looked up; ``keep`` makes 43 characters."""


class UnknownSearch(LookupError):
    """No such search of this person's that has not expired: unknown, expired or another's."""

    def __init__(self) -> None:
        super().__init__("no such search (it expired, or it is another person's): search again")


@dataclass(frozen=True, slots=True)
class KeptSearch:
    """A search by BSN as it was made: its handle, kind, identifier terms and the BSN's hash."""

    handle: str
    kind: str
    terms: dict[str, str]
    bsn_hash: str
    expires_at: datetime


def _hash(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


async def keep(
    store: Store,
    identity: Identity,
    kind: str,
    terms: dict[str, str],
    bsn_hash: str,
    *,
    now: datetime,
) -> KeptSearch:
    """Keep a search by BSN the caller has just made (and the service recorded) for
    ``identity``; its handle goes in the addresses of its pages."""
    if kind not in KINDS:
        raise ValueError(f"not a kind of search: {kind}")
    handle = secrets.token_urlsafe(32)
    expires_at = now + LASTS
    await store.add_console_search(
        _hash(handle),
        person_id=identity.id,
        kind=kind,
        terms=terms,
        bsn_hash=bsn_hash,
        now=now,
        expires_at=expires_at,
    )
    return KeptSearch(handle, kind, dict(terms), bsn_hash, expires_at)


async def kept(
    store: Store, identity: Identity, kind: str, handle: str, *, now: datetime
) -> KeptSearch:
    """``identity``'s own unexpired search of ``kind`` with this handle, else ``UnknownSearch``."""
    if not handle or len(handle) > MAX_HANDLE:
        raise UnknownSearch()
    row = await store.get_console_search(_hash(handle), person_id=identity.id, kind=kind, now=now)
    if row is None:
        raise UnknownSearch()
    return KeptSearch(handle, row.kind, row.terms, row.bsn_hash, row.expires_at)
