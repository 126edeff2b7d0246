"""Searches a console form made, kept on the server for a few minutes, so that their pages are
reached by GET with nothing typed in the address.

A search form posts: a BSN never goes in an address, and neither does anything else a person
typed (a name or a birth date in the audit trail's target, a provider's free text), which an
address would leave in the browser's history and proxy logs. But a POST's answer cannot be
bookmarked, paged or gone back to without the browser asking to send the form again, and
every such resubmission would search (and, by BSN, be audited) again. So a front door makes
the search once (a search by BSN audited as a view of patient data by the reading service, as
always), keeps it here (``keep``) and redirects to a GET whose address holds only the search's
handle: a random value, not derived from anything. Its pages, a reload, Back and its CSV
export name the handle. A search by BSN is paged by the reading services
(``message_service.page_kept_search``, …) without recording another view: one audit entry per
search made, not per page looked at. One without a BSN (``bsn_hash`` None) searched no patient:
its pages are that search made again with its terms, and record nothing, as before.

A kept search is the person's own: looking a handle up names the person, so another person's
handle, an expired one and an unknown one are the same ``UnknownSearch`` (nobody learns
whether a handle exists). It lasts ``LASTS``; after that the person searches again (and, by
BSN, is audited again). It holds the terms as typed and the BSN as its keyed hash only
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

KINDS: Final = frozenset({"messages", "events", "rejected", "audit", "deadletters"})
MAX_HANDLE: Final = 64
"""The longest handle looked up; ``keep`` makes 43 characters."""


class UnknownSearch(LookupError):
    """No such search of this person's that has not expired: unknown, expired or another's."""

    def __init__(self) -> None:
        super().__init__("no such search (it expired, or it is another person's): search again")


@dataclass(frozen=True, slots=True)
class KeptSearch:
    """A search as it was made: its handle, kind, terms and the BSN's hash (None: no BSN)."""

    handle: str
    kind: str
    terms: dict[str, str]
    bsn_hash: str | None
    expires_at: datetime


def searched_bsn(search: KeptSearch) -> str:
    """The BSN hash of a kept search by BSN, for the reading services that page one. A kept
    search without a BSN is not paged as one (under ``patient_data.read``, unrecorded): its
    page is that search made again with its terms; asking for it so is a fault."""
    if search.bsn_hash is None:
        raise ValueError("a kept search without a BSN is searched again with its terms")
    return search.bsn_hash


def _hash(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


async def keep(
    store: Store,
    identity: Identity,
    kind: str,
    terms: dict[str, str],
    bsn_hash: str | None,
    *,
    now: datetime,
) -> KeptSearch:
    """Keep a search the caller has just checked (by BSN: made, and recorded by the service)
    for ``identity``; its handle goes in the addresses of its pages. ``bsn_hash`` None: a
    search without a BSN."""
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
