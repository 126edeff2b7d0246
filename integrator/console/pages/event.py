"""One event: who it is for, what became of it, and where it would go if routed now.

What ``integrator events show`` and ``GET /api/v1/events/{id}`` show, from the same service
(``event_reads.read_event``), which audits the view (``patient_data.view``, view ``event``)
before anything is shown: the event holds the patient's name and BSN. So the page asks what
that route asks: ``patient_data.read`` (403 without it anywhere), narrowed to the person's
clusters, where an event lies in the clusters of the destinations it has messages for; one
outside them, and an unrouted event (in no cluster) for who holds the permission in some
clusters only, is a 404 as an unknown id is. Its messages are those of the person's clusters.

The id is the whole id, as on a message's page and in the API: the listings link with it.

Its route ``/events/{event_id}`` would also answer ``/events/unrouted``: this module is
registered after the unrouted events' (``console.app.PAGES``), so their fixed paths win.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from integrator.access.permissions import Permission
from integrator.console.errors import Forbidden, NotFound
from integrator.console.once import issue
from integrator.console.pages.unrouted import ROUTE_ACTION
from integrator.console.refusals import Said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.event_reads import read_event
from integrator.http.deps import source_of

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []
LONGEST_ID: Final = 64

Reader = Annotated[Visitor, Depends(needs(P.PATIENT_DATA_READ))]


@router.get("/events/{event_id}")
async def event_page(request: Request, visitor: Reader, event_id: str) -> Response:
    return await event_view(request, visitor, event_id)


async def event_view(
    request: Request, visitor: Visitor, event_id: str, *, refused: Said | None = None
) -> Response:
    """The page; ``refused``: why its *Route now* did nothing (a blank reason), said beside
    the reason (422), as the listing's routing form says it (``pages.unrouted.route``)."""
    if not visitor.may_somewhere(P.PATIENT_DATA_READ):
        raise Forbidden()
    engine = engine_of(request)
    if len(event_id) > LONGEST_ID:
        raise NotFound()
    detail = await read_event(
        engine.store,
        visitor.signed_in,
        event_id,
        destination_ids=visitor.scope(P.PATIENT_DATA_READ).destination_ids(engine.catalog),
        source=source_of(request),
        catalog=engine.catalog,
    )
    if detail is None:
        raise NotFound()
    may_route = detail["unrouted"] and visitor.may(P.EVENTS_ROUTE)
    return page(
        request,
        visitor,
        "event.html",
        status=422 if refused is not None else 200,
        refused=refused,
        e=detail,
        may_route=may_route,
        # *Route now* routes once however often its form is posted (``console.once``).
        once=await issue(engine, visitor, ROUTE_ACTION) if may_route and detail["serving"] else "",
    )
