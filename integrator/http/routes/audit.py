"""``/api/v1/audit``: the audit trail, filtered, as JSON or CSV; searched by a patient's BSN.

The audit trail spans every cluster, so these routes need their permission for all clusters.
A BSN is only ever taken in a body (``POST /api/v1/audit/search``), never in a URL, and is
hashed with the search key at once; such a search is itself audited (``patient_data.view``),
as every search by BSN is, and so is every CSV export (``audit.export``). A destination term
that names nothing is a 422 (``audit.check_audit_destination``), as in a message search.

Each entry carries ``origin`` (``audit.audit_entry_view``): where it came from, by the rule the
console's audit page shows it by, so a client need not read ``details.source`` and the actor's
kind itself. The CSV has it as two columns after the others, and then ``prev_hash``: with it
each entry's ``hash`` can be recomputed from the answer alone (docs/access.md).
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from integrator.audit import audit_entry_view, checked_audit_filter, export_audit
from integrator.audit_reads import checked_after, find_audit, summarise_audit, summary_terms
from integrator.engine import Engine
from integrator.http.answers import AUDIT_ENTRY
from integrator.http.bodies import PageAfterEntry, PageLimit, PageOffset
from integrator.http.csv_export import csv_page, csv_responses
from integrator.http.deps import AfterEntry, EngineDep, Limit, Offset, SourceDep
from integrator.http.errors import without_values
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import REF_ROOT
from integrator.http.paging import next_page, paged_responses
from integrator.http.periods import since_field, since_query, until_field, until_query
from integrator.http.scope import Scope, ScopeDep
from integrator.paging import one_way
from integrator.search import BadSearch, sent_values
from integrator.store import AuditFilter

router = APIRouter(prefix="/api/v1", tags=["audit"], route_class=JsonBodyRoute)

Text = Annotated[str | None, Query(max_length=256)]
Since = Annotated[str | None, since_query("Recorded")]
Until = Annotated[str | None, until_query("Recorded")]


def _entries(
    description: str, also: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A 200 of audit entries, each an ``AuditEntry`` (``answers``): typed for a client; with
    what ``also`` says of the 200 (``paging.paged_responses``: its ``Link`` header)."""
    schema = {"type": "array", "items": {"$ref": REF_ROOT + AUDIT_ENTRY}}
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {200: {**answer, **(also or {}).get(200, {})}}


class AuditSearchBody(BaseModel):
    """Audit search terms; the only way to find a patient's entries by BSN (a body, never the
    URL): their data viewed, and what was done to their events and messages."""

    model_config = ConfigDict(extra="forbid")

    bsn: str | None = Field(None, repr=False)  # never in a repr, so never in a traceback
    actor: str | None = Field(None, max_length=256)
    action: str | None = Field(None, max_length=256)
    target: str | None = Field(None, max_length=256)
    message: str | None = Field(None, max_length=256)
    destination: str | None = Field(None, max_length=256)
    since: str | None = since_field("Recorded")
    until: str | None = until_field("Recorded")
    limit: PageLimit = 100
    offset: PageOffset = 0
    after: PageAfterEntry = None


async def _filter(engine: Engine, scope: Scope, **terms: str | None) -> AuditFilter:
    """The store filter; a bad term, or a destination that names nothing the caller may see,
    is a 422 naming it, without its value."""
    try:
        return await checked_audit_filter(engine, scope, **terms)
    except BadSearch as exc:
        raise HTTPException(
            status_code=422, detail=without_values(str(exc), sent_values(exc, terms.values()))
        ) from None


@router.get(
    "/audit",
    response_model=None,
    responses=_entries("The entries, newest first", paged_responses("entries")),
)
async def audit(
    engine: EngineDep,
    scope: ScopeDep,
    request: Request,
    response: Response,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    message: Text = None,
    destination: Text = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    offset: Offset = 0,
    after: AfterEntry = None,
) -> list[dict[str, Any]]:
    """Audit entries, newest first (by entry id, the order they were written); filters
    combine (AND). A full page links the next (``Link: rel="next"``, with ``after``: the
    trail spans every cluster, so any entry's id may start a page)."""
    try:
        one_way(offset=offset, after=after)
        await checked_after(engine.store, after)
    except BadSearch as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    flt = await _filter(
        engine,
        scope,
        actor=actor,
        action=action,
        target=target,
        message=message,
        destination=destination,
        since=since,
        until=until,
    )
    entries = await engine.store.list_audit(flt, limit=limit, offset=offset, before_id=after)
    next_page(request, response, [entry.id for entry in entries], limit)
    return [audit_entry_view(a) for a in entries]


@router.get(
    "/audit.csv",
    response_class=Response,
    responses=csv_responses("entries", total=True),
)
async def audit_csv_export(
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    request: Request,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    message: Text = None,
    destination: Text = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 1000,
    offset: Offset = 0,
    after: AfterEntry = None,
) -> Response:
    """The same entries as ``GET /api/v1/audit``, as CSV for reports; the export is audited
    (``audit.export``, with its terms, where it started and how many entries it held). Paged
    as the listing: a full page links the next (``Link: rel="next"``, with ``after``).
    ``X-Total-Count`` says how many match in all, beyond ``limit``. ``HEAD`` exports nothing
    and audits nothing."""
    try:
        one_way(offset=offset, after=after)
        await checked_after(engine.store, after)
    except BadSearch as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    terms = {
        "actor": actor,
        "action": action,
        "target": target,
        "message": message,
        "destination": destination,
        "since": since,
        "until": until,
    }
    flt = await _filter(engine, scope, **terms)
    # How many match in all, counted before this export's own entry is written: a file of
    # ``limit`` rows said nothing of being cut, where the messages' and events' exports do.
    total = await engine.store.count_audit(flt)
    exported = await csv_page(
        request,
        "audit.csv",
        limit,
        lambda: export_audit(
            engine.store,
            flt,
            actor=scope.actor,
            terms=terms,
            limit=limit,
            zone=engine.settings.zone,
            offset=offset,
            source=source,
            after=after,
        ),
    )
    exported.headers["X-Total-Count"] = str(total)
    return exported


@router.post("/audit/search", response_model=None, responses=_entries("The entries, newest first"))
async def search_audit(
    body: AuditSearchBody, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> list[dict[str, Any]]:
    """Audit entries by terms in the body, the patient's BSN among them; a search by BSN is
    recorded as a view of patient data (``audit_reads.find_audit``, as the console's)."""
    terms = body.model_dump(exclude={"limit", "offset", "after", "bsn"})
    try:
        page = await find_audit(
            engine,
            scope,
            scope.identity,
            terms,
            bsn=body.bsn,
            limit=body.limit,
            offset=body.offset,
            after=body.after,
            source=source,
        )
    except BadSearch as exc:
        sent = [*terms.values(), body.bsn]
        raise HTTPException(
            status_code=422, detail=without_values(str(exc), sent_values(exc, sent))
        ) from None
    return [audit_entry_view(a) for a in page.entries]


class AuditSummaryActor(BaseModel):
    """One actor's part of a summary, or (``actor`` null) everyone's."""

    actor: str | None = Field(
        description="As recorded: person:<email>, token:<name>, local:<user>; null in the total"
    )
    views: int = Field(description="Views of patient data (patient_data.view)")
    exports: int = Field(
        description="Exports counted (messages.export, events.export; audit.export when asked "
        "for): exports_by_bsn and exports_without_bsn together"
    )
    exports_by_bsn: int = Field(
        description="Of the exports, those made by BSN (a search by patient): they hold that "
        "patient's data"
    )
    exports_without_bsn: int = Field(
        description="Of the exports, the listings made without a BSN: identifiers only, no "
        "patient data"
    )
    entries: int = Field(description="Every entry counted: views, exports and any other action")
    patients: int = Field(
        description="Distinct patients named, by the keyed hash of their BSN (never the BSN); "
        "in the total counted across everyone, not summed"
    )
    first: str | None = Field(description="The first entry's time; null when there is none")
    last: str | None = Field(description="The last entry's time; null when there is none")
    without_reason: int = Field(
        description="Of the entries counted, those that say no why (no X-Integrator-Reason, "
        "console session reason or --reason was given)"
    )


class AuditSummaryTotal(AuditSummaryActor):
    """Everyone together, and how many actors that is."""

    actors: int = Field(description="How many actors the summary lists")


class AuditSummaryAnswer(BaseModel):
    """Who viewed patient data or exported listings in a period, one row an actor, most views
    first."""

    start: str = Field(description="The period's start (included: since), in UTC")
    end: str = Field(description="The period's end (not included: until), in UTC")
    actions: list[str] = Field(description="The actions counted")
    actors: list[AuditSummaryActor]
    total: AuditSummaryTotal


@router.get("/audit/summary", response_model=AuditSummaryAnswer)
async def audit_summary(
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    action: Text = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """The access-log review (NEN 7513): who viewed patient data or exported listings in a
    period, per actor (a person, a token, a user of the server's CLI): views, exports (those
    made by BSN, which hold patient data, and the listings without, apart), distinct patients
    (by the keyed hash of their BSN, never the BSN) and the first and last time, most views
    first, and a total. Counted in the store, however long the trail.

    Without ``until`` the period ends now; without ``since`` it is the 30 days before its
    end. ``action`` counts that one action instead of the views of patient data and the
    exports of messages and events. A bound in none of the forms, a period that ends before
    it starts or an action the engine does not record is a 422 naming the parameter and the
    rule. Each summary is itself recorded in the audit trail (``audit.summary``)."""
    try:
        terms = summary_terms(engine.settings, since=since, until=until, action=action)
    except BadSearch as exc:
        raise HTTPException(
            status_code=422,
            detail=without_values(str(exc), sent_values(exc, [action, since, until])),
        ) from None
    summary = await summarise_audit(engine.store, scope.identity, terms, source=source)
    return summary.to_json(UTC)  # the API's times are UTC, as every route's
