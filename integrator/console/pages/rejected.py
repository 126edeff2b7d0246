"""Rejected input: what intake refused (not JSON, a broken rule), kept as it arrived.

The listing is ``GET /api/v1/rejected``, one piece ``GET /api/v1/rejected/{id}``, from the same
service (``integrator.rejected_reads``), which holds every rule: rejected input lies in no
cluster, so the listing and one piece's broken rules need ``messages.read`` for all clusters,
and a body ``patient_data.read`` for all clusters; its refusals are said here as the console's
403 page, with the reason in the person's language. The navigation shows the page only to who
may use it (``NavItem.everywhere``).

One piece's page shows when, from where and from whom (the caller the engine recorded), how
large and every broken rule (field, rule and the rule's sentence, never a value), which is no
patient data. The body may be (it is what a GP's
system sent), so it is never on the page by itself: *Show the input* is a form that posts, so
the id alone in an address (a link, the history, a screenshot of the address bar) never shows
it, and the service records the view (``patient_data.view``, view ``rejected``, the person and
their address) before the body is rendered. Nothing about the body is ever in a URL.

The listing takes the terms of ``integrator rejected list`` (a period, a source, a ZD number, a
provider) in a form that posts (``/rejected/search``): once the listing's rules take each of
them (a refused one is said in the form's answer), the search is kept and shown by GET under a
handle (``console.kept``), so nothing typed (a provider is free text) is ever in an address.
The GET still reads terms in its address, for the links the console builds from what it shows:
the dashboard links to ``/rejected?since=24h`` and an empty message search by ZD number to
``/rejected?zd_number=…``. For who may read patient data for all clusters the form also takes a
BSN, as the message search does: the service records that search as their view, once, before
the rows are shown, and its pages record nothing more. The service reads and refuses the terms
(``find_rejected``), and a term it refuses is said beside its field, without what was typed;
the page says how many match in all. Each row lists the rules its input broke, each its path
and the rule's own sentence in the person's language (``rule_text.listed``); the row's page
has the rule's code and its whole sentence.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from integrator.console import kept
from integrator.console.answers import show_once
from integrator.console.errors import ConsoleError, Forbidden, NotFound
from integrator.console.refusals import said
from integrator.console.render import NavItem, page
from integrator.console.rule_text import listed
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of
from integrator.kept_searches import KeptSearch
from integrator.rejected_reads import (
    BODY,
    LISTING,
    SOURCES,
    BadRejectedId,
    NeedsEveryCluster,
    RejectedNotFound,
    build_rejected_filter,
    describe_rejected,
    find_rejected,
    locate_rejected,
    may_list,
    may_read_body,
    page_kept_rejected,
    read_rejected,
)
from integrator.search import BadSearch, misplaced_bsn, without_bsn

router = APIRouter()
KIND: Final = "rejected"
TERM_NAMES: Final = ("since", "until", "source", "zd_number", "provider")
NAV: Final = [NavItem("/rejected", "nav.rejected", LISTING, everywhere=True)]
SHOWN: Final = 200
"""The newest this many are listed; ``integrator rejected list --limit`` and the API go further."""
BODY_SHOWN: Final = 100_000
"""Characters of a body the page shows: a body may be up to 70 MiB of base64 attachments,
which no browser tab should be asked to lay out; the CLI and the API give all of it."""

Reader = Annotated[Visitor, Depends(needs(LISTING))]
Moment = Annotated[str, Query(max_length=64)]  # as the API's bounds
Source = Annotated[str, Query(max_length=16)]
ZdNumber = Annotated[str, Query(max_length=64)]
Provider = Annotated[str, Query(max_length=128)]
BodyReader = Annotated[Visitor, Depends(needs(BODY))]
FormTerm = Annotated[str, Form(max_length=128)]
BACK: Final = "back"
"""The query key of one piece's page that holds the query of the listing it was opened from,
so its way back returns to that listing, filtered as it was (``_listing_of``)."""
Back = Annotated[str, Query(alias=BACK, max_length=1024)]


class ListingNeedsEveryCluster(Forbidden):
    text_key = "rejected.forbidden"


class BodyNeedsEveryCluster(Forbidden):
    text_key = "rejected.body_forbidden"


class UnknownRejected(NotFound):
    text_key = "rejected.not_found"


class MalformedRejectedId(ConsoleError):
    status = 400
    text_key = "rejected.bad_id"


def _refused(refusal: NeedsEveryCluster) -> Forbidden:
    if refusal.permission is BODY:
        return BodyNeedsEveryCluster()
    return ListingNeedsEveryCluster()


async def _located(engine: Engine, visitor: Visitor, given: str) -> str:
    """The full id ``given`` names (the service decides what is an id); said as pages."""
    try:
        return await locate_rejected(engine.store, visitor.signed_in, given)
    except NeedsEveryCluster as refusal:
        raise _refused(refusal) from None
    except BadRejectedId:
        raise MalformedRejectedId() from None
    except RejectedNotFound:
        raise UnknownRejected() from None


def _listing_of(back: str) -> str:
    """The query of the listing one piece was opened from, as its ``back`` carries it: the
    listing's own terms or a kept search's handle, each once, none holding a BSN; anything
    else is no listing's, and the way back is then to the whole listing (''). Only ever a
    query: the path is the listing's own, so the link can lead nowhere else."""
    pairs = [(name, value) for name, value in parse_qsl(back) if value]
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= {*TERM_NAMES, kept.FIELD}:
        return ""
    terms = dict(pairs)
    return "" if misplaced_bsn(terms) is not None else kept.listing_query(terms)


def _given(terms: dict[str, str]) -> dict[str, str | None]:
    """The listing's terms as the service takes them: a blank one is not given (None)."""
    return {name: value.strip() or None for name, value in terms.items()}


def _refuses(engine: Engine, terms: dict[str, str]) -> bool:
    """Whether the listing refuses a term of ``terms`` (a BSN in one first), by the rules its
    GET reads them with (``build_rejected_filter``, which ``find_rejected`` calls)."""
    if misplaced_bsn(terms) is not None:
        return True
    try:
        build_rejected_filter(engine.settings, **_given(terms))
    except BadSearch:
        return True
    return False


def _carrying(listing: str) -> str:
    """What a piece's address adds to carry the way back to ``listing`` (a listing's query)."""
    return f"?{urlencode({BACK: listing})}" if listing else ""


def _detail_page(
    request: Request, visitor: Visitor, detail: dict[str, Any], body: str | None, back: str
) -> Response:
    listing = _listing_of(back)
    return page(
        request,
        visitor,
        "rejected_one.html",
        r=detail,
        back_to=f"/rejected?{listing}" if listing else "/rejected",
        carry=_carrying(listing),
        body=None if body is None else body[:BODY_SHOWN],
        body_cut=body is not None and len(body) > BODY_SHOWN,
        body_shown=BODY_SHOWN,
        may_reveal=may_read_body(visitor.signed_in),
    )


async def _listing(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    *,
    bsn: str | None = None,
    search: KeptSearch | None = None,
    handle: str = "",
) -> Response:
    """The newest rejected input the terms (a kept search's, with its BSN's hash) take, and
    how many they take in all. A search by ``bsn`` being made (the form's POST) is kept and
    shown by GET; only a refused term makes a page then (the form, the BSN not shown back).
    ``handle``: the kept search without a BSN whose ``terms`` these are, which each piece's
    way back names. A term that holds a BSN (``misplaced_bsn``) is refused before anything is
    searched."""
    engine = engine_of(request)
    if search is not None:
        terms = {name: search.terms.get(name, "") for name in TERM_NAMES}
    pasted = misplaced_bsn(terms) if search is None else None
    shown: dict[str, Any] = {
        "request": request,
        "visitor": visitor,
        "template": "rejected.html",
        "terms": terms,
        "sources": SOURCES,
        "shown": SHOWN,
        "bsn_search": may_read_body(visitor.signed_in),
        "handle": search.handle if search is not None else handle,
        "by_bsn": search is not None,
    }
    if pasted is not None:
        if not may_list(visitor.signed_in):  # who may not list is told that first, as always
            raise ListingNeedsEveryCluster()
        problem = (pasted.field, said(pasted, field=False))
        shown["terms"] = without_bsn(terms)  # the form again, without it
        return page(**shown, status=422, problem=problem, rows=[], total=None)
    # Each piece's link carries this listing's query, for its way back (``BACK``).
    query = {kept.FIELD: shown["handle"]} if shown["handle"] else terms
    shown["opened"] = _carrying(kept.listing_query(query))
    try:
        if search is not None:
            listing = await page_kept_rejected(
                engine.store, engine.settings, visitor.signed_in, search, limit=SHOWN
            )
        else:
            listing = await find_rejected(
                engine.store,
                engine.settings,
                visitor.signed_in,
                limit=SHOWN,
                bsn=bsn,
                address=source_of(request),
                **_given(terms),
            )
    except NeedsEveryCluster as refusal:
        raise _refused(refusal) from None
    except BadSearch as exc:
        withheld = [*terms.values(), bsn or ""]
        problem = (exc.field, said(exc, withheld=withheld, field=False))
        return page(**shown, status=422, problem=problem, rows=[], total=None)
    if bsn is not None:  # made and recorded: kept, and shown by GET under its handle
        flt = build_rejected_filter(engine.settings, bsn=bsn)
        assert flt.bsn_hash is not None
        kept_terms = {name: value for name, value in terms.items() if value.strip()}
        return await kept.keep_and_show(
            request, visitor, KIND, "/rejected", kept_terms, flt.bsn_hash
        )
    # Each broken rule short, in the person's language: its path and its rule's own sentence,
    # as the row's page words it (a code alone was read only by the sender's developer).
    rows = [
        {**row, "rules": [listed(visitor.lang, problem) for problem in row["problems"]]}
        for row in listing.rows
    ]
    return page(**shown, problem=None, rows=rows, total=listing.total)


@router.get("/rejected")
async def rejected_list(
    request: Request,
    visitor: Reader,
    since: Moment = "",
    until: Moment = "",
    source: Source = "",
    zd_number: ZdNumber = "",
    provider: Provider = "",
    search: kept.Handle = "",
) -> Response:
    """The newest rejected input the terms take: when, from where and whom, its ZD number, its
    size and the rules it broke, and how many they take in all; or a kept search (by BSN, or
    of its terms again)."""
    if search:
        found = await kept.kept_search(request, visitor, KIND, search, again="/rejected")
        if found.bsn_hash is None:
            shown = {name: found.terms.get(name, "") for name in TERM_NAMES}
            return await _listing(request, visitor, shown, handle=found.handle)
        return await _listing(request, visitor, {}, search=found)
    terms = {
        "since": since,
        "until": until,
        "source": source,
        "zd_number": zd_number,
        "provider": provider,
    }
    return await _listing(request, visitor, terms)


@router.post("/rejected/search")
async def rejected_search(
    request: Request,
    visitor: Reader,
    since: FormTerm = "",
    until: FormTerm = "",
    source: FormTerm = "",
    zd_number: FormTerm = "",
    provider: FormTerm = "",
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
) -> Response:
    """The search form, which can hold a BSN (it travels in this body only). Without one:
    kept, once the listing's rules take each term (``_refuses``), and shown by GET under its
    handle; nothing is recorded. With one (the service needs patient data for all clusters for
    it, and records the search): made once, kept, and shown by GET under its handle. Never a
    redirect with a term in the address (a provider is free text), where it would stay in the
    browser's history and a proxy's log. A term refused (a BSN in another term, a name typed
    into the ZD number) is the form again, the refusal beside it."""
    terms = {
        "since": since,
        "until": until,
        "source": source,
        "zd_number": zd_number,
        "provider": provider,
    }
    wanted = bsn.strip()
    if not wanted and not _refuses(engine_of(request), terms):
        given = {name: value.strip() for name, value in terms.items() if value.strip()}
        return await kept.keep_and_show(request, visitor, KIND, "/rejected", given, None)
    return await _listing(request, visitor, terms, bsn=wanted or None)


@router.get("/rejected/{rejected_id}")
async def rejected_one(
    request: Request, visitor: Reader, rejected_id: str, back: Back = ""
) -> Response:
    """One piece without its body (no patient data, nothing audited), and the button to it.
    A ``back`` that is not a listing's query as the listing's links carry it is taken out of
    the address first: the page (its language switch too) never repeats it."""
    engine = engine_of(request)
    full_id = await _located(engine, visitor, rejected_id)
    listing = _listing_of(back)
    if back != listing:
        return RedirectResponse(f"/rejected/{full_id}{_carrying(listing)}", status_code=303)
    try:
        detail = await describe_rejected(engine.store, visitor.signed_in, full_id)
    except NeedsEveryCluster as refusal:
        raise _refused(refusal) from None
    if detail is None:  # deleted (retention) since it was looked up
        raise UnknownRejected()
    return _detail_page(request, visitor, detail, None, listing)


@router.post("/rejected/{rejected_id}/input")
async def rejected_input(
    request: Request, visitor: BodyReader, rejected_id: str, back: Back = ""
) -> Response:
    """The same page with the body, which the service records as this person's view first."""
    engine = engine_of(request)
    full_id = await _located(engine, visitor, rejected_id)
    try:
        described = await describe_rejected(engine.store, visitor.signed_in, full_id)
        if described is not None and described["bytes"] == 0:
            # Nothing was kept (refused unread: too large): no view of patient data to record.
            return _detail_page(request, visitor, described, None, back)
        detail = await read_rejected(
            engine.store, visitor.signed_in, full_id, source=source_of(request)
        )
    except NeedsEveryCluster as refusal:
        raise _refused(refusal) from None
    if detail is None:
        raise UnknownRejected()
    # Patient data, its view recorded: shown once after the redirect (``answers``); a reload
    # shows the page without it, and showing it again takes the button (and is recorded).
    return show_once(_detail_page(request, visitor, detail, detail["body"], back))


@router.get("/rejected/{rejected_id}/input")
async def rejected_input_address(
    request: Request, visitor: Reader, rejected_id: str, back: Back = ""
) -> Response:
    """The address the button's answer leaves in the address bar, opened again (reloaded in a
    new tab, bookmarked): back to the page without the body; showing it takes the button."""
    full_id = await _located(engine_of(request), visitor, rejected_id)
    return RedirectResponse(f"/rejected/{full_id}{_carrying(_listing_of(back))}", status_code=303)
