"""Whether a page links to another: only where the reader may open it.

A link to a page that answers 403 or 404 is worse than none: it promises what is not there.
So a page links a destination, its messages or its dead letters by the very check the linked
page makes (``Scope.check_destination``, ``Scope.allows``), never a copy of its rule.
"""

from __future__ import annotations

from urllib.parse import urlencode

from integrator.access.permissions import Permission
from integrator.catalog import Catalog
from integrator.clusters import NotPermitted, OutOfSight, cluster_of
from integrator.console.visitor import Visitor
from integrator.operators import UNROUTED_STILL_WAITING, UNROUTED_WAITING
from integrator.provider_handles import provider_handle
from integrator.settings import Settings

P = Permission


def opens_destination(catalog: Catalog, visitor: Visitor, destination_id: str | None) -> bool:
    """May ``visitor`` open ``/destinations/<destination_id>``: one the engine knows (in service,
    a broken file, or removed: its page then says so, 410) in a cluster where they hold
    ``destinations.read``, as ``pages.destinations`` checks it."""
    known = (catalog.destinations, catalog.broken, catalog.removed)
    if not destination_id or not any(destination_id in ids for ids in known):
        return False
    try:
        visitor.scope(P.DESTINATIONS_READ).check_destination(catalog, destination_id)
    except (OutOfSight, NotPermitted):
        return False
    return True


def reads_messages_of(catalog: Catalog, visitor: Visitor, destination_id: str) -> bool:
    """May ``visitor`` list the messages and dead letters of ``destination_id`` (the pages
    ``/messages?destination=`` and ``/deadletters?destination=``): ``messages.read`` in its
    cluster."""
    return visitor.may(P.MESSAGES_READ, cluster_of(catalog, destination_id))


def unrouted_route(settings: Settings, visitor: Visitor, warning: object) -> str | None:
    """Where ``visitor`` routes the events a change's warning says wait unrouted for a provider
    the destination serves (``operators.UNROUTED_WAITING``, ``UNROUTED_STILL_WAITING``): the
    *Unrouted events* page narrowed to that provider, by its handle as that page links it; None
    for another warning, or for who may not open that page (its navigation entry's rule), who
    is left the sentence with its CLI command."""
    from integrator.console.pages.unrouted import LISTING, OF

    if not isinstance(warning, str) or not LISTING.shown_to(visitor):
        return None
    for shape in (UNROUTED_WAITING, UNROUTED_STILL_WAITING):
        values = shape.read(warning)
        if values is not None:
            return (
                f"{LISTING.path}?{urlencode({OF: provider_handle(settings, values['provider'])})}"
            )
    return None
