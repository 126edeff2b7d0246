"""One event: who it is for, what became of it, and where it would go if routed now.

What ``integrator events show`` and ``GET /api/v1/events/{id}`` show, from the same service
(``event_reads.read_event``), which audits the view (``patient_data.view``, view ``event``)
before anything is shown: the event holds the patient's name and BSN. So the page asks what
that route asks: ``patient_data.read`` (403 without it anywhere), narrowed to the person's
clusters, where an event lies in the clusters of the destinations it has messages for; one
outside them, and an unrouted event (in no cluster) for who holds the permission in some
clusters only, is a 404 as an unknown id is. Its messages are those of the person's clusters.

The listings link with the whole id; a start of one, as listings and the CLI shorten it, goes
to the whole id as ``/messages/<start>`` does (``event_reads.locate_event``, among the events
the person may see only): one too short to look up, or that several of those events share, is
a page that says so and lists them (``event_lookup.html``), as the message page answers it.

Its route ``/events/{event_id}`` would also answer ``/events/unrouted``: this module is
registered after the unrouted events' (``console.app.PAGES``), so their fixed paths win.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.permissions import Permission
from integrator.console.errors import Forbidden, NotFound
from integrator.console.once import issue
from integrator.console.pages.unrouted import ROUTE_ACTION
from integrator.console.refusals import Said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.event_reads import AmbiguousEventId, EventNotFound, locate_event, read_event
from integrator.http.deps import source_of
from integrator.ids import ID_PATTERN
from integrator.store.idprefix import MIN_PREFIX, BadIdPrefix

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []
LONGEST_ID: Final = 64

Reader = Annotated[Visitor, Depends(needs(P.PATIENT_DATA_READ))]


EVENT_ID: Final = re.compile(rf"\b{ID_PATTERN}\b", re.IGNORECASE)


def linked_events(said: str) -> list[tuple[str, str | None]]:
    """``said`` (a ZD number's warning, in the person's language) as pieces of text, each with
    the event id it is, if it is one, so the page links it: "a new referral with this ZD
    number was accepted before, in event fb49efdf-…" named the earlier event a GP's "I sent
    it twice" is about, and left the person to copy it into an address. The warning names
    only events in the reader's sight (``message_reads.zd_warnings_in_sight``)."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for found in EVENT_ID.finditer(said):
        if found.start() > at:
            pieces.append((said[at : found.start()], None))
        pieces.append((found.group(), found.group().lower()))
        at = found.end()
    if at < len(said):
        pieces.append((said[at:], None))
    return pieces


class NoSuchEvent(NotFound):
    text_key = "event.lookup.unknown"


@router.get("/events/{event_id}")
async def event_page(request: Request, visitor: Reader, event_id: str) -> Response:
    """One event; an id shortened as listings and the CLI show it goes to the whole one."""
    if len(event_id) > LONGEST_ID:
        raise NoSuchEvent()
    engine = engine_of(request)

    def lookup(status: int, **facts: Any) -> Response:
        """The page about a short id that names no one event: ``facts`` say why. Never
        echoes what was typed."""
        shown = {"candidates": (), "more": False, "too_short": False, **facts}
        return page(
            request, visitor, "event_lookup.html", status=status, shortest=MIN_PREFIX, **shown
        )

    try:
        located = await locate_event(
            engine.store,
            event_id,
            destination_ids=visitor.scope(P.PATIENT_DATA_READ).destination_ids(engine.catalog),
        )
    except EventNotFound:
        raise NoSuchEvent() from None
    except AmbiguousEventId as exc:
        return lookup(409, candidates=exc.candidates, more=exc.more)
    except BadIdPrefix:
        return lookup(404, too_short=True)
    if located != event_id:
        return RedirectResponse(f"/events/{located}", status_code=303)
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
        linked_events=linked_events,
        may_route=may_route,
        # *Route now* routes once however often its form is posted (``console.once``).
        once=await issue(engine, visitor, ROUTE_ACTION) if may_route and detail["serving"] else "",
    )
