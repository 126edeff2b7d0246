"""Finding messages: by ZD number, destination, status, version, event type and period, and, for
who may read patient data, by the patient's BSN.

The same service as the API's ``GET /api/v1/messages`` and ``POST /api/v1/messages/search``
(``message_service.find_messages``), which narrows to the person's clusters and audits a search
by BSN as a view of patient data. The form posts, and what was typed into it never reaches an
address: the search is kept and shown by GET under a handle (``console.kept``), so its pages,
Back, a reload and its export name the handle. A search by BSN (the BSN travels in a form body
only) is made (audited) once, and its pages never search it again; one without a BSN records
nothing, and its pages search its terms again. A GET with the terms in its address (a saved
search's link, a link the console builds, an address typed by hand) still searches them.

A search by status ``sending`` says on the page why it finds nothing (``search.status_note``),
as the CLI and the API say it.

The page also keeps the person's saved searches (``integrator.saved_searches``: identifier
terms only, so running one is a link) and, for who may export (``reports.export``), the CSV of
``integrator messages list --csv`` (``exports.export_messages``, audited): a link with the
kept search's handle, or with the identifier terms of a search in the address.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from integrator import saved_searches
from integrator.access.permissions import Permission
from integrator.console import kept
from integrator.console.errors import BadInput, Forbidden
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.exports import export_messages
from integrator.http.bodies import INT_MAX
from integrator.http.csv_export import csv_head
from integrator.http.deps import source_of
from integrator.http.head import head_only
from integrator.kept_searches import KeptSearch
from integrator.message_reads import (
    check_destination,
    elsewhere,
    listed_messages,
    terms_filter,
)
from integrator.message_service import (
    MessageTerms,
    checked_filter,
    count_found,
    find_messages,
    message_filter,
    page_kept_search,
    searched_filter,
)
from integrator.search import (
    SEARCH_STATUSES,
    BadSearch,
    holds_bsn,
    misplaced_bsn,
    status_note,
    without_bsn,
)
from integrator.settings import Settings
from mappings.registry import REGISTRY

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/messages", "nav.messages", P.MESSAGES_READ)]
PAGE_SIZE: Final = 50
EVENT_TYPES: Final = ("referral", "diagnostic_request")
KIND: Final = "messages"

RESENT_HERE: Final = 500
"""The most messages one batch resend from the console takes (``pages.batch_resend``)."""

EXPORT_LIMIT: Final = 1000
"""The most rows one CSV export from the console holds (newest first)."""

SAVE_FIELDS: Final = {
    "name": "messages.save_name",
    "bsn": "messages.bsn",
    **{term: f"messages.{term}" for term in saved_searches.TERMS},
}
"""A saved search's refused field, named as the form labels it (the key of its label), in the
person's language; a refusal about no one field (``terms``: none given) is said without one."""

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Exporter = Annotated[Visitor, Depends(needs(P.REPORTS_EXPORT))]
# Wider than the fields' maxlength (200): a longer term posted past the browser (a script, a
# pasted address) meets the search's own rule beside its field, not a bare refusal page; the
# bound only keeps what is no term at all out.
Term = Annotated[str, Form(max_length=1000)]
QueryTerm = Annotated[str, Query(max_length=1000)]
PageOffset = Annotated[int, Query(ge=0, le=INT_MAX)]
"""Rows to skip: bounded as the API's ``offset`` (the store's 32-bit integers), so a huge one
is a 422 naming ``offset``, never an overflow in the database driver (a bare 500)."""


def _terms(values: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


def _beside(exc: BadSearch, withheld: Iterable[object] = ()) -> tuple[str, Said]:
    """A refused term as the form shows it: beside its field, so worded without the field's
    name, and never with a value typed (``withheld``; a term may be a BSN pasted there)."""
    return exc.field, said(exc, withheld=withheld, field=False)


def _query_terms(
    zd_number: QueryTerm = "",
    control_id: QueryTerm = "",
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
            "control_id": control_id,
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
    control_id: Term = "",
    destination: Term = "",
    status: Term = "",
    version: Term = "",
    event_type: Term = "",
    since: Term = "",
    until: Term = "",
) -> dict[str, str]:
    """The same terms posted in a form (beside a BSN, which only ever travels there)."""
    return _query_terms(
        zd_number, control_id, destination, status, version, event_type, since, until
    )


QueryTerms = Annotated[dict[str, str], Depends(_query_terms)]
FormTerms = Annotated[dict[str, str], Depends(_form_terms)]


def _others_refused(settings: Settings, terms: Mapping[str, str], refused: str) -> dict[str, Said]:
    """The terms besides ``refused`` (the field a search was refused for) that are refused on
    their own too: said at once beside their fields, so a person mends them all in one go
    rather than meeting them one submit at a time. Each alone: a rule between two terms (a
    period that ends before it starts) comes once they are each right."""
    found: dict[str, Said] = {}
    for name, value in terms.items():
        if name == refused:
            continue
        try:
            terms_filter(settings, MessageTerms(**{name: value}))
        except BadSearch as exc:
            found[name] = _beside(exc, terms.values())[1]
    return found


async def _results(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    offset: int,
    *,
    search: KeptSearch | None = None,
    handle: str = "",
    problem: tuple[str, Said] | None = None,
    save_problem: saved_searches.SavedSearchRefused | None = None,
    save_name: str = "",
    resend_refused: Said | None = None,
) -> Response:
    """The page: a search by identifier ``terms``, a page of a kept ``search`` by BSN (whose
    terms are its own), or, with ``problem`` (the field and its refusal), the form with a
    search's refusal. ``handle``: the kept search without a BSN whose ``terms`` these are,
    which its links name instead of them. A term that holds a BSN is refused before anything
    is searched, and the form is shown without it. With ``resend_refused``: the search's
    results, and why resending them was refused."""
    engine = engine_of(request)
    if search is None and problem is None and (pasted := misplaced_bsn(terms)) is not None:
        problem, terms = _beside(pasted), _terms(without_bsn(terms))  # never shown back
    rows: list[dict[str, Any]] = []
    total: int | None = None  # how many the search finds in all
    searched = bool(terms) or search is not None or problem is not None
    if search is not None:
        if not visitor.may_somewhere(P.PATIENT_DATA_READ):  # taken away since it was made
            raise Forbidden()
        terms = search.terms
    if problem is None and searched:
        try:
            if search is not None:
                found = await page_kept_search(
                    engine,
                    visitor.scope(P.PATIENT_DATA_READ),
                    search,
                    limit=PAGE_SIZE + 1,
                    offset=offset,
                )
            else:
                found = await find_messages(
                    engine,
                    visitor.scope(P.MESSAGES_READ),
                    MessageTerms(**terms),
                    limit=PAGE_SIZE,
                    one_more=True,
                    offset=offset,
                    source=source_of(request),
                )
            rows = await listed_messages(engine.store, found)
            # Of how many: a page that holds them all says so by itself; otherwise one count.
            if len(rows) > PAGE_SIZE or offset:
                total = await count_found(
                    engine,
                    visitor.scope(P.PATIENT_DATA_READ if search is not None else P.MESSAGES_READ),
                    MessageTerms(**terms),
                    search=search,
                )
            else:
                total = len(rows)
        except BadSearch as exc:
            # Names the term and the rule, never the value (as the API answers it).
            problem = _beside(exc, terms.values())
    refused = None  # (ZD number, how much rejected input has it) when nothing was found by it
    unrouted = None  # (ZD number, how many events have it that no destination serves)
    unseen = False  # such input may be out of the person's sight: who can look is said
    bsn_went = None  # by BSN: where the patient's referral went (the BSN never shown)
    outside = None  # (ZD number or None for the BSN, how many messages other terms left out)
    scope = visitor.scope(P.MESSAGES_READ)
    also = None  # (ZD number or None for the BSN, Elsewhere): input beside the messages found
    if problem is None and searched and not (rows and offset):
        # Refused by intake, or arrived while no destination served its provider: the classic
        # "it never came", which "no messages" alone told the person was never received. By
        # the ZD number searched, else by the kept search's BSN (part of that search, recorded
        # when it was made: nothing more is); where other terms narrowed an empty search, the
        # messages they left out. Asked when messages were found too, on the first page: a
        # patient's newest referral, refused or unrouted, hid behind their older messages,
        # delivered, and support told the GP "delivered"; said "besides these".
        wanted = await searched_filter(
            engine,
            visitor.scope(P.PATIENT_DATA_READ if search is not None else P.MESSAGES_READ),
            MessageTerms(**terms),
            search,
        )
        went = await elsewhere(engine.store, visitor.signed_in, wanted, found=bool(rows))
        zd_number = wanted.zd_number
        if went is None:
            pass
        elif rows:
            also = (zd_number, went) if went.rejected or went.unrouted else None
        elif went.outside_terms:
            outside = (zd_number, went.outside_terms)
        elif zd_number is not None:
            refused = (zd_number, went.rejected) if went.rejected else None
            unrouted = (zd_number, went.unrouted) if went.unrouted else None
            unseen = went.unseen
        else:
            bsn_went = went
    saved = await saved_searches.saved_by(engine.store, visitor.signed_in.id)
    shown = problem is None and searched
    # A search by status sending finds nothing, certainly: said, as the CLI and API do.
    note = status_note(terms.get("status")) if shown else None
    told = bool(outside or refused or unrouted or unseen or note) or (
        bsn_went is not None and bool(bsn_went.rejected or bsn_went.unrouted or bsn_went.unseen)
    )
    everywhere = visitor.signed_in.may(
        P.PATIENT_DATA_READ if search is not None else P.MESSAGES_READ
    )
    problems = dict([problem]) if problem is not None else {}
    if problem is not None:
        problems |= _others_refused(engine.settings, terms, problem[0])
    handle = search.handle if search is not None else handle
    return page(
        request,
        visitor,
        "messages.html",
        status=422 if save_problem or problem or resend_refused else 200,
        saved=[(s, saved_searches.query_of(s.terms)) for s in saved],
        # A search for one message by its MSH-10 is not one to keep and run again.
        may_save=shown and bool(terms) and "control_id" not in terms,
        save_problem=save_problem,
        save_name=save_name,  # a refused name shown back to be mended
        unrouted=unrouted,
        zd_unseen=unseen,
        bsn_went=bsn_went,
        outside=outside,
        also=also,
        save_fields=SAVE_FIELDS,
        save_rules={"chars": saved_searches.MAX_NAME, "most": saved_searches.MAX_PER_PERSON},
        export=shown and visitor.may_somewhere(P.REPORTS_EXPORT),
        # Resending what the search finds: by identifier terms only, never by BSN.
        resend_batch=shown
        and bool(rows)
        and search is None
        and visitor.may_somewhere(P.MESSAGES_RESEND),
        # ...and where the search was by BSN, said instead: a button missing for no reason
        # given left support looking for it, with one patient's several messages to resend.
        resend_not_by_bsn=shown
        and bool(rows)
        and search is not None
        and visitor.may_somewhere(P.MESSAGES_RESEND),
        resend_limit=RESENT_HERE,
        resend_refused=resend_refused,
        # The export and the pager name a kept search by its handle, never by what was typed.
        export_query=urlencode({kept.FIELD: handle}) if handle else saved_searches.query_of(terms),
        export_limit=EXPORT_LIMIT,
        terms=terms,
        handle=handle,
        by_bsn=search is not None,
        bsn_search=visitor.may_somewhere(P.PATIENT_DATA_READ),
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        total=None if total is None else max(total, offset + min(len(rows), PAGE_SIZE)),
        offset=offset,
        page_size=PAGE_SIZE,
        searched=searched,
        problem=problem,
        problems=problems,
        refused=refused,
        status_note=note,
        none_hints=_none_hints(terms, everywhere)
        if shown and not rows and not offset and not told
        else (),
        destinations=scope.searchable_destinations(engine.catalog),  # removed ones too
        statuses=SEARCH_STATUSES,  # with waiting, which the dashboard's figure links to
        versions=sorted(REGISTRY),
        event_types=EVENT_TYPES,
    )


def _none_hints(terms: Mapping[str, str], everywhere: bool) -> tuple[str, ...]:
    """What to try when a search found nothing and nothing else on the page says where the
    referral went (intake refused it, it arrived unrouted, other terms left it out, a status
    nothing is ever in): "no messages found" alone was a dead end, read as "never sent". Not
    beside those notes, whose own advice (search by the ZD number alone, look at the rejected
    input) it would contradict. An identifier typed is the likeliest slip; a person who reads
    some clusters only is told the search stays inside them (``everywhere``: all clusters)."""
    typed = ("messages.none_typed",) if {"zd_number", "control_id"} & terms.keys() else ()
    clusters = () if everywhere else ("messages.none_clusters",)
    return (*typed, "messages.none_widen", *clusters)


async def search_page(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    *,
    resend_refused: Said,
    handle: str = "",
) -> Response:
    """The search of identifier ``terms`` (its first page) with why resending what it finds
    was refused (``pages.batch_resend``), so the person narrows it where they searched;
    ``handle``: the kept search they are, which its links name."""
    return await _results(request, visitor, terms, 0, resend_refused=resend_refused, handle=handle)


@router.get("/messages")
async def messages(
    request: Request,
    visitor: Reader,
    terms: QueryTerms,
    offset: PageOffset = 0,
    search: kept.Handle = "",
) -> Response:
    """A page of a kept search (by BSN, or of its terms again), or a search by identifier
    terms in the address."""
    if not search:
        return await _results(request, visitor, terms, offset)
    found = await kept.kept_search(request, visitor, KIND, search, again="/messages")
    if found.bsn_hash is None:
        return await _results(request, visitor, found.terms, offset, handle=found.handle)
    return await _results(request, visitor, terms, offset, search=found)


@router.post("/messages/search")
async def search(
    request: Request,
    visitor: Reader,
    terms: FormTerms,
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
) -> Response:
    """The search form. Without a BSN: kept, once the search's own rules take each term
    (``checked_filter``, as ``find_messages`` checks the GET's), and shown by GET under its
    handle; nothing is recorded. With one: the search is made (and recorded) once, kept, and
    shown by GET under its handle. Never a redirect with a term in the address, where it would
    stay in the browser's history and a proxy's log. A term refused (a BSN in another term
    first) is the form again, the refusal beside it."""
    if misplaced_bsn(terms) is not None:
        return await _results(request, visitor, terms, 0)  # refuses it, beside its field
    engine = engine_of(request)
    wanted = bsn.strip()
    if not wanted:
        try:
            await checked_filter(engine, visitor.scope(P.MESSAGES_READ), MessageTerms(**terms))
        except BadSearch as exc:
            return await _results(request, visitor, terms, 0, problem=_beside(exc, terms.values()))
        return await kept.keep_and_show(request, visitor, KIND, "/messages", terms, None)
    if not visitor.may_somewhere(P.PATIENT_DATA_READ):
        raise Forbidden()
    scope = visitor.scope(P.PATIENT_DATA_READ)  # a view of patient data: within those clusters
    asked = MessageTerms(bsn=wanted, **terms)
    try:
        # Recorded as what its first page shows; the page is read when the kept search is.
        await find_messages(engine, scope, asked, limit=PAGE_SIZE, source=source_of(request))
    except BadSearch as exc:
        # The form again, the refusal beside its field; the BSN is not shown back.
        return await _results(
            request, visitor, terms, 0, problem=_beside(exc, asked.given().values())
        )
    bsn_hash = message_filter(engine.settings, engine.catalog, scope, asked).bsn_hash
    assert bsn_hash is not None  # a BSN the search took is hashed
    return await kept.keep_and_show(request, visitor, KIND, "/messages", terms, bsn_hash)


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
        again = name if exc.field == "name" and not holds_bsn(name) else ""
        return await _results(request, visitor, shown, 0, save_problem=exc, save_name=again)
    return RedirectResponse("/messages?" + saved_searches.query_of(kept.terms), status_code=303)


@router.post("/messages/saved/{search_id}/delete")
async def delete_search(request: Request, visitor: Reader, search_id: str) -> Response:
    """Delete one of the person's saved searches. One deleted already (a second click, a second
    tab) leads back to the list as the first did, which no longer shows it; anyone else's id
    does the same and deletes nothing (it is as unknown)."""
    # Gone already, or never the person's: nothing to do, the list says what is left.
    with contextlib.suppress(saved_searches.UnknownSavedSearch):
        await saved_searches.delete(engine_of(request).store, visitor.signed_in.id, search_id)
    return RedirectResponse("/messages", status_code=303)


def _narrowed(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The destinations both scopes allow (None: every destination)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


async def _export(
    request: Request, visitor: Visitor, terms: dict[str, str], search: KeptSearch | None
) -> Response:
    engine = engine_of(request)
    destination_ids = visitor.scope(P.REPORTS_EXPORT).destination_ids(engine.catalog)
    if search is not None:
        if not visitor.may_somewhere(P.PATIENT_DATA_READ):
            raise Forbidden()
        destination_ids = _narrowed(
            destination_ids, visitor.scope(P.PATIENT_DATA_READ).destination_ids(engine.catalog)
        )
        terms = search.terms
    try:
        if search is None and (pasted := misplaced_bsn(terms)) is not None:
            raise pasted  # a BSN in a term of the address: refused, as the page refuses it
        flt = terms_filter(engine.settings, MessageTerms(**terms), destination_ids)
        # A destination that names none is refused (as the page's search is), not exported
        # as an empty file.
        await check_destination(engine.store, engine.settings, flt, engine.catalog)
    except BadSearch as exc:
        raise BadInput(said(exc)) from None
    if search is not None:
        flt = dataclasses.replace(flt, bsn_hash=search.bsn_hash)
    if head_only(request):  # checked as the GET is; nothing exported, nothing audited
        return csv_head("messages.csv")
    page = await export_messages(
        engine.store,
        flt,
        actor=visitor.actor,
        terms=terms,  # a search by BSN is recorded with the BSN's keyed hash (the filter's)
        limit=EXPORT_LIMIT,
        zone=engine.settings.zone,
        source=source_of(request),
    )
    text = page.text
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
    search: kept.Handle = "",
) -> Response:
    """The shown search's messages as CSV: a kept search named by its handle, or identifier
    terms in the address (a BSN itself in this address is refused for every page,
    ``visitor.refuse_patient_data_in_address``). Each export is recorded as made."""
    if not search:
        return await _export(request, visitor, terms, None)
    found = await kept.kept_search(request, visitor, KIND, search, again="/messages")
    if found.bsn_hash is None:  # its terms, exported as they were shown
        return await _export(request, visitor, found.terms, None)
    return await _export(request, visitor, terms, found)
