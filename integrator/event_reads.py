"""Searching and reading events in a store, each view of patient data recorded: the one path
behind ``GET /api/v1/events/{id}``, ``POST /api/v1/events/search`` and ``integrator events
list|show``.

As ``integrator.message_reads`` does for messages: the front door decides what the caller may
see (the API narrows to the caller's clusters with ``destination_ids``; the server's CLI is
trusted with all of them), and the functions here read and record the view
(``integrator.patient_views``) before anything is returned. Listings of events hold no patient
data (``events_routing.listed_event_view``); a search by BSN does, and one event in full does
(the patient's name and BSN).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from integrator import paging
from integrator.access.permissions import Identity
from integrator.events_routing import build_event_filter, describe_event, serving_now
from integrator.kept_searches import KeptSearch, searched_bsn
from integrator.listing_totals import Total, listing_total
from integrator.patient_views import record_search, record_view
from integrator.settings import Settings
from integrator.store import NotFound as StoreNotFound
from integrator.store import Store
from integrator.store.idprefix import AmbiguousIdPrefix
from integrator.store.records import EventFilter, ListedEvent

if TYPE_CHECKING:
    from integrator.catalog import Catalog


async def find_events(
    store: Store,
    identity: Identity,
    flt: EventFilter,
    *,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    source: str | None = None,
    one_more: bool = False,
) -> list[ListedEvent]:
    """The first ``limit`` events ``flt`` finds (``events_routing.build_event_filter``),
    newest first; with ``after`` (an event's id), those listed after that one
    (``integrator.paging``); with ``one_more``, and the one after them if there is one, for a
    listing that tells whether more follow. A search by BSN is recorded as ``identity``'s view
    (``events.search``, with the hash and how many it found: the events shown, at most
    ``limit``, never the one read beyond them) before they are returned. One without a BSN
    records nothing."""
    paging.one_way(offset=offset, after=after)
    last = None if after is None else await _last_seen(store, flt, after)
    read = limit + 1 if one_more else limit
    found = await store.list_events(flt, limit=read, offset=offset, after=last)
    await record_search(
        store,
        identity,
        "events.search",
        bsn_hash=flt.bsn_hash,
        found=min(len(found), limit),
        source=source,
    )
    return found


async def page_start(
    store: Store, flt: EventFilter, *, offset: int, after: str | None
) -> ListedEvent | None:
    """Where a page of ``find_events``' order starts: the event ``after`` names (one in
    ``flt``'s clusters), or None; refused as ``find_events`` refuses it (``BadSearch``). For a
    front door that pages something else in that order (the API's CSV export)."""
    paging.one_way(offset=offset, after=after)
    return None if after is None else await _last_seen(store, flt, after)


async def _last_seen(store: Store, flt: EventFilter, after: str) -> ListedEvent:
    """The event ``after`` names, where a page ends: one in ``flt``'s clusters (an event with
    a message to one of its destinations; any event when it names none)."""
    cursor = EventFilter(
        event_ids=(paging.cursor_id(after, "event"),), destination_ids=flt.destination_ids
    )
    found = await store.list_events(cursor, limit=1)
    if not found:
        raise paging.unknown("event")
    return found[0]


async def page_kept_events(
    store: Store,
    settings: Settings,
    search: KeptSearch,
    *,
    destination_ids: frozenset[str] | None,
    limit: int,
    offset: int = 0,
) -> list[ListedEvent]:
    """A page of a search by BSN made with ``find_events`` and kept (``kept_searches``), for
    ``destination_ids`` as the caller may see them now. Recorded once, when it was made."""
    flt = kept_event_filter(settings, search, destination_ids=destination_ids)
    return await store.list_events(flt, limit=limit, offset=offset)


def kept_event_filter(
    settings: Settings, search: KeptSearch, *, destination_ids: frozenset[str] | None
) -> EventFilter:
    """The filter ``page_kept_events`` pages a kept search by BSN with: what its total counts."""
    terms = dict(search.terms)
    unrouted = bool(terms.pop("unrouted", ""))
    flt = build_event_filter(settings, unrouted=unrouted, **terms)
    return dataclasses.replace(flt, bsn_hash=searched_bsn(search), destination_ids=destination_ids)


async def events_total(
    store: Store, flt: EventFilter, *, offset: int, shown: int, more: bool
) -> Total:
    """How many events ``flt`` finds in all, for a listing that shows ``shown`` of them from
    ``offset`` (``more``: one follows): counted only when it is cut, and no further than
    ``listing_totals`` counts. Reads no patient data and records nothing."""

    async def count(at_most: int) -> int:
        return await store.count_events(flt, at_most=at_most)

    return await listing_total(count, offset=offset, shown=shown, more=more)


async def read_event(
    store: Store,
    identity: Identity,
    event_id: str,
    *,
    destination_ids: frozenset[str] | None = None,
    source: str | None = None,
    catalog: Catalog | None = None,
    zone: tzinfo | None = None,
) -> dict[str, Any] | None:
    """One event in full (``events_routing.describe_event``: the patient, its messages and
    routings for ``destination_ids``; None: all), recorded as ``identity``'s view (``event``,
    with its BSN hash) before it is returned. None, recording nothing, for an unknown event or
    one with no message for those destinations.

    With the engine's ``catalog``, also ``serving``: which of those destinations serve its
    provider now, so whoever routes an unrouted event sees where it would go."""
    event = await store.get_event(event_id)
    if event is None:
        return None
    detail = await describe_event(store, event, destination_ids=destination_ids, zone=zone)
    if detail is None:
        return None
    if catalog is not None:
        detail["serving"] = serving_now(catalog, event.provider_id, destination_ids)
    await record_view(
        store, identity, event.id, view="event", bsn_hash=event.bsn_hash, source=source
    )
    return detail


class EventNotFound(LookupError):
    """No event the caller can see has this id, or an id starting so."""


class AmbiguousEventId(LookupError):
    """Several events the caller can see have an id starting so: ``candidates`` (some of them,
    in id order; ``more``: there may be others)."""

    def __init__(self, candidates: Sequence[str], *, more: bool) -> None:
        super().__init__(f"{len(candidates)}{'+' if more else ''} events have such an id")
        self.candidates = tuple(candidates)
        self.more = more


async def locate_event(
    store: Store, text: str, *, destination_ids: frozenset[str] | None = None
) -> str:
    """The whole id of the event ``text`` names: in full, or by a start only one event has, read
    as the CLI reads ids (``Store.resolve_event_id``: case, left-out dashes), among the events
    of ``destination_ids`` (None: all; an event lies in the clusters of the destinations it
    has messages for, an unrouted one in none). As ``message_service.locate_message`` does for
    a message: one outside them is ``EventNotFound``, as an unknown one; a start several share
    is ``AmbiguousEventId``, naming only those the caller can see, and counting no other; one
    too short to look up is ``idprefix.BadIdPrefix``."""
    try:
        return await store.resolve_event_id(text, destinations=destination_ids)
    except AmbiguousIdPrefix as exc:
        raise AmbiguousEventId(exc.candidates, more=exc.more) from None
    except StoreNotFound:
        raise EventNotFound() from None
