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
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

from integrator import paging
from integrator.audit import build_audit_filter, checked_audit_filter
from integrator.exports import EXPORTS
from integrator.kept_searches import searched_bsn
from integrator.listing_totals import Total, listing_total
from integrator.patient_views import PATIENT_DATA_VIEW, answering_headers_only, record_search
from integrator.presenters import iso_time
from integrator.search import check_period
from integrator.settings import Settings
from integrator.store import AuditFilter, AuditRecord, Store
from integrator.store.audit_counts import ActorCounts

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


AS_MADE: Final = "before"
"""A kept search by BSN's bound: the id of the first entry written after the trail was read
for it (``trail_end``), kept with its terms. Its pages show the trail as the search found
it: read again, a search by BSN found its own entry among the patient's views (``found 2``
above three rows), where the command line, which reads before it records, does not."""


async def trail_end(store: Store) -> int:
    """The id the next audit entry will have at least: the bound of a search made now."""
    newest = await store.list_audit(limit=1)
    return newest[0].id + 1 if newest else 1


async def page_kept_audit(
    engine: Engine, scope: ClusterScope, search: KeptSearch, *, limit: int, offset: int = 0
) -> AuditPage:
    """A page of a search by BSN made with ``find_audit`` and kept; recorded when it was
    made, so its pages record nothing more. The trail as the search found it (``AS_MADE``)."""
    terms: dict[str, str | None] = {
        name: value or None for name, value in search.terms.items() if name != AS_MADE
    }
    bound = search.terms.get(AS_MADE)
    flt = await checked_audit_filter(engine, scope, **terms)
    flt = dataclasses.replace(flt, bsn_hash=searched_bsn(search))
    found = await engine.store.list_audit(
        flt, limit=limit + 1, offset=offset, before_id=int(bound) if bound else None
    )
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


# -- the access-log review (NEN 7513) ------------------------------------------------------

SUMMARY: Final = "audit.summary"
"""The action a summary of the trail is recorded as (``summarise_audit``)."""
VIEWS: Final = (PATIENT_DATA_VIEW,)
"""What the summary counts as a view of patient data."""
PATIENT_EXPORTS: Final = (EXPORTS["messages"], EXPORTS["events"])
"""The exports of what is about patients: their messages and events (identifiers only, and a
patient's own when made by BSN, whose keyed hash their entry then holds)."""
SUMMARY_ACTIONS: Final = (*VIEWS, *PATIENT_EXPORTS)
"""What the review counts unless asked for one action: who viewed patient data or exported
listings."""
SUMMARY_DAYS: Final = 30
"""A summary without ``since`` covers this many days up to its ``until`` (or now)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SummaryTerms:
    """A summary's period (``since`` inclusive, ``until`` not; both set) and the actions it
    counts, checked (``summary_terms``)."""

    since: datetime
    until: datetime
    actions: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ActorSummary:
    """One actor's part (or, ``actor`` None, everyone's): views of patient data, exports,
    every entry counted (``entries``: views, exports and any other action asked for), the
    distinct patients named (by keyed BSN hash), the first and last time, and how many of the
    entries say no why (``without_reason``: docs/product.md §8 asks every view and export to
    say it; a reviewer asks those who gave none).

    ``exports`` split in two: ``exports_by_bsn``, made by BSN, hold that patient's data;
    ``exports_without_bsn``, listings without a BSN term, identifiers only. A privacy officer
    questioned the person who took a messages CSV when one figure counted both."""

    actor: str | None
    views: int
    exports: int
    entries: int
    patients: int
    first: datetime | None
    last: datetime | None
    without_reason: int = 0
    exports_by_bsn: int = 0

    @property
    def exports_without_bsn(self) -> int:
        return self.exports - self.exports_by_bsn

    def to_json(self, zone: tzinfo) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "views": self.views,
            "exports": self.exports,
            "exports_by_bsn": self.exports_by_bsn,
            "exports_without_bsn": self.exports_without_bsn,
            "entries": self.entries,
            "patients": self.patients,
            "first": None if self.first is None else iso_time(self.first, zone),
            "last": None if self.last is None else iso_time(self.last, zone),
            "without_reason": self.without_reason,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class AuditSummary:
    """Who viewed patient data or exported listings in a period: one ``ActorSummary`` each, most
    views first, and ``total`` (its ``patients`` counted across everyone: a patient two
    people looked at is one)."""

    terms: SummaryTerms
    actors: list[ActorSummary]
    total: ActorSummary

    @property
    def asks_why(self) -> bool:
        """Whether every action counted is one that is to say why (a view of patient data, an
        export: ``integrator.stated_reason``), so that ``without_reason`` is worth showing; a
        login's or a change's entries need not say it, or say it otherwise."""
        return all(action in (*VIEWS, *_EXPORT_ACTIONS) for action in self.terms.actions)

    def to_json(self, zone: tzinfo) -> dict[str, Any]:
        """As the API and ``audit summary --json`` give it, times in ``zone``."""
        return {
            "start": iso_time(self.terms.since, zone),
            "end": iso_time(self.terms.until, zone),
            "actions": list(self.terms.actions),
            "actors": [actor.to_json(zone) for actor in self.actors],
            "total": {**self.total.to_json(zone), "actors": len(self.actors)},
        }


def summary_terms(
    settings: Settings,
    *,
    since: str | None,
    until: str | None,
    action: str | None,
    now: datetime | None = None,
) -> SummaryTerms:
    """The period and actions of a summary, or a ``BadSearch`` naming the term and its rule
    (never its value), as an audit search refuses them (``audit.build_audit_filter``): a
    bound in none of the forms, a period that ends before it starts, an action the engine does
    not write. Without ``until`` the period ends now; without ``since`` it starts
    ``SUMMARY_DAYS`` before its end, so a review always names the period it covers."""
    flt = build_audit_filter(settings, action=action, since=since, until=until)
    end = flt.until or now or datetime.now(UTC)
    start = flt.since or end - timedelta(days=SUMMARY_DAYS)
    check_period(start, end, settings)  # a since typed after now, with no until given
    actions = SUMMARY_ACTIONS if flt.action is None else (flt.action,)
    return SummaryTerms(start, end, actions)


async def summarise_audit(
    store: Store,
    identity: Identity,
    terms: SummaryTerms,
    *,
    source: str | None,
) -> AuditSummary:
    """Who viewed patient data or exported listings in ``terms``' period (NEN 7513's review of the
    access log): counted in the store (``Store.count_audit_by_actor``), one row an actor,
    most views first. Recorded (``audit.summary``, with the period, the actions and how many
    actors it named) before it is answered, as every export of the trail is: the review is
    itself a reading of who looked at which patients' data. Within ``headers_only`` (a
    ``HEAD``) nothing is recorded: nothing is shown."""
    counted, together = await store.count_audit_by_actor(
        terms.actions, since=terms.since, until=terms.until
    )
    actors = sorted(
        (_actor_summary(counts) for counts in counted),
        key=lambda a: (-a.views, -a.exports, -a.entries, a.actor or ""),
    )
    total = (
        _actor_summary(together)
        if together is not None
        else ActorSummary(None, 0, 0, 0, 0, None, None)
    )
    if not answering_headers_only():
        details: dict[str, object] = {
            "since": terms.since.isoformat(),
            "until": terms.until.isoformat(),
            "actions": list(terms.actions),
            "actors": len(actors),
        }
        if source is not None:  # the CLI on the server names no address: its actor says where
            details["source"] = source
        await store.add_audit(identity.display, SUMMARY, "audit_log", details=details)
    return AuditSummary(terms, actors, total)


def _actor_summary(counts: ActorCounts) -> ActorSummary:
    views = sum(counts.actions.get(action, 0) for action in VIEWS)
    exports = sum(n for action, n in counts.actions.items() if action in _EXPORT_ACTIONS)
    # An export's entry names a patient only when it was made by BSN (its terms' keyed hash).
    by_bsn = sum(n for action, n in counts.naming_patient.items() if action in _EXPORT_ACTIONS)
    return ActorSummary(
        counts.actor,
        views,
        exports,
        counts.entries,
        counts.patients,
        counts.first,
        counts.last,
        counts.unexplained,
        by_bsn,
    )


_EXPORT_ACTIONS: Final = frozenset(EXPORTS.values())
