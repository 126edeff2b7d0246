"""The dashboard: a tile per destination the person may see, refreshed by itself.

Figures come from ``integrator.dashboard``; which destinations, from the API's ``Scope`` for
``destinations.read``. Pausing and resuming is ``DestinationAdmin.set_enabled`` within the
person's ``destinations.write`` clusters, as ``POST /api/v1/destinations/{id}/pause`` does, and
the console asks for a reason every time.

The figures of every tile are refreshed together every few seconds (htmx, one request, each
tile's figures swapped by id), while the reason field and its button stay as they are: they
lie outside what is swapped, so polling never wipes a reason being typed. The unrouted events
are counted for the page only, not at each refresh: that count reads every event.

Unrouted events are counted for who sees the link to their page: the dashboard asks that
page's navigation entry (``unrouted.LISTING``: ``messages.read`` for all clusters, as
``NavItem.everywhere`` decides it for the rejected input and audit pages too), so the count and
the link are shown to the same people.

Rejected input of the last 24 hours is counted for who may list it (``rejected_reads``: the
rule is the service's, ``rejected_lately`` answers None to anyone else, and the figure is then
left out), refreshed with the tiles: one ``COUNT`` on the indexed ``received_at``, so an
operator sees an upstream system start to send broken input without a heavier poll. It links
to the listing of the same period (``/rejected?since=24h``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import AccessDenied
from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.pages.destinations import admin_for, blank_reason
from integrator.console.pages.unrouted import LISTING as UNROUTED
from integrator.console.refusals import said
from integrator.console.render import NavItem, page, start_page
from integrator.console.session import engine_of
from integrator.console.visitor import PersonDep, Visitor, needs
from integrator.dashboard import destination_tiles, unrouted_events
from integrator.errors import PermanentError
from integrator.http.scope import cluster_of
from integrator.operators import UnknownDestination
from integrator.reasons import MAX_REASON
from integrator.rejected_reads import LATELY, rejected_lately

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/", "nav.dashboard", P.DESTINATIONS_READ)]

Reader = Annotated[Visitor, Depends(needs(P.DESTINATIONS_READ))]
Operator = Annotated[Visitor, Depends(needs(P.DESTINATIONS_WRITE))]


async def _figures(request: Request, visitor: Visitor) -> dict[str, Any]:
    """What every refresh redraws: the tiles' figures, rejected input, the time."""
    engine = engine_of(request)
    scope = visitor.scope(P.DESTINATIONS_READ)
    tiles = await destination_tiles(engine, scope.allows)
    return {
        "tiles": tiles,
        "rejected": await rejected_lately(engine.store, engine.settings, visitor.signed_in),
        "rejected_since": LATELY,
        "now": engine.clock.now().astimezone(engine.settings.zone),
    }


async def _context(request: Request, visitor: Visitor) -> dict[str, Any]:
    """The whole page: the figures, and the unrouted events, which a refresh does not redraw
    (their count reads every event, hundreds of ms on a large store, every 5 s otherwise)."""
    unrouted = UNROUTED.shown_to(visitor)
    return {
        **await _figures(request, visitor),
        # Unrouted events lie in no cluster: counted for who may list them, by the rule of the
        # page that lists them (its navigation entry), not a copy of it.
        "unrouted": await unrouted_events(engine_of(request)) if unrouted else None,
    }


@router.get("/")
async def dashboard(request: Request, visitor: PersonDep) -> Response:
    """The start page; who may not see destinations starts at the first page they may use."""
    if not visitor.may_somewhere(P.DESTINATIONS_READ):
        start = start_page(request, visitor)
        if start is not None and start.path != "/":
            return RedirectResponse(start.path, status_code=303)
        raise Forbidden()
    return page(request, visitor, "dashboard.html", **await _context(request, visitor))


@router.get("/dashboard/figures")
async def figures(request: Request, visitor: Reader) -> Response:
    """Every tile's figures, each to be swapped into its tile by id (htmx polling)."""
    return page(request, visitor, "dashboard_figures.html", **await _figures(request, visitor))


@router.post("/destinations/{destination_id}/enabled")
async def set_enabled(
    request: Request,
    visitor: Operator,
    destination_id: str,
    enabled: Annotated[bool, Form()],
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    engine = engine_of(request)
    scope = visitor.scope(P.DESTINATIONS_WRITE)
    cluster = cluster_of(engine.catalog, destination_id)
    if not scope.allows(cluster):
        # Seen but not to be changed: 403; not even seen: as unknown (like the API).
        raise Forbidden() if visitor.may(P.DESTINATIONS_READ, cluster) else NotFound()
    refused = blank_reason(reason)
    if refused is not None:
        # The dashboard again, the refusal beside that tile's reason (focused), nothing done.
        context = await _context(request, visitor)
        return page(
            request,
            visitor,
            "dashboard.html",
            status=422,
            refused={destination_id: refused},
            **context,
        )
    try:
        await admin_for(request, visitor).set_enabled(
            destination_id, enabled, actor=visitor.actor, reason=reason.strip()
        )
    except AccessDenied:
        raise Forbidden() from None
    except UnknownDestination:
        raise NotFound() from None
    except PermanentError as exc:
        raise BadInput(said(exc)) from None
    return RedirectResponse("/", status_code=303)
