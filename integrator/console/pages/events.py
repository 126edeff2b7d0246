"""Finding events: by ZD number, provider, event type, period and whether any destination
served them, and, for who may read patient data, by the patient's BSN.

Support looks an event up before routing it, or to see which messages a referral became. The
same service as the API's ``GET /api/v1/events`` and ``POST /api/v1/events/search``:
``events_routing.build_event_filter`` checks the terms (a refused one is shown beside its
field, worded in the person's language, never echoing what was typed), and
``event_reads.find_events`` searches and audits a search by BSN (``events.search``). As on the
messages page, the form posts, and every search it makes (by BSN or not) is kept and shown by
GET under a handle (``console.kept``), so neither the BSN nor a term as typed (a provider's free
text) is ever in a URL; the listing itself holds identifiers only (``listed_event_view``). An
event lies in the clusters of the destinations it has messages for: the search is narrowed to
the person's, and an unrouted event (in no cluster) is found only by who holds the permission
for all clusters.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from destinations.config import EVENT_TYPES
from integrator import kept_searches
from integrator.access.permissions import Permission
from integrator.console import kept
from integrator.console.errors import Forbidden
from integrator.console.pages.unrouted import NeedsEveryCluster
from integrator.console.refusals import said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.event_reads import events_total, find_events, kept_event_filter, page_kept_events
from integrator.events_routing import (
    EventsRefused,
    build_event_filter,
    listed_event_view,
    unknown_provider,
)
from integrator.http.bodies import INT_MAX
from integrator.http.deps import source_of
from integrator.kept_searches import KeptSearch
from integrator.listing_totals import Total
from integrator.message_reads import elsewhere
from integrator.search import misplaced_bsn, without_bsn
from integrator.settings import Settings
from integrator.store.records import EventFilter, MessageFilter

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/events", "nav.events", P.MESSAGES_READ)]
PAGE_SIZE: Final = 50
TERMS: Final = ("zd_number", "provider", "event_type", "since", "until", "caller")
KIND: Final = "events"

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
# Wider than the fields' maxlength (200): a longer term posted past the browser (a script, a
# pasted address) meets the search's own rule beside its field, not a bare refusal page; the
# bound only keeps what is no term at all out.
Term = Annotated[str, Form(max_length=1000)]
QueryTerm = Annotated[str, Query(max_length=1000)]


def _terms(values: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


def _query_terms(
    zd_number: QueryTerm = "",
    provider: QueryTerm = "",
    event_type: QueryTerm = "",
    since: QueryTerm = "",
    until: QueryTerm = "",
    unrouted: QueryTerm = "",
    caller: QueryTerm = "",
) -> dict[str, str]:
    """The identifier terms of a search in the address (never a BSN)."""
    values = dict(zip(TERMS, (zd_number, provider, event_type, since, until, caller), strict=True))
    return _terms({**values, "unrouted": "1" if unrouted else ""})


def _form_terms(
    zd_number: Term = "",
    provider: Term = "",
    event_type: Term = "",
    since: Term = "",
    until: Term = "",
    unrouted: Term = "",
    caller: Term = "",
) -> dict[str, str]:
    """The same terms posted in a form (beside a BSN, which only ever travels there)."""
    return _query_terms(zd_number, provider, event_type, since, until, unrouted, caller)


QueryTerms = Annotated[dict[str, str], Depends(_query_terms)]
FormTerms = Annotated[dict[str, str], Depends(_form_terms)]


def _event_filter(settings: Settings, terms: dict[str, str], bsn: str | None = None) -> EventFilter:
    """The store filter of a search's ``terms`` (and ``bsn``), read by the service's rules
    (``build_event_filter``; a refused term is ``EventsRefused``): what the GET searches with,
    and what the form's POST checks before it sends the terms into an address."""
    return build_event_filter(
        settings,
        bsn=bsn,
        unrouted="unrouted" in terms,
        **{name: terms.get(name) for name in TERMS},
    )


def _refuses(settings: Settings, terms: dict[str, str]) -> bool:
    """Whether the search refuses a term of ``terms`` (a BSN in one first), as the GET would."""
    if misplaced_bsn(terms) is not None:
        return True
    try:
        _event_filter(settings, terms)
    except EventsRefused:
        return True
    return False


async def _results(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    offset: int,
    *,
    bsn: str | None = None,
    search: KeptSearch | None = None,
    handle: str = "",
) -> tuple[Response | None, EventFilter | None]:
    """The page of identifier ``terms``, of a kept ``search`` by BSN, or of a search by
    ``bsn`` being made (the form's POST): then only a refused term makes a page (the form with
    the refusal), and a search that was made gives its filter back, to be kept. ``handle``:
    the kept search without a BSN whose ``terms`` these are, which the pager names. A term
    that holds a BSN (``misplaced_bsn``) is refused before anything is searched."""
    engine = engine_of(request)
    if (bsn is not None or search is not None) and not visitor.may_somewhere(P.PATIENT_DATA_READ):
        raise Forbidden()
    if search is not None:
        terms = search.terms
    searched = bool(terms) or bsn is not None or search is not None
    # A BSN search is a view of patient data: within the clusters where that may be read.
    by_bsn = bsn is not None or search is not None
    permission = P.PATIENT_DATA_READ if by_bsn else P.MESSAGES_READ
    if "unrouted" in terms and not visitor.may(permission):
        # An unrouted event lies in no cluster: for a person held to some, the list would be
        # empty, and read as "none waiting" (as the Unrouted events page and the API refuse).
        raise NeedsEveryCluster()
    scope = visitor.scope(permission)
    destination_ids = scope.destination_ids(engine.catalog)
    pasted = misplaced_bsn(terms) if search is None else None
    problem = None if pasted is None else (pasted.field, said(pasted, field=False))
    rows: list[dict[str, Any]] = []
    total: Total | None = None  # how many the search finds in all ("N of M")
    served: tuple[str, ...] | None = None  # a provider no destination in sight serves: these
    refused = None  # (ZD number, how much rejected input has it) when nothing was found by it
    zd_unseen = False  # such input may be out of the person's sight: who can look is said
    if searched and problem is None:
        try:
            if search is not None:
                found = await page_kept_events(
                    engine.store,
                    engine.settings,
                    search,
                    destination_ids=destination_ids,
                    limit=PAGE_SIZE + 1,
                    offset=offset,
                )
                scoped = kept_event_filter(engine.settings, search, destination_ids=destination_ids)
            else:
                flt = _event_filter(engine.settings, terms, bsn)
                scoped = dataclasses.replace(flt, destination_ids=destination_ids)
                found = await find_events(
                    engine.store,
                    visitor.signed_in,
                    scoped,
                    limit=PAGE_SIZE,
                    one_more=True,
                    offset=offset,
                    source=source_of(request),
                )
                if bsn is not None:
                    return None, scoped  # made and recorded: to be kept and shown by GET
                if not found and offset == 0 and flt.zd_number is not None:
                    # Refused by intake, or (for who cannot see unrouted events) not routed:
                    # said as the messages page says it (``message_reads.elsewhere``).
                    by_zd = MessageFilter(zd_number=flt.zd_number)
                    went = await elsewhere(engine.store, visitor.signed_in, by_zd)
                    if went is not None:
                        refused = (flt.zd_number, went.rejected) if went.rejected else None
                        zd_unseen = went.unseen
            rows = [listed_event_view(e) for e in found]
            # Of how many: counted only when the page is cut, as the message search does.
            total = await events_total(
                engine.store,
                scoped,
                offset=offset,
                shown=min(len(rows), PAGE_SIZE),
                more=len(rows) > PAGE_SIZE,
            )
            if not rows and offset == 0 and terms.get("provider"):
                # As the CLI says it, of the person's clusters only (``unknown_provider``).
                served = await unknown_provider(
                    engine.store,
                    engine.settings,
                    terms["provider"],
                    catalog=scope.visible_catalog(engine.catalog),
                    destination_ids=destination_ids,
                )
        except EventsRefused as exc:
            # Beside its field; names the rule, never the value (it may be a pasted BSN).
            problem = (exc.field, said(exc, withheld=[bsn, *terms.values()], field=False))
    problems = dict([problem]) if problem is not None else {}
    if problem is not None:  # every refused term at once, each on its own (as messages')
        for name in TERMS:
            value = terms.get(name)
            if name == problem[0] or value is None:
                continue
            alone: dict[str, Any] = {name: value}
            try:
                build_event_filter(engine.settings, **alone)
            except EventsRefused as exc:
                problems[name] = said(exc, withheld=[bsn, *terms.values()], field=False)
    handle = search.handle if search is not None else handle
    return page(
        request,
        visitor,
        "events.html",
        status=422 if problem is not None else 200,
        # Shown back to be mended, a term holding a BSN emptied (nor is a searched BSN ever).
        terms=without_bsn(terms),
        handle=handle,
        by_bsn=search is not None,
        bsn_search=visitor.may_somewhere(P.PATIENT_DATA_READ),
        # An event's page shows the patient (patient_data.read): without it, no link to a 403.
        may_open_event=visitor.may_somewhere(P.PATIENT_DATA_READ),
        problem=problem,
        problems=problems,
        rows=rows[:PAGE_SIZE],
        served=served,
        refused=refused,
        zd_unseen=zd_unseen,
        more=len(rows) > PAGE_SIZE,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        searched=searched,
        event_types=EVENT_TYPES,
    ), None


@router.get("/events")
async def events(
    request: Request,
    visitor: Reader,
    terms: QueryTerms,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
    search: kept.Handle = "",
) -> Response:
    """A page of a kept search (by BSN, or of its terms again), or a search by identifier
    terms in the address."""
    found = (
        await kept.kept_search(request, visitor, KIND, search, again="/events") if search else None
    )
    if found is not None and found.bsn_hash is None:
        shown, _ = await _results(request, visitor, found.terms, offset, handle=found.handle)
    else:
        shown, _ = await _results(request, visitor, terms, offset, search=found)
    assert shown is not None
    return shown


@router.post("/events/search")
async def search(
    request: Request,
    visitor: Reader,
    terms: FormTerms,
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
) -> Response:
    """The search form. Without a BSN: kept, once the search's rules take each term
    (``_event_filter``, the GET's own), and shown by GET under its handle; nothing is
    recorded. With one: the search is made (and recorded) once, kept, and shown by GET under
    its handle. Never a redirect with a term in the address (a provider is free text), where
    it would stay in the browser's history and a proxy's log. A term refused (a BSN in another
    term, a name typed into the ZD number) is the form again, the refusal beside it."""
    wanted = bsn.strip()
    if not wanted and not _refuses(engine_of(request).settings, terms):
        return await kept.keep_and_show(request, visitor, KIND, "/events", terms, None)
    shown, made = await _results(request, visitor, terms, 0, bsn=wanted or None)
    if shown is not None:
        return shown
    assert made is not None and made.bsn_hash is not None
    return await kept.keep_and_show(request, visitor, KIND, "/events", terms, made.bsn_hash)


UNROUTED_OF_SEARCH: Final = "/events/search/unrouted"
"""Where the messages page's notice sends a person to see the unrouted events of the patient
whose search by BSN found no messages (``message_reads.elsewhere``)."""


@router.post(UNROUTED_OF_SEARCH)
async def unrouted_of_search(
    request: Request,
    visitor: Reader,
    search: Annotated[str, Form(max_length=kept_searches.MAX_HANDLE)] = "",
) -> Response:
    """The unrouted events of the patient of the person's kept message search by BSN
    (``search``, its handle), which found no messages and said that the patient has some.
    Searched by that search's BSN hash: no BSN is in the form or in an address. Made and
    recorded as the events form's search by BSN is (``events.search``: what is listed now is a
    view of its own, not the count the messages page said), kept, and shown by GET under its
    own handle. Unrouted events lie in no cluster: for who reads patient data in all of them
    (the Unrouted events page's 403 otherwise); another person's handle, an expired or
    unknown one, or a search without a BSN is the page that says to search again."""
    found = await kept.kept_search(request, visitor, "messages", search, again="/messages")
    if found.bsn_hash is None:
        raise kept.SearchGone("/messages")
    if not visitor.may(P.PATIENT_DATA_READ):  # cluster None: for all clusters
        raise NeedsEveryCluster()
    engine = engine_of(request)
    terms = {"unrouted": "1"}
    await find_events(
        engine.store,
        visitor.signed_in,
        EventFilter(bsn_hash=found.bsn_hash, unrouted=True),
        limit=PAGE_SIZE,
        source=source_of(request),
    )
    return await kept.keep_and_show(request, visitor, KIND, "/events", terms, found.bsn_hash)
