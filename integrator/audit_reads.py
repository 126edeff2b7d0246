"""Reading the audit trail by search terms, for a front door that may search by BSN.

``find_audit`` is the search as it is made: terms checked (``audit.checked_audit_filter``),
one page read, and a search by BSN recorded as a view of patient data (``audit.search``).
``page_kept_audit`` pages such a search once the console has kept it
(``integrator.kept_searches``): the same terms and the BSN's keyed hash, checked again within
the caller's clusters as they are now, and recorded nothing more: one audit entry per search
made, not per page looked at.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from integrator import paging
from integrator.audit import checked_audit_filter
from integrator.kept_searches import searched_bsn
from integrator.listing_totals import Total, listing_total
from integrator.patient_views import record_search
from integrator.store import AuditFilter, AuditRecord, Store

if TYPE_CHECKING:
    from integrator.access.permissions import Identity
    from integrator.clusters import ClusterScope
    from integrator.engine import Engine
    from integrator.kept_searches import KeptSearch

VIEW = "audit.search"


@dataclasses.dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a search: its entries (up to ``limit``), whether more follow, and the
    filter it used (``bsn_hash`` says whether it was by BSN)."""

    entries: list[AuditRecord]
    more: bool
    filter: AuditFilter


async def find_audit(
    engine: Engine,
    scope: ClusterScope,
    identity: Identity,
    terms: dict[str, str | None],
    *,
    bsn: str | None,
    limit: int,
    offset: int = 0,
    after: int | None = None,
    source: str | None,
) -> AuditPage:
    """A page of the entries the terms take, those older than the entry ``after`` if given
    (``integrator.paging``); a bad term is ``BadSearch`` naming it. A search by BSN is
    recorded (``patient_data.view``, ``audit.search``) before it is answered."""
    paging.one_way(offset=offset, after=after)
    await checked_after(engine.store, after)
    flt = await checked_audit_filter(engine, scope, bsn=bsn, **terms)
    found = await engine.store.list_audit(flt, limit=limit + 1, offset=offset, before_id=after)
    await record_search(
        engine.store,
        identity,
        VIEW,
        bsn_hash=flt.bsn_hash,
        found=min(len(found), limit),
        source=source,
    )
    return AuditPage(found[:limit], len(found) > limit, flt)


async def checked_after(store: Store, after: int | None) -> None:
    """Refuse an ``after`` that names no entry (``BadSearch``, as the other listings do): the
    trail would be paged from its newest entry again, and a client with a stale or mistyped
    cursor read the same entries once more, or for ever."""
    if after is not None and not await store.has_audit_entry(after):
        raise paging.unknown("audit entry")


async def page_kept_audit(
    engine: Engine, scope: ClusterScope, search: KeptSearch, *, limit: int, offset: int = 0
) -> AuditPage:
    """A page of a search by BSN made with ``find_audit`` and kept; recorded when it was
    made, so its pages record nothing more."""
    terms: dict[str, str | None] = {name: value or None for name, value in search.terms.items()}
    flt = await checked_audit_filter(engine, scope, **terms)
    flt = dataclasses.replace(flt, bsn_hash=searched_bsn(search))
    found = await engine.store.list_audit(flt, limit=limit + 1, offset=offset)
    return AuditPage(found[:limit], len(found) > limit, flt)


async def audit_total(
    store: Store, flt: AuditFilter, *, offset: int, shown: int, more: bool
) -> Total:
    """How many entries ``flt`` takes in all, for a listing that shows ``shown`` of them from
    ``offset`` (``more``: one follows): counted only when it is cut, and no further than
    ``listing_totals`` counts (the trail is the longest table there is). Records nothing: a
    search by BSN was recorded when it was made."""

    async def count(at_most: int) -> int:
        return await store.count_audit(flt, at_most=at_most)

    return await listing_total(count, offset=offset, shown=shown, more=more)
