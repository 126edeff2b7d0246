"""Finding messages: by ZD number, destination, status, version, event type and period, and, for
who may read patient data, by the patient's BSN.

The same service as the API's ``GET /api/v1/messages`` and ``POST /api/v1/messages/search``
(``message_service.find_messages``), which narrows to the person's clusters and audits a search
by BSN as a view of patient data. The BSN therefore travels in a form body only (the form is a
POST for who may use it).

The page also keeps the person's saved searches (``integrator.saved_searches``: identifier
terms only, so running one is a link) and, for who may export (``reports.export``), the CSV of
``integrator messages list --csv`` (``exports.export_messages``, audited): a GET for identifier
terms, a POST when a BSN is among them, so the BSN never is in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from integrator import saved_searches
from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.refusals import said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.exports import export_messages
from integrator.http.bodies import INT_MAX
from integrator.http.deps import source_of
from integrator.message_reads import check_destination, terms_filter
from integrator.message_service import MessageTerms, find_messages
from integrator.presenters import message_summary
from integrator.rejected_reads import rejected_for_zd
from integrator.search import BadSearch, normalise_zd
from integrator.store.records import MessageStatus
from mappings.registry import REGISTRY

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/messages", "nav.messages", P.MESSAGES_READ)]
PAGE_SIZE: Final = 50
EVENT_TYPES: Final = ("referral", "diagnostic_request")

RESENT_HERE: Final = 500
"""The most messages one batch resend from the console takes (``pages.batch_resend``)."""

EXPORT_LIMIT: Final = 1000
"""The most rows one CSV export from the console holds (newest first)."""

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Exporter = Annotated[Visitor, Depends(needs(P.REPORTS_EXPORT))]
Term = Annotated[str, Form(max_length=200)]
QueryTerm = Annotated[str, Query(max_length=200)]
PageOffset = Annotated[int, Query(ge=0, le=INT_MAX)]
"""Rows to skip: bounded as the API's ``offset`` (the store's 32-bit integers), so a huge one
is a 422 naming ``offset``, never an overflow in the database driver (a bare 500)."""


def _terms(values: dict[str, str | None]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


def _query_terms(
    zd_number: QueryTerm = "",
    destination: QueryTerm = "",
    status: QueryTerm = "",
    version: QueryTerm = "",
    event_type: QueryTerm = "",
    since: QueryTerm = "",
    until: QueryTerm = "",
) -> dict[str, str]:
    """The identifier terms of a search in the address (never a BSN)."""
    return _terms(
        {
            "zd_number": zd_number,
            "destination": destination,
            "status": status,
            "version": version,
            "event_type": event_type,
            "since": since,
            "until": until,
        }
    )


def _form_terms(
    zd_number: Term = "",
    destination: Term = "",
    status: Term = "",
    version: Term = "",
    event_type: Term = "",
    since: Term = "",
    until: Term = "",
) -> dict[str, str]:
    """The same terms posted in a form (beside a BSN, which only ever travels there)."""
    return _query_terms(zd_number, destination, status, version, event_type, since, until)


QueryTerms = Annotated[dict[str, str], Depends(_query_terms)]
FormTerms = Annotated[dict[str, str], Depends(_form_terms)]


async def _results(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    bsn: str | None,
    offset: int,
    *,
    save_problem: saved_searches.SavedSearchRefused | None = None,
) -> Response:
    engine = engine_of(request)
    problem = None
    rows: list[dict[str, Any]] = []
    searched = bool(terms) or bsn is not None
    if bsn is not None and not visitor.may_somewhere(P.PATIENT_DATA_READ):
        raise Forbidden()
    # A BSN search is a view of patient data: within the clusters where that may be read.
    permission = P.PATIENT_DATA_READ if bsn is not None else P.MESSAGES_READ
    wanted = MessageTerms(bsn=bsn, **terms)
    try:
        found = await find_messages(
            engine,
            visitor.scope(permission),
            wanted,
            limit=PAGE_SIZE + 1,
            offset=offset,
            source=source_of(request),
        )
        rows = [message_summary(m) for m in found]
    except BadSearch as exc:
        # Names the term and the rule, never the value (as the API answers it).
        problem = said(exc, withheld=wanted.given().values())
    refused = None  # (ZD number, how much rejected input has it) when nothing was found by it
    if problem is None and not rows and "zd_number" in terms:
        zd_number = normalise_zd(terms["zd_number"])  # taken by the search just now
        count = await rejected_for_zd(engine.store, visitor.signed_in, zd_number)
        refused = (zd_number, count) if count else None
    scope = visitor.scope(P.MESSAGES_READ)
    saved = await saved_searches.saved_by(engine.store, visitor.signed_in.id)
    shown = problem is None and searched
    return page(
        request,
        visitor,
        "messages.html",
        status=422 if save_problem is not None else 200,
        saved=[(s, saved_searches.query_of(s.terms)) for s in saved],
        may_save=shown and bool(terms),
        save_problem=save_problem,
        save_rules={"chars": saved_searches.MAX_NAME, "most": saved_searches.MAX_PER_PERSON},
        export=shown and visitor.may_somewhere(P.REPORTS_EXPORT),
        # Resending what the search finds: by identifier terms only, never by BSN.
        resend_batch=shown
        and bool(rows)
        and bsn is None
        and visitor.may_somewhere(P.MESSAGES_RESEND),
        resend_limit=RESENT_HERE,
        export_query=saved_searches.query_of(terms),
        export_limit=EXPORT_LIMIT,
        terms=terms,
        # Refused terms are not shown back (the BSN least of all); a good BSN stays for paging.
        bsn=(bsn or "") if problem is None else "",
        bsn_search=visitor.may_somewhere(P.PATIENT_DATA_READ),
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        searched=searched,
        problem=problem,
        refused=refused,
        destinations=sorted(scope.visible_catalog(engine.catalog).destinations),
        statuses=[s.value for s in MessageStatus],
        versions=sorted(REGISTRY),
        event_types=EVENT_TYPES,
    )


@router.get("/messages")
async def messages(
    request: Request,
    visitor: Reader,
    terms: QueryTerms,
    offset: PageOffset = 0,
) -> Response:
    return await _results(request, visitor, terms, None, offset)


@router.post("/messages/search")
async def search(
    request: Request,
    visitor: Reader,
    terms: FormTerms,
    bsn: Term = "",
    offset: Annotated[int, Form(ge=0, le=INT_MAX)] = 0,
) -> Response:
    return await _results(request, visitor, terms, bsn.strip() or None, offset)


@router.post("/messages/saved")
async def save_search(
    request: Request,
    visitor: Reader,
    terms: FormTerms,
    name: Annotated[str, Form()] = "",  # the service names the rule, FastAPI would echo it
    bsn: Annotated[str, Form()] = "",  # never saved: refused by the service, by name
) -> Response:
    """Keep the shown search under a name, for this person; then run it."""
    engine = engine_of(request)
    try:
        kept = await saved_searches.save(
            engine.store,
            engine.settings,
            visitor.signed_in.id,
            name,
            {"bsn": bsn, **terms},
            now=engine.clock.now(),
        )
    except saved_searches.SavedSearchRefused as exc:
        # A refused name: the search is shown again to give another. A refused term is not
        # shown back (it may hold a BSN pasted into the wrong field), nor is a BSN searched.
        shown = terms if exc.field == "name" else {}
        return await _results(request, visitor, shown, None, 0, save_problem=exc)
    return RedirectResponse("/messages?" + saved_searches.query_of(kept.terms), status_code=303)


@router.post("/messages/saved/{search_id}/delete")
async def delete_search(request: Request, visitor: Reader, search_id: str) -> Response:
    """Delete one of the person's saved searches; anyone else's id is a 404, as an unknown."""
    try:
        await saved_searches.delete(engine_of(request).store, visitor.signed_in.id, search_id)
    except saved_searches.UnknownSavedSearch:
        raise NotFound() from None
    return RedirectResponse("/messages", status_code=303)


def _narrowed(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The destinations both scopes allow (None: every destination)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


async def _export(
    request: Request, visitor: Visitor, terms: dict[str, str], bsn: str | None
) -> Response:
    engine = engine_of(request)
    destination_ids = visitor.scope(P.REPORTS_EXPORT).destination_ids(engine.catalog)
    if bsn is not None:
        if not visitor.may_somewhere(P.PATIENT_DATA_READ):
            raise Forbidden()
        destination_ids = _narrowed(
            destination_ids, visitor.scope(P.PATIENT_DATA_READ).destination_ids(engine.catalog)
        )
    try:
        flt = terms_filter(engine.settings, MessageTerms(bsn=bsn, **terms), destination_ids)
        # A destination that names none is refused (as the page's search is), not exported
        # as an empty file.
        await check_destination(engine.store, engine.settings, flt, engine.catalog.destinations)
    except BadSearch as exc:
        raise BadInput(said(exc)) from None
    text = await export_messages(
        engine.store,
        flt,
        actor=visitor.actor,
        terms={"bsn": bsn, **terms},  # the BSN is recorded as its keyed hash only
        limit=EXPORT_LIMIT,
        zone=engine.settings.zone,
        source=source_of(request),
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="messages.csv"'},
    )


@router.get("/messages.csv")
async def export_csv(
    request: Request,
    visitor: Exporter,
    terms: QueryTerms,
) -> Response:
    """The shown search's messages as CSV, by identifier terms (a BSN only ever by POST: one
    in this address is refused for every page, ``visitor.refuse_patient_data_in_address``)."""
    return await _export(request, visitor, terms, None)


@router.post("/messages.csv")
async def export_csv_by_patient(
    request: Request,
    visitor: Exporter,
    terms: FormTerms,
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
) -> Response:
    """The same CSV for a search that holds a BSN, which travels in this body only."""
    return await _export(request, visitor, terms, bsn.strip() or None)
