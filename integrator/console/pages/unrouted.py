"""Events that no destination serves, and routing them now.

The listing is ``GET /api/v1/events?unrouted=true`` (``messages.read``, narrowed by the
person's clusters; an unrouted event lies in no cluster, so only who reads messages everywhere
sees any). Routing is ``integrator.events_routing`` as ``POST /api/v1/events/route`` does it
(``events.route`` for all clusters, a required reason), run while the page waits. So that the
page never waits long, it routes at most ``ROUTED_HERE`` events at once; more (the service takes
up to ``MAX_BATCH``) is a job of the API or the CLI, which the refusal says.

``GET /events/unrouted.csv`` (``reports.export``) is the same list as CSV, up to
``EXPORT_LIMIT`` events, as ``integrator events list --unrouted --csv`` and
``GET /api/v1/events.csv?unrouted=true`` give it (``exports.export_events``, audited as
``events.export``). It holds identifiers only.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, Forbidden
from integrator.console.refusals import note, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.events_routing import (
    EventsRefused,
    RouteRequest,
    build_event_filter,
    listed_event_view,
    route_in_engine,
    select_events,
)
from integrator.exports import export_events
from integrator.http.csv_export import csv_attachment
from integrator.http.deps import source_of
from integrator.reasons import MAX_REASON

P = Permission
router = APIRouter()
LISTING: Final = NavItem("/events/unrouted", "nav.unrouted", P.MESSAGES_READ, everywhere=True)
"""The page's entry: shown to who holds ``messages.read`` for all clusters (an unrouted event
lies in none). The dashboard's count of unrouted events is shown to exactly the same people:
it asks this entry (``shown_to``), so the two cannot disagree."""
NAV: Final = [LISTING]
Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Router_ = Annotated[Visitor, Depends(needs(P.EVENTS_ROUTE))]
Exporter = Annotated[Visitor, Depends(needs(P.REPORTS_EXPORT))]
SHOWN: Final = 200
ROUTED_HERE: Final = 500
EXPORT_LIMIT: Final = 10_000


@router.get("/events/unrouted")
async def unrouted(request: Request, visitor: Reader) -> Response:
    engine = engine_of(request)
    scope = visitor.scope(P.MESSAGES_READ)
    flt = dataclasses.replace(
        build_event_filter(engine.settings, unrouted=True),
        destination_ids=scope.destination_ids(engine.catalog),
    )
    events = [listed_event_view(e) for e in await engine.store.list_events(flt, limit=SHOWN)]
    providers = sorted({e["provider_id"] for e in events})
    return page(
        request,
        visitor,
        "unrouted.html",
        events=events,
        providers=providers,
        shown=SHOWN,
        max_batch=ROUTED_HERE,
        export_limit=EXPORT_LIMIT,
    )


@router.get("/events/unrouted.csv")
async def unrouted_csv(request: Request, visitor: Exporter) -> Response:
    """The unrouted events as CSV, for a support or reports person to hand on."""
    engine = engine_of(request)
    flt = dataclasses.replace(
        build_event_filter(engine.settings, unrouted=True),
        destination_ids=visitor.scope(P.REPORTS_EXPORT).destination_ids(engine.catalog),
    )
    text = await export_events(
        engine.store,
        flt,
        actor=visitor.actor,
        terms={"unrouted": True},
        limit=EXPORT_LIMIT,
        zone=engine.settings.zone,
        source=source_of(request),
    )
    return csv_attachment(text, "unrouted-events.csv")


@router.post("/events/route")
async def route(
    request: Request,
    visitor: Router_,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Annotated[list[str], Form(max_length=ROUTED_HERE)] = [],  # noqa: B006 (FastAPI copies it)
    provider: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Route the chosen events, or a provider's, to the destinations that serve them now."""
    engine = engine_of(request)
    if not visitor.may(P.EVENTS_ROUTE):  # for all clusters, as the API asks
        raise Forbidden()
    wanted = RouteRequest(
        reason=reason,
        actor=visitor.actor,
        event_ids=tuple(ids),
        provider=provider or None,
    )
    try:
        wanted = wanted.checked(engine.settings)
        selected = await select_events(
            engine.store, engine.settings, wanted, catalog=engine.catalog
        )
        if len(selected) > ROUTED_HERE:
            raise EventsRefused(
                "provider",
                f"{len(selected)} events: the console routes at most {ROUTED_HERE} at once; "
                "narrow it, or route them with POST /api/v1/events/route or "
                "`integrator events route`",
            ).coded("console.route_too_many", count=len(selected), most=ROUTED_HERE)
        results = await route_in_engine(engine, selected, wanted)
    except EventsRefused as exc:
        raise BadInput(said(exc)) from None
    # Each note is kept with its code (``RouteResult.notes``), to be said in the person's
    # language; the JSON of the API and the CLI joins them into one English text.
    rows = [{**r.to_json(), "notes": [note(n) for n in r.notes]} for r in results]
    return page(request, visitor, "unrouted_done.html", rows=rows)
