"""The audit trail: search it, read it, export it as CSV.

The same calls as ``/api/v1/audit`` (``audit.build_audit_filter``, ``Store.list_audit``), with
its permission for all clusters (the trail spans every cluster): ``audit.read`` to search and
read, ``reports.export`` for the CSV, whose export is audited by ``audit.export_audit``. A
patient is searched by BSN only in a POST body, never a URL; that search is itself audited
(``patient_data.view``) as the API audits it, once, and kept (``console.kept``): the answer
redirects to ``/audit?search=<handle>``, whose pages name the handle, never the BSN, and record
nothing more. The BSN is never shown back. A search without a BSN is kept the same way (and
records nothing): its terms are free text (an action, a target, a message id), and what a
person types there (a patient's name, a birth date) is never put in an address; its pages and
its CSV export name the handle. A destination
that names nothing is refused beside its field (``audit.check_audit_destination``), as the API
refuses it, never repeating what was typed.

The terms' form posts too, so a BSN typed into a free-text term (actor, action, ...) is never
kept nor put in an address: the service refuses it (``audit.misplaced_terms``), and the page
says so beside the field, shows the form again without it, and redirects nowhere. An address
typed with one (``/audit?actor=<BSN>``) is refused the same way.

The access-log review NEN 7513 asks for (``/audit/summary``): who viewed patient data or
exported listings in a period, per actor, counted and recorded (``audit.summary``) by the
service the API's ``GET /api/v1/audit/summary`` calls (``audit_reads.summary_terms``,
``summarise_audit``), with the same permission. Opened plain it shows its form and counts
nothing, so it records nothing, as the trail's plain listing records nothing: a summary is
made when the form asks for one.
The form posts (what was typed in a period's field stays out of addresses, as the trail's
search does); once the service takes its terms, the browser is sent to the summary's GET with
the period as the service read it (``kept.period_moments``) and the action it checked, which
summarises and records each time it is shown. Each actor links to the trail of that actor,
that period and, when one was asked for, that action.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.permissions import Permission
from integrator.audit import (
    audit_origin,
    build_audit_filter,
    checked_audit_filter,
    export_audit,
)
from integrator.audit_actions import ACTIONS
from integrator.audit_reads import (
    AS_MADE,
    SUMMARY_ACTIONS,
    SUMMARY_DAYS,
    VIEWS,
    AuditPage,
    AuditSummary,
    SummaryTerms,
    audit_total,
    find_audit,
    page_kept_audit,
    summarise_audit,
    summary_terms,
    trail_end,
)
from integrator.console import kept
from integrator.console.audit_links import audit_links
from integrator.console.errors import BadInput, Forbidden
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.http.bodies import INT_MAX
from integrator.http.csv_export import csv_head
from integrator.http.deps import source_of
from integrator.http.head import head_only
from integrator.presenters import audit_view
from integrator.search import BadPeriod, BadSearch, without_bsn
from integrator.settings import Settings

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/audit", "nav.audit", P.AUDIT_READ, everywhere=True)]
PAGE: Final = 100
EXPORT_LIMIT: Final = 1000
KIND: Final = "audit"
TERMS: Final = ("actor", "action", "target", "message", "destination", "since", "until")
CSV_BY_BSN: Final = Said(
    "a search of the audit trail by BSN is not exported: search without the BSN to export "
    "its entries",
    "console.audit_csv_by_bsn",
)

Term = Annotated[str, Query(max_length=256)]
FormTerm = Annotated[str, Form(max_length=256)]


async def _everywhere(permission: Permission, visitor: Visitor) -> Visitor:
    if not visitor.may(permission):  # the trail lies in no cluster: all of them, as the API
        raise Forbidden()
    return visitor


async def _auditor(visitor: Annotated[Visitor, Depends(needs(P.AUDIT_READ))]) -> Visitor:
    return await _everywhere(P.AUDIT_READ, visitor)


async def _exporter(visitor: Annotated[Visitor, Depends(needs(P.REPORTS_EXPORT))]) -> Visitor:
    return await _everywhere(P.REPORTS_EXPORT, visitor)


Auditor = Annotated[Visitor, Depends(_auditor)]
Exporter = Annotated[Visitor, Depends(_exporter)]


def _query_terms(
    actor: Term = "",
    action: Term = "",
    target: Term = "",
    message: Term = "",
    destination: Term = "",
    since: Term = "",
    until: Term = "",
) -> dict[str, str]:
    """The search terms in the address, as typed (empty: not given)."""
    return dict(
        zip(TERMS, (actor, action, target, message, destination, since, until), strict=True)
    )


def _form_terms(
    actor: FormTerm = "",
    action: FormTerm = "",
    target: FormTerm = "",
    message: FormTerm = "",
    destination: FormTerm = "",
    since: FormTerm = "",
    until: FormTerm = "",
) -> dict[str, str]:
    """The same terms posted beside a BSN, which only ever travels in a form."""
    return _query_terms(actor, action, target, message, destination, since, until)


QueryTerms = Annotated[dict[str, str], Depends(_query_terms)]
FormTerms = Annotated[dict[str, str], Depends(_form_terms)]


async def _listing(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    found: AuditPage,
    *,
    offset: int,
    handle: str = "",
    by_bsn: bool = False,
) -> Response:
    """A page of entries; a kept search is paged by its handle, and exported by it unless it
    is by BSN (the export is not: ``audit_csv_export``)."""
    engine = engine_of(request)
    zone = engine.settings.zone
    query = {name: value for name, value in terms.items() if value}
    # What a person did with an API token is recorded under the token's name: offered too.
    actor = terms.get("actor", "").strip()
    person_tokens = (
        await engine.access.token_actors_of(visitor.signed_in, actor)
        if actor.lower().startswith("person:")
        else []
    )
    paged = {kept.FIELD: handle} if handle else query
    csv = None if by_bsn else "/audit.csv?" + urlencode(paged)
    return page(
        request,
        visitor,
        "audit.html",
        terms=terms,
        problems={},
        entries=[{**audit_view(e, zone), "origin": audit_origin(e)} for e in found.entries],
        # Its people, destinations and messages, linked where this reader may open them.
        links=await audit_links(engine, visitor, found.entries),
        handle=handle,
        by_bsn=by_bsn,
        offset=offset,
        more="/audit?" + urlencode({**paged, "offset": offset + PAGE}) if found.more else None,
        # Of how many ("N of M", as the message search): counted only when the page is cut.
        total=await audit_total(
            engine.store,
            found.filter,
            offset=offset,
            shown=len(found.entries),
            more=found.more,
        ),
        csv=csv,
        person_tokens=person_tokens,
    )


async def _refused(
    request: Request, visitor: Visitor, terms: dict[str, str], exc: BadSearch, bsn: str = ""
) -> Response:
    """The form again with the refusal beside its field, and every other term refused on its
    own beside its own (``_others_refused``); a term that holds a BSN is not shown back."""
    withheld = [bsn, *terms.values()]
    problems = {exc.field: said(exc, withheld=withheld, field=False)}
    for name, refusal in (await _others_refused(request, visitor, terms, bsn)).items():
        problems.setdefault(name, said(refusal, withheld=withheld, field=False))
    return page(
        request,
        visitor,
        "audit.html",
        status=422,
        terms=without_bsn(terms),
        problems=problems,
        entries=[],
        handle="",
        by_bsn=False,
        offset=0,
        more=None,
        total=None,
        csv=None,
    )


async def _others_refused(
    request: Request, visitor: Visitor, terms: dict[str, str], bsn: str
) -> dict[str, BadSearch]:
    """Each term (and the BSN) the trail's rules refuse on its own, by the service's own check
    (``checked_audit_filter``, as the search makes it): said together with the refusal the
    search met, so a person mends every term in one go rather than one per submit. Alone, a
    rule between two terms (a period that ends before it starts) comes once each is right."""
    engine = engine_of(request)
    scope = visitor.scope(P.AUDIT_READ)
    found: dict[str, BadSearch] = {}
    for name, value in [*_given(terms).items(), ("bsn", bsn.strip() or None)]:
        if value is None:
            continue
        try:
            await checked_audit_filter(engine, scope, **{name: value})
        except BadSearch as exc:
            found[exc.field] = exc
    return found


def _given(terms: dict[str, str]) -> dict[str, str | None]:
    return {name: value.strip() or None for name, value in terms.items()}


@router.get("/audit")
async def audit(
    request: Request,
    visitor: Auditor,
    terms: QueryTerms,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,  # as the API's: a 422, never a 500
    search: kept.Handle = "",
) -> Response:
    """Entries by terms in the address; or a page of a kept search: by BSN, which records
    nothing more (it was recorded when it was made), or of its terms again."""
    engine = engine_of(request)
    scope = visitor.scope(P.AUDIT_READ)
    handle = ""
    if search:
        made = await kept.kept_search(request, visitor, KIND, search, again="/audit")
        shown = {name: made.terms.get(name, "") for name in TERMS}
        if made.bsn_hash is not None:
            try:
                found = await page_kept_audit(engine, scope, made, limit=PAGE, offset=offset)
            except BadSearch as exc:  # a destination the person no longer sees
                return await _refused(request, visitor, shown, exc)
            return await _listing(
                request, visitor, shown, found, offset=offset, handle=made.handle, by_bsn=True
            )
        terms, handle = shown, made.handle
    try:
        found = await find_audit(
            engine,
            scope,
            visitor.signed_in,
            _given(terms),
            bsn=None,
            limit=PAGE,
            offset=offset,
            source=source_of(request),
        )
    except BadSearch as exc:
        return await _refused(request, visitor, terms, exc)
    return await _listing(request, visitor, terms, found, offset=offset, handle=handle)


@router.post("/audit")
async def audit_by_patient(
    request: Request,
    visitor: Auditor,
    terms: FormTerms,
    bsn: Annotated[str, Form()] = "",  # unbounded: a refusal of FastAPI's would echo it
) -> Response:
    """Both search forms. With a patient's BSN, which only ever travels in this body: made
    and recorded once, kept, and shown by GET under its handle (Post/Redirect/Get). Without
    one: kept, once the trail's rules take each term (``checked_audit_filter``, as
    ``find_audit`` checks the GET's), and shown by GET under its handle; nothing is recorded.
    Never a redirect with a term in the address: the action, target and message id take any
    text, and what was typed there would stay in the browser's history and a proxy's log. A
    term refused (one that holds a BSN, a name typed into who or a period) is the form again,
    the refusal beside it."""
    engine = engine_of(request)
    wanted = bsn.strip()
    kept_terms = {name: value.strip() for name, value in terms.items() if value.strip()}
    if not wanted:
        try:
            await checked_audit_filter(engine, visitor.scope(P.AUDIT_READ), **_given(terms))
        except BadSearch as exc:
            return await _refused(request, visitor, terms, exc)
        return await kept.keep_and_show(request, visitor, KIND, "/audit", kept_terms, None)
    # Its pages show the trail as this search finds it, not its own entry after it.
    kept_terms[AS_MADE] = str(await trail_end(engine.store))
    try:
        found = await find_audit(
            engine,
            visitor.scope(P.AUDIT_READ),
            visitor.signed_in,
            _given(terms),
            bsn=wanted,
            limit=PAGE,
            source=source_of(request),
        )
    except BadSearch as exc:
        return await _refused(request, visitor, terms, exc, bsn)
    assert found.filter.bsn_hash is not None
    return await kept.keep_and_show(
        request, visitor, KIND, "/audit", kept_terms, found.filter.bsn_hash
    )


@router.get("/audit.csv")
async def audit_csv_export(
    request: Request,
    visitor: Exporter,
    typed: QueryTerms,
    search: kept.Handle = "",
) -> Response:
    """The shown entries as CSV: a kept search named by its handle, or the terms in the
    address. A search by BSN is not exported (``audit.export_audit`` records no BSN)."""
    engine = engine_of(request)
    if search:
        made = await kept.kept_search(request, visitor, KIND, search, again="/audit")
        if made.bsn_hash is not None:
            raise BadInput(CSV_BY_BSN)
        typed = {name: made.terms.get(name, "") for name in TERMS}
    terms: dict[str, str | None] = {name: value or None for name, value in typed.items()}
    try:
        flt = await checked_audit_filter(engine, visitor.scope(P.REPORTS_EXPORT), **terms)
    except BadSearch as exc:
        raise BadInput(said(exc, withheld=terms.values())) from None
    if head_only(request):  # checked as the GET is; nothing exported, nothing audited
        return csv_head("audit.csv")
    page = await export_audit(
        engine.store,
        flt,
        actor=visitor.actor,
        terms=terms,
        limit=EXPORT_LIMIT,
        zone=engine.settings.zone,
        source=source_of(request),
    )
    text = page.text
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit.csv"'},
    )


# -- the access-log review (NEN 7513) ------------------------------------------------------

SUMMARY_TERMS: Final = ("since", "until", "action")


def _summary_query(since: Term = "", until: Term = "", action: Term = "") -> dict[str, str]:
    """A summary's terms in the address: the period as the service read it (the form's
    redirect) or as a person typed it there; empty, none given."""
    return dict(zip(SUMMARY_TERMS, (since, until, action), strict=True))


def _summary_form(
    since: FormTerm = "", until: FormTerm = "", action: FormTerm = ""
) -> dict[str, str]:
    return _summary_query(since, until, action)


SummaryQuery = Annotated[dict[str, str], Depends(_summary_query)]
SummaryForm = Annotated[dict[str, str], Depends(_summary_form)]


def _read_summary_terms(request: Request, terms: dict[str, str]) -> SummaryTerms:
    """The service's reading of the terms (``BadSearch`` naming a refused one), now being
    the engine's clock's, as every period of the console reads it."""
    engine = engine_of(request)
    given = _given({name: terms.get(name, "") for name in SUMMARY_TERMS})
    return summary_terms(engine.settings, now=engine.clock.now(), **given)


@router.get("/audit/summary")
async def audit_summary(request: Request, visitor: Auditor, terms: SummaryQuery) -> Response:
    """The form; with terms, the summary they ask for, made (and recorded, as the service
    records each summary: ``audit.summary``) each time it is shown. Without any, nothing is
    counted and nothing recorded, as the trail's plain listing records nothing: opening the
    page is no review of who looked at patient data."""
    if not any(value.strip() for value in terms.values()):
        return _summary_page(request, visitor, terms)
    try:
        asked = _read_summary_terms(request, terms)
    except BadSearch as exc:
        return _summary_refused(request, visitor, terms, exc)
    summary = await summarise_audit(
        engine_of(request).store, visitor.signed_in, asked, source=source_of(request)
    )
    return _summary_page(request, visitor, terms, summary=summary)


@router.post("/audit/summary")
async def audit_summary_asked(request: Request, visitor: Auditor, terms: SummaryForm) -> Response:
    """The form's terms, read by the service: refused, the form again with each refusal
    beside its field; taken, a redirect (303) to the summary's GET with the period as read
    (never as typed: a birth date typed as *from* is then a moment, not the text) and the
    action checked. An empty form is the last ``SUMMARY_DAYS`` days up to now."""
    try:
        asked = _read_summary_terms(request, terms)
    except BadSearch as exc:
        return _summary_refused(request, visitor, terms, exc)
    query = _summary_address(request, asked)
    return RedirectResponse("/audit/summary?" + urlencode(query), status_code=303)


def _summary_address(request: Request, asked: SummaryTerms) -> dict[str, str]:
    """The terms that make ``asked`` again: its period to the microsecond, and its action
    when one was asked for instead of the views and exports."""
    zone = engine_of(request).settings.zone
    query = kept.period_moments(zone, asked.since, asked.until)
    if asked.actions != SUMMARY_ACTIONS:
        [query["action"]] = asked.actions
    return query


def _summary_refused(
    request: Request, visitor: Visitor, terms: dict[str, str], exc: BadSearch
) -> Response:
    """The form again, every term the service refuses said beside its own field at once: the
    refusal met, and each term checked alone by the same reading (a rule between the two
    bounds, a period that ends before it starts, comes once each bound is right). A term that
    holds a BSN is not shown back; no refusal repeats what was typed."""
    withheld = list(terms.values())
    problems = {exc.field: said(exc, withheld=withheld, field=False)}
    for name, value in _given(terms).items():
        if value is None:
            continue
        try:
            _read_summary_terms(request, {name: value})
        except BadPeriod:
            continue
        except BadSearch as alone:
            problems.setdefault(alone.field, said(alone, withheld=withheld, field=False))
    return _summary_page(request, visitor, without_bsn(terms), problems=problems, status=422)


def _summary_page(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    *,
    summary: AuditSummary | None = None,
    problems: dict[str, Said] | None = None,
    status: int = 200,
) -> Response:
    """The form, and the summary when one was made: each actor's figures as the service gave
    them, with the ways into the trail that show what they count."""
    rows = []
    if summary is not None:
        settings = engine_of(request).settings
        rows = [
            {
                "actor": actor,
                "trail": _trail(settings, summary, actor.actor, summary.terms.actions),
                "views_trail": _trail(settings, summary, actor.actor, VIEWS)
                if actor.views
                else None,
            }
            for actor in summary.actors
        ]
    return page(
        request,
        visitor,
        "audit_summary.html",
        status=status,
        terms=terms,
        problems=problems or {},
        summary=summary,
        rows=rows,
        actions=ACTIONS,
        summary_actions=SUMMARY_ACTIONS,
        days=SUMMARY_DAYS,
    )


def _trail(
    settings: Settings, summary: AuditSummary, actor: str | None, actions: tuple[str, ...]
) -> str | None:
    """The audit trail of ``actor`` in the summary's period (and of its action, when it
    counts one), where the officer reads what the figures count; None when the trail would
    refuse the actor as a term (a link never leads to a refusal)."""
    if actor is None:
        return None
    terms = {
        "actor": actor,
        **kept.period_moments(settings.zone, summary.terms.since, summary.terms.until),
    }
    if len(actions) == 1:
        [terms["action"]] = actions
    try:
        build_audit_filter(settings, **terms)
    except BadSearch:
        return None
    return "/audit?" + urlencode(terms)
