"""``/api/v1/events``: upstream systems submit events; support finds them and routes the
unrouted ones (``integrator.events_routing``), as ``integrator events`` does.

An event lies in the clusters of the destinations it has messages for: listings and searches
hold those of the caller's clusters, one event outside them is a 404. Reading one in full, or
searching by BSN, is audited (``patient_data.view``) by ``integrator.event_reads``, as for
``integrator events list|show``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.event_reads import (
    AmbiguousEventId,
    EventNotFound,
    find_events,
    locate_event,
    page_start,
    read_event,
)
from integrator.events_routing import (
    MAX_BATCH,
    EventsRefused,
    RouteRequest,
    build_event_filter,
    listed_event_view,
    never_routed_filter,
    route_in_engine,
    route_report,
    select_events,
)
from integrator.exports import export_events
from integrator.http.answers import EVENT_LISTED, listing
from integrator.http.auth import IdentityDep
from integrator.http.bodies import AuditReason, Flag, PageAfter, PageLimit, PageOffset
from integrator.http.csv_export import csv_page, csv_responses
from integrator.http.deps import (
    After,
    EngineDep,
    JobsDep,
    Limit,
    Offset,
    SourceDep,
)
from integrator.http.idempotency import KEY_ANSWERS, IdempotencyKey, answered_once
from integrator.http.json_body import JsonBodyRoute
from integrator.http.message_ids import ambiguous, too_short
from integrator.http.openapi import EVENT_BODY, EVENT_RESPONSES, ROUTE_PLAN, STARTED_JOB, answer
from integrator.http.paging import next_page, paged_responses
from integrator.http.periods import since_field, since_query, until_field, until_query
from integrator.http.scope import Scope, ScopeDep
from integrator.idempotency import Answer
from integrator.ids import stored_id
from integrator.jobs import Job
from integrator.message_service import still_permitted_in, whole_or_stopped
from integrator.search import BadSearch, misplaced_bsn
from integrator.store.idprefix import MIN_PREFIX, BadIdPrefix, could_start_id
from integrator.store.jobs import ROUTE_JOB
from integrator.store.records import EventFilter
from schemas.refused import REJECTED_ID_HEADER

router = APIRouter(prefix="/api/v1", tags=["events"], route_class=JsonBodyRoute)


class EventSearchBody(BaseModel):
    """Event search terms; the only way to search events by BSN (a body, never the URL)."""

    model_config = ConfigDict(extra="forbid")

    bsn: str | None = Field(None, repr=False)  # never in a repr, so never in a traceback
    zd_number: str | None = None
    provider: str | None = None
    event_type: str | None = None
    since: str | None = since_field("Arrived", max_length=None)
    until: str | None = until_field("Arrived", max_length=None)
    unrouted: Flag = False
    never_routed: Flag = Field(
        False,
        description="only events pruned before any message was made of them: the referrals "
        "no destination got, which only upstream can send again",
    )
    caller: str | None = Field(
        None, description="who sent them: `token:NAME`, `local:USER`, `amqp` or `demo`"
    )
    limit: PageLimit = 100
    offset: PageOffset = 0
    after: PageAfter = None


class RouteBody(BaseModel):
    """Which events to route: ``event_ids``, or a ``provider``'s unrouted events in a period."""

    model_config = ConfigDict(extra="forbid")

    # Required, as in the resend bodies: left out, a 422 in the validation shape naming it
    # (and the document says so); blank is refused by the service, naming the rule.
    reason: AuditReason
    event_ids: list[str] = Field(default_factory=list, max_length=MAX_BATCH)
    provider: str | None = None
    since: str | None = since_field("Arrived", max_length=None)
    until: str | None = until_field("Arrived", max_length=None)
    dry_run: Flag = False


@router.post("/events", status_code=202, openapi_extra=EVENT_BODY, responses=EVENT_RESPONSES)
async def post_event(request: Request, engine: EngineDep, identity: IdentityDep) -> JSONResponse:
    """One referral or diagnostic request as UTF-8 JSON (docs/product.md §2).

    A body declared in another charset (`Content-Type: application/json; charset=iso-8859-1`)
    is refused with 415 (rule `charset`) and kept as rejected input, as one not sent as JSON.

    **Retries.** The event's `event_id` is its idempotency key: after a timeout, a lost
    connection or a 503, send the same event again with the same `event_id`. If the first
    was taken, the answer is 202 with `duplicate: true` and that event's messages, and nothing
    is sent twice; a copy whose content differs is not taken either (its `warnings` name the
    fields, and the answer says `changed: true` with the copy's `rejected_id`): a cancel is an
    event of its own, with an `event_id` of its own. A new `event_id` is a new event, sent
    again to the hospital. Requests have no order among them: send a cancel only after its
    `new` was answered with a 2xx (docs/product.md §2 says what to do on `new_after_cancel`
    or `cancel_without_new`). An
    `Idempotency-Key` header (the resends and routings take one) is refused here with 422
    naming it, before the body is read and with nothing kept: generate the `event_id` once
    per event, not once per attempt, and send the event without the header.

    **Refusals** (422, `EventRefused`) name every broken rule at once, each with its field's
    `path` and `rule`, never the value sent; the input is kept as rejected input under
    `rejected_id`. Correct the event and send it again; its `event_id` was not taken. Every
    refusal that keeps the input (this 422, a 413, a 415, a 422 for a query parameter) names
    the id in `X-Integrator-Rejected-Id`, and beside its `detail` as `rejected_id`; without
    it nothing was kept.
    """
    # The docstring above is the operation's description in the OpenAPI document.
    raw = await request.body()
    try:
        # A refused event is kept with who sent it: the token as authenticated, as the audit
        # log names it; nothing in the body or a header can say otherwise.
        result = await engine.intake.submit(raw, source="http", caller=identity.display)
    except InvalidEvent as exc:
        return JSONResponse(
            {
                "detail": "event refused",
                "errors": exc.to_json(),
                "rejected_id": exc.rejected_id,
            },
            status_code=422,
            headers={} if exc.rejected_id is None else {REJECTED_ID_HEADER: exc.rejected_id},
        )
    return JSONResponse(result.to_json(), status_code=202)


async def _query_terms(
    zd_number: str | None = None,
    provider: str | None = None,
    event_type: str | None = None,
    since: Annotated[str | None, since_query("Arrived", max_length=None)] = None,
    until: Annotated[str | None, until_query("Arrived", max_length=None)] = None,
    unrouted: bool = False,
    caller: Annotated[
        str | None,
        Query(description="who sent them: `token:NAME`, `local:USER`, `amqp` or `demo`"),
    ] = None,
    bsn: str | None = Query(None, include_in_schema=False),
    never_routed: Annotated[
        bool,
        Query(description="only events pruned before any message was made of them"),
    ] = False,
) -> EventSearchBody:
    """An event search's terms in the query; a BSN there is refused rather than ignored, so a
    caller who sent it learns it is in their logs. So is a ``provider`` that holds one
    (``search.misplaced_bsn``, as the console's pages refuse it): upstream may write a BSN in
    an event's ``provider.id``, and a URL is no place for it. The refusal names the term and
    the rule, never the value."""
    if bsn is not None:
        raise HTTPException(
            status_code=422,
            detail="bsn: never in a URL; search by BSN with POST /api/v1/events/search",
        )
    if (pasted := misplaced_bsn({"provider": provider, "caller": caller})) is not None:
        raise HTTPException(status_code=422, detail=str(pasted))
    return EventSearchBody(
        zd_number=zd_number,
        provider=provider,
        event_type=event_type,
        since=since,
        until=until,
        unrouted=unrouted,
        caller=caller,
        never_routed=never_routed,
    )


QueryTerms = Annotated[EventSearchBody, Depends(_query_terms)]


@router.get(
    "/events",
    response_model=None,
    responses=listing(EVENT_LISTED, "The events, newest first", paged_responses("events")),
)
async def list_events(
    engine: EngineDep,
    scope: ScopeDep,
    terms: QueryTerms,
    request: Request,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    after: After = None,
) -> list[dict[str, Any]]:
    """Events, newest first (by ``received_at``, then id), with how many messages each has;
    ``unrouted`` for those none. A full page links the next (``Link: rel="next"``, with
    ``after``)."""
    body = terms.model_copy(update={"limit": limit, "offset": offset, "after": after})
    found = await _search(engine, scope, body, source=None)  # no BSN here: no view to record
    next_page(request, response, [event["id"] for event in found], limit)
    return found


@router.get(
    "/events.csv",
    response_class=Response,
    responses=csv_responses("events", total=True),
)
async def export_events_csv(
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    terms: QueryTerms,
    request: Request,
    limit: Limit = 1000,
    offset: Offset = 0,
    after: After = None,
) -> Response:
    """The events ``GET /api/v1/events`` finds, as CSV for reports (identifiers, times and
    message counts; no patient data); the export is audited (``events.export``) first. Paged
    as the listing: a full page links the next (``Link: rel="next"``, with ``after``).
    ``X-Total-Count`` says how many match in all, beyond ``limit``. ``HEAD`` exports nothing
    and audits nothing."""
    given = terms.model_dump(exclude={"bsn", "limit", "offset", "after"})
    given["unrouted"] = terms.unrouted or None
    given["never_routed"] = terms.never_routed or None
    flt = _filter(engine, scope, terms)
    try:
        start = await page_start(engine.store, flt, offset=offset, after=after)
    except BadSearch as exc:  # ``after``: names no event in sight, or comes with an offset
        raise HTTPException(status_code=422, detail=str(exc)) from None
    exported = await csv_page(
        request,
        "events.csv",
        limit,
        lambda: export_events(
            engine.store,
            flt,
            actor=scope.actor,
            terms=given,
            limit=limit,
            zone=engine.settings.zone,
            source=source,
            offset=offset,
            after=start,
        ),
    )
    exported.headers["X-Total-Count"] = str(await engine.store.count_events(flt))
    return exported


@router.post(
    "/events/search",
    response_model=None,
    responses=listing(EVENT_LISTED, "The events, newest first"),
)
async def search_events(
    body: EventSearchBody, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> list[dict[str, Any]]:
    """Like ``GET /api/v1/events``, and by patient BSN, which never goes in a URL. A
    ``provider`` that holds a BSN is refused as in the query (``search.misplaced_bsn``): it
    belongs in ``bsn``, where it is hashed and its search audited as a view of patient data."""
    if (pasted := misplaced_bsn({"provider": body.provider, "caller": body.caller})) is not None:
        raise HTTPException(status_code=422, detail=str(pasted))
    return await _search(engine, scope, body, source=source)


@router.post(
    "/events/route",
    status_code=202,
    responses={
        200: answer(
            "`dry_run`: what routing would do, answered at once; nothing is routed", ROUTE_PLAN
        ),
        202: answer(
            "The job that routes them, with `actor` (who it routes as); follow it at "
            "`/api/v1/jobs/{job_id}`",
            STARTED_JOB,
        ),
        **KEY_ANSWERS,
    },
)
async def route_events(
    body: RouteBody,
    engine: EngineDep,
    scope: ScopeDep,
    registry: JobsDep,
    source: SourceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Route events to the destinations that serve them now; audited under the caller.

    Needs ``events.route`` for all clusters: an event goes to every destination that serves
    its provider, whatever their cluster. A dry run answers 200 with what would happen;
    otherwise a job answers 202, followed at ``/api/v1/jobs/{id}``. Each event's messages are
    durable in the store when its chunk is. With an ``Idempotency-Key``, a repeat answers the
    first request's job (or dry run) and starts none.
    """
    return await answered_once(
        engine,
        scope.identity,
        idempotency_key,
        response,
        route="POST /api/v1/events/route",
        body=body.model_dump(mode="json"),
        work=lambda: _route_events(body, engine, scope, registry, source),
    )


async def _route_events(
    body: RouteBody, engine: EngineDep, scope: Scope, registry: JobsDep, source: str | None
) -> Answer:
    route = RouteRequest(
        reason=body.reason,
        actor=scope.actor,
        event_ids=tuple(body.event_ids),
        provider=body.provider,
        since=body.since,
        until=body.until,
        dry_run=body.dry_run,
        source=source,
    )
    try:
        route = route.checked(engine.settings)
        selected = await select_events(engine.store, engine.settings, route, catalog=engine.catalog)
    except EventsRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if route.dry_run:
        results = await route_in_engine(engine, selected, route)
        report = route_report([r.to_json() for r in results], route, via="engine")
        return Answer(200, report)

    # Asked between chunks: a token revoked meanwhile stops the job, not its last event.
    allowed = still_permitted_in(engine, scope, {None})  # routing needs all clusters

    async def run(job: Job) -> list[dict[str, Any]]:
        def progress(done: int, _total: int) -> None:
            job.done = done

        # The job id groups this run's audit entries, so an entry leads back to its job.
        as_job = dataclasses.replace(route, route_id=job.id)
        results = await route_in_engine(
            engine, selected, as_job, progress=progress, allowed=allowed
        )
        answered = [r.to_json() for r in results]
        return whole_or_stopped("route", answered, done=len(results), total=len(selected))

    job = await registry.start(ROUTE_JOB, len(selected), run)
    # Who the job routes as: the CLI reports it (the audit log's name, not the local user).
    return Answer(202, {**job.to_json(), "actor": scope.actor})


NO_EVENT = "no event with that id"
EVENT_TOO_SHORT = too_short(NO_EVENT)
EVENT_AMBIGUOUS = ambiguous("event")


async def _event_named(event_id: str, engine: Engine, visible: frozenset[str] | None) -> str:
    """The whole id ``event_id`` names: in either case, with or without dashes, or its start as
    listings and the CLI show it (``event_reads.locate_event``, among the events the caller
    may see), as ``/messages/{id}`` takes a message's (``http.message_ids``); 404 otherwise,
    never repeating what was sent."""
    whole = stored_id(event_id)
    if whole is not None:
        return whole
    if not could_start_id(event_id):
        raise HTTPException(status_code=404, detail=NO_EVENT)
    try:
        return await locate_event(engine.store, event_id, destination_ids=visible)
    except EventNotFound:
        raise HTTPException(status_code=404, detail=NO_EVENT) from None
    except BadIdPrefix:
        raise HTTPException(status_code=404, detail=EVENT_TOO_SHORT) from None
    except AmbiguousEventId:
        raise HTTPException(status_code=404, detail=EVENT_AMBIGUOUS) from None


@router.get("/events/{event_id}")
async def get_event(
    event_id: Annotated[
        str,
        Path(
            description="the event's id (a UUID, in either case, with or without its dashes), "
            f"or its start as listings show it: at least {MIN_PREFIX} hex digits that only one "
            "event you may see has"
        ),
    ],
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
) -> dict[str, Any]:
    """One event with its messages, routings, ZD warnings and the destinations of the caller's
    clusters that serve its provider now; it holds patient data (name, BSN), so reading it is
    audited."""
    visible = scope.destination_ids(engine.catalog)
    detail = await read_event(
        engine.store,
        scope.identity,
        await _event_named(event_id, engine, visible),
        destination_ids=visible,
        source=source,
        catalog=engine.catalog,
    )
    if detail is None:
        raise HTTPException(status_code=404, detail=NO_EVENT)
    return detail


def _filter(engine: Engine, scope: Scope, body: EventSearchBody) -> EventFilter:
    """The store filter of ``body``'s terms, narrowed to the caller's clusters; 422 naming the
    term and the rule for one that cannot be used."""
    try:
        flt: EventFilter = build_event_filter(
            engine.settings,
            zd_number=body.zd_number,
            bsn=body.bsn,
            provider=body.provider,
            event_type=body.event_type,
            since=body.since,
            until=body.until,
            unrouted=body.unrouted,
            caller=body.caller,
        )
        if body.never_routed:
            flt = never_routed_filter(flt)
    except EventsRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    visible = scope.destination_ids(engine.catalog)
    if body.never_routed and visible is not None:  # no message: in no cluster, as below
        raise HTTPException(
            status_code=403,
            detail=f"never_routed: such events lie in no cluster; listing them needs the "
            f"{scope.permission.value} permission for all clusters",
        )
    if body.unrouted and visible is not None:
        # An unrouted event lies in no cluster: narrowed to some clusters, the answer would
        # always be empty, read as "none waiting" while hundreds may (the console's page
        # refuses alike).
        raise HTTPException(
            status_code=403,
            detail=f"unrouted: unrouted events lie in no cluster; listing them needs the "
            f"{scope.permission.value} permission for all clusters",
        )
    return dataclasses.replace(flt, destination_ids=visible)


async def _search(
    engine: Engine, scope: Scope, body: EventSearchBody, *, source: str | None
) -> list[dict[str, Any]]:
    flt = _filter(engine, scope, body)
    try:
        found = await find_events(
            engine.store,
            scope.identity,
            flt,
            limit=body.limit,
            offset=body.offset,
            after=body.after,
            source=source,
        )
    except BadSearch as exc:  # ``after``: names no event in sight, or comes with an offset
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return [listed_event_view(e) for e in found]
