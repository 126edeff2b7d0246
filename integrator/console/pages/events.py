"""Finding events: by ZD number, provider, event type, period and whether any destination
served them, and, for who may read patient data, by the patient's BSN.

Support looks an event up before routing it, or to see which messages a referral became. The
same service as the API's ``GET /api/v1/events`` and ``POST /api/v1/events/search``:
``events_routing.build_event_filter`` checks the terms (a refused one is shown beside its
field, worded in the person's language, never echoing what was typed), and
``event_reads.find_events`` searches and audits a search by BSN (``events.search``). As on the
messages page, the form is a POST for who may search by BSN, so the BSN never is in a URL; the
listing itself holds identifiers only (``listed_event_view``). An event lies in the clusters of
the destinations it has messages for: the search is narrowed to the person's, and an unrouted
event (in no cluster) is found only by who holds the permission for all clusters.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from destinations.config import EVENT_TYPES
from integrator.access.permissions import Permission
from integrator.console.errors import Forbidden
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.event_reads import find_events
from integrator.events_routing import EventsRefused, build_event_filter, listed_event_view
from integrator.http.bodies import INT_MAX
from integrator.http.deps import source_of

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/events", "nav.events", P.MESSAGES_READ)]
PAGE_SIZE: Final = 50
TERMS: Final = ("zd_number", "provider", "event_type", "since", "until")

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Term = Annotated[str, Form(max_length=200)]
QueryTerm = Annotated[str, Query(max_length=200)]


def _terms(values: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


def _query_terms(
    zd_number: QueryTerm = "",
    provider: QueryTerm = "",
    event_type: QueryTerm = "",
    since: QueryTerm = "",
    until: QueryTerm = "",
    unrouted: QueryTerm = "",
) -> dict[str, str]:
    """The identifier terms of a search in the address (never a BSN)."""
    values = dict(zip(TERMS, (zd_number, provider, event_type, since, until), strict=True))
    return _terms({**values, "unrouted": "1" if unrouted else ""})


def _form_terms(
    zd_number: Term = "",
    provider: Term = "",
    event_type: Term = "",
    since: Term = "",
    until: Term = "",
    unrouted: Term = "",
) -> dict[str, str]:
    """The same terms posted in a form (beside a BSN, which only ever travels there)."""
    return _query_terms(zd_number, provider, event_type, since, until, unrouted)


QueryTerms = Annotated[dict[str, str], Depends(_query_terms)]
FormTerms = Annotated[dict[str, str], Depends(_form_terms)]


async def _results(
    request: Request, visitor: Visitor, terms: dict[str, str], bsn: str | None, offset: int
) -> Response:
    engine = engine_of(request)
    if bsn is not None and not visitor.may_somewhere(P.PATIENT_DATA_READ):
        raise Forbidden()
    searched = bool(terms) or bsn is not None
    # A BSN search is a view of patient data: within the clusters where that may be read.
    permission = P.PATIENT_DATA_READ if bsn is not None else P.MESSAGES_READ
    problem: tuple[str, Said] | None = None
    rows: list[dict[str, Any]] = []
    if searched:
        try:
            flt = build_event_filter(
                engine.settings,
                bsn=bsn,
                unrouted="unrouted" in terms,
                **{name: terms.get(name) for name in TERMS},
            )
        except EventsRefused as exc:
            # Beside its field; names the rule, never the value (it may be a pasted BSN).
            problem = (exc.field, said(exc, withheld=[bsn, *terms.values()], field=False))
        else:
            scoped = dataclasses.replace(
                flt, destination_ids=visitor.scope(permission).destination_ids(engine.catalog)
            )
            found = await find_events(
                engine.store,
                visitor.signed_in,
                scoped,
                limit=PAGE_SIZE + 1,
                offset=offset,
                source=source_of(request),
            )
            rows = [listed_event_view(e) for e in found]
    return page(
        request,
        visitor,
        "events.html",
        status=422 if problem is not None else 200,
        # Refused terms are not shown back (the BSN least of all); a good BSN stays for paging.
        terms={} if problem is not None else terms,
        bsn=(bsn or "") if problem is None else "",
        bsn_search=visitor.may_somewhere(P.PATIENT_DATA_READ),
        problem=problem,
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        searched=searched,
        event_types=EVENT_TYPES,
    )


@router.get("/events")
async def events(
    request: Request,
    visitor: Reader,
    terms: QueryTerms,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Response:
    return await _results(request, visitor, terms, None, offset)


@router.post("/events/search")
async def search(
    request: Request,
    visitor: Reader,
    terms: FormTerms,
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
    offset: Annotated[int, Form(ge=0, le=INT_MAX)] = 0,
) -> Response:
    return await _results(request, visitor, terms, bsn.strip() or None, offset)
