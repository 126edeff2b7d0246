"""The dashboard: a tile per destination the person may see, refreshed by itself.

Figures come from ``integrator.dashboard``; which destinations, from the API's ``Scope`` for
``destinations.read``. Pausing and resuming is ``DestinationAdmin.set_enabled`` within the
person's ``destinations.write`` clusters, as ``POST /api/v1/destinations/{id}/pause`` does, and
the console asks for a reason every time.

The figures of every tile are refreshed together every few seconds (htmx, one request, each
tile's figures swapped by id), while the reason field and its button stay as they are: they
lie outside what is swapped, so polling never wipes a reason being typed. The unrouted events
are counted for the page only, not at each refresh: that count reads every event.

A pause or resume comes back to the dashboard with its tile saying what was done (the
revision, or that nothing changed) and every warning the change gave, kept as the destination
page keeps its own (``once.kept`` under ``CHANGE_ACTION``, ``?change=<id>``), and focused, so
a keyboard or screen reader user hears it rather than landing at the top of the page.

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

import functools
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from integrator import history_actions
from integrator.access.errors import AccessDenied
from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.links import unrouted_route
from integrator.console.once import kept, kept_result
from integrator.console.pages.destinations import (
    CHANGE_ACTION,
    admin_for,
    blank_reason,
    kept_warning,
    shown_warnings,
)
from integrator.console.pages.unrouted import LISTING as UNROUTED
from integrator.console.refusals import said
from integrator.console.render import NavItem, page, start_page
from integrator.console.session import engine_of
from integrator.console.visitor import PersonDep, Visitor, needs
from integrator.dashboard import DestinationTile, dashboard_figures, unrouted_events
from integrator.errors import PermanentError
from integrator.http.scope import cluster_of
from integrator.operators import Change, UnknownDestination
from integrator.reasons import MAX_REASON
from integrator.rejected_reads import LATELY, rejected_lately

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/", "nav.dashboard", P.DESTINATIONS_READ)]

Reader = Annotated[Visitor, Depends(needs(P.DESTINATIONS_READ))]
Operator = Annotated[Visitor, Depends(needs(P.DESTINATIONS_WRITE))]
_DONE: Final = (history_actions.PAUSE, history_actions.RESUME)
"""The changes a tile makes, and so the kept changes it says (``_done``)."""


def tile_verb(visitor: Visitor, tile: DestinationTile) -> str:
    """What a tile's button does for ``visitor``: ``pause`` an active destination, ``resume`` a
    paused one; ``""`` (no form) without ``destinations.write`` in its cluster, or while its
    file is broken."""
    if not visitor.may(P.DESTINATIONS_WRITE, tile.cluster) or tile.state == "broken":
        return ""
    return "pause" if tile.state == "active" else "resume"


def shown_actions(shown: list[str]) -> dict[str, str]:
    """What each tile's button did when the page drew it, as its refresh sends it back
    (``<destination id>:<verb>``, ``_tile_action.html``)."""
    return dict(item.rpartition(":")[::2] for item in shown if ":" in item)


async def _figures(request: Request, visitor: Visitor) -> dict[str, Any]:
    """What every refresh redraws: the tiles' figures, rejected input, the time; and each
    tile's pause or resume, which the page draws from the same state (``tile_verb``)."""
    engine = engine_of(request)
    scope = visitor.scope(P.DESTINATIONS_READ)
    shown = await dashboard_figures(engine, scope.allows)
    return {
        "tiles": shown.tiles,
        # The dead letters of removed destinations of the person's clusters: no tile has them;
        # each with whether the person may open them (``messages.read`` in its last cluster).
        "removed_dead_letters": [
            (dest_id, count, visitor.may(P.MESSAGES_READ, cluster_of(engine.catalog, dest_id)))
            for dest_id, count in shown.removed_dead_letters.items()
        ],
        "tile_verb": functools.partial(tile_verb, visitor),
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
        # A tile's pause or resume that warns of events waiting unrouted links their page.
        "unrouted_route": functools.partial(unrouted_route, engine_of(request).settings, visitor),
    }


@router.get("/")
async def dashboard(
    request: Request,
    visitor: PersonDep,
    change: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The start page; who may not see destinations starts at the first page they may use.
    ``change``: back from a tile's pause or resume (``set_enabled``), said in that tile."""
    if not visitor.may_somewhere(P.DESTINATIONS_READ):
        start = start_page(request, visitor)
        if start is not None and start.path != "/":
            return RedirectResponse(start.path, status_code=303)
        raise Forbidden()
    done = await _done(request, visitor, change) if change else None
    return page(request, visitor, "dashboard.html", done=done, **await _context(request, visitor))


async def _kept_change(request: Request, visitor: Visitor, change: Change) -> str:
    """A tile's pause or resume, kept for the dashboard after the redirect as the destination
    page keeps its own (``once.kept``, the same record): its revision, what it did and every
    warning it gave, each coded to be worded in the reader's language."""
    result = {
        "destination": change.destination_id,
        "action": change.action,
        "revision": change.revision,
        "warnings": [kept_warning(w) for w in change.warnings],
    }
    return await kept(engine_of(request), visitor, CHANGE_ACTION, result)


async def _done(request: Request, visitor: Visitor, change: str) -> dict[str, Any] | None:
    """What ``_kept_change`` kept, for the tile it is about; None for an unknown, expired or
    another person's record, or one the destination page kept (an edit's, say)."""
    result = await kept_result(engine_of(request), visitor, CHANGE_ACTION, change)
    if not isinstance(result, dict) or result.get("action") not in _DONE:
        return None
    destination = str(result.get("destination"))
    revision = result.get("revision")
    return {
        "destination": destination,
        "action": result["action"],
        "revision": revision if isinstance(revision, int) else None,
        "warnings": shown_warnings(result, destination),
    }


Shown = Annotated[list[str], Query(max_length=300)]


@router.get("/dashboard/figures")
async def figures(request: Request, visitor: Reader, shown: Shown = []) -> Response:  # noqa: B006
    """Every tile's figures, each to be swapped into its tile by id (htmx polling); and the
    pause or resume of each tile whose state changed since the page drew it (``shown``: what
    each tile's button did then), so the button is never the one of a state gone by."""
    return page(
        request,
        visitor,
        "dashboard_figures.html",
        shown=shown_actions(shown),
        **await _figures(request, visitor),
    )


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
        change = await admin_for(request, visitor).set_enabled(
            destination_id, enabled, actor=visitor.actor, reason=reason.strip()
        )
    except AccessDenied:
        raise Forbidden() from None
    except UnknownDestination:
        raise NotFound() from None
    except PermanentError as exc:
        raise BadInput(said(exc)) from None
    # Back to the dashboard, the tile saying what was done and every warning the change gave,
    # focused (console.js), as the destination page's own pause shows them.
    shown = urlencode({"change": await _kept_change(request, visitor, change)})
    return RedirectResponse(f"/?{shown}#done-{quote(destination_id)}", status_code=303)
