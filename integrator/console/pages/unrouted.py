"""Events that no destination serves, and routing them now.

An unrouted event lies in no cluster, so every page here needs its permission for all
clusters, as the API's ``POST /api/v1/events/route`` does and as the rejected input and audit
pages do: ``messages.read`` to list them, ``reports.export`` for the CSV, ``events.route`` to
route. Who holds it for some clusters only gets the console's 403 page, saying why, never an
empty list (they would read "no unrouted events" while hundreds wait). The navigation entry and
the dashboard's count ask the same (``LISTING``, ``NavItem.everywhere``).

The listing shows the newest ``SHOWN`` events and says when there are more. ``?of=<handle>``
narrows it to one provider: the links the page makes name a provider by its handle
(``integrator.provider_handles``), never by its id, which upstream may have filled with a BSN, a
name or a birth date; the page finds the provider again among those with unrouted events, and a
handle that names none of them any more (its events were routed since) is a 404 saying so. A
``?provider=`` typed by hand still narrows it too, refused as the *Events* page refuses it when
it holds a BSN (``search.misplaced_bsn``: 422, naming the term, never its value). The routing
forms carry the provider in their body only.

Beside the listing, every provider with unrouted events, counted over all of them
(``events_routing.unrouted_providers``: the grouped count the dashboard, the metric and
``destinations add``'s warning use), with the destinations that serve it now; one nobody serves
is said to be so, not offered for routing, which would make nothing.

Routing is ``integrator.events_routing`` as ``POST /api/v1/events/route`` does it (a required
reason, audited under the person), run while the page waits; so that it never waits long, at
most ``ROUTED_HERE`` events at once (more is a job of the API or the CLI, which the refusal
says). Ticked events (or the one on an event's page) are routed at once; every unrouted event
of a provider only after a confirmation saying how many and to which destinations (the
service's dry run, as ``integrator events route --dry-run``). Each routing form carries a
one-time token (``integrator.console.once``), and its result is a page of its own
(``/events/routed/<id>``, Post/Redirect/Get): a reload shows the result again and routes
nothing, and the same form posted again shows the first post's result with a notice.

``GET /events/unrouted.csv`` is the same list as CSV, up to ``EXPORT_LIMIT`` events, as
``integrator events list --unrouted --csv`` and ``GET /api/v1/events.csv?unrouted=true`` give
it (``exports.export_events``, audited as ``events.export``). It holds identifiers only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.once import FIELD, confirmation, failed, issue, once_then_result
from integrator.console.refusals import Said, note, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.events_routing import (
    EventsRefused,
    RouteRequest,
    RouteResult,
    build_event_filter,
    listed_event_view,
    route_in_engine,
    select_events,
    unrouted_providers,
)
from integrator.exports import export_events
from integrator.http.csv_export import csv_attachment, csv_head
from integrator.http.deps import source_of
from integrator.http.head import head_only
from integrator.provider_handles import LENGTH, provider_handle, provider_named
from integrator.reasons import MAX_REASON
from integrator.refusal import code_of
from integrator.search import misplaced_bsn

P = Permission
router = APIRouter()
LISTING: Final = NavItem("/events/unrouted", "nav.unrouted", P.MESSAGES_READ, everywhere=True)
"""The page's entry: shown to who holds ``messages.read`` for all clusters (an unrouted event
lies in none). The dashboard's count of unrouted events is shown to exactly the same people:
it asks this entry (``shown_to``), so the two cannot disagree."""
NAV: Final = [LISTING]
SHOWN: Final = 200
ROUTED_HERE: Final = 500
EXPORT_LIMIT: Final = 10_000
ROUTE_ACTION: Final = "events.route"
"""What the one-time token of a form routing named events confirms (the event page's too)."""
KIND: Final = "route"  # the result page's notice (``once.again.route``)
OF: Final = "of"
"""The query key of the handle of the provider the listing is narrowed to (its links')."""


class NeedsEveryCluster(Forbidden):
    """An unrouted event lies in no cluster: its pages are only for all clusters."""

    text_key = "unrouted.forbidden"


def _everywhere(permission: Permission, visitor: Visitor) -> Visitor:
    """``permission`` for all clusters, else the 403 page saying why: someone holding it in
    some clusters passes ``needs``, and would otherwise see an empty list."""
    if not visitor.may(permission):  # cluster None: for all clusters
        raise NeedsEveryCluster()
    return visitor


async def _reader(visitor: Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]) -> Visitor:
    return _everywhere(P.MESSAGES_READ, visitor)


async def _router(visitor: Annotated[Visitor, Depends(needs(P.EVENTS_ROUTE))]) -> Visitor:
    return _everywhere(P.EVENTS_ROUTE, visitor)


async def _exporter(visitor: Annotated[Visitor, Depends(needs(P.REPORTS_EXPORT))]) -> Visitor:
    return _everywhere(P.REPORTS_EXPORT, visitor)


Reader = Annotated[Visitor, Depends(_reader)]
Router_ = Annotated[Visitor, Depends(_router)]
Exporter = Annotated[Visitor, Depends(_exporter)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
Provider = Annotated[str, Form(max_length=256)]


def provider_action(provider: str) -> str:
    """What the confirmation of routing a provider's events confirms: that provider only (a
    token of the listing's ticked events cannot route a whole provider). Hashed: the store
    keeps at most 100 characters of it, and a provider id may be longer."""
    return f"{ROUTE_ACTION}.provider:{hashlib.sha256(provider.encode()).hexdigest()[:40]}"


@router.get("/events/unrouted")
async def unrouted(
    request: Request,
    visitor: Reader,
    provider: Annotated[str, Query(max_length=256)] = "",
    of: Annotated[str, Query(alias=OF, max_length=LENGTH)] = "",
) -> Response:
    """The newest unrouted events (of one provider: by its handle ``of``, as the page links
    it, or a ``provider`` typed by hand), how many there are in all, and every provider that
    has any with who serves it now."""
    if (pasted := misplaced_bsn({"provider": provider.strip()})) is not None:
        raise BadInput(said(pasted))  # names the term and the rule, never the value
    return await _listing(request, visitor, provider.strip(), handle=of.strip())


async def _listing(
    request: Request,
    visitor: Visitor,
    wanted: str,
    *,
    handle: str = "",
    refused: tuple[str, Said] | None = None,
    reason: str = "",
    ticked: Sequence[str] = (),
) -> Response:
    """The listing (of provider ``wanted``, or of the one ``handle`` names); ``refused``: the
    field and why its routing form did nothing, shown beside that field or above the form
    (422), with what was ticked and the reason kept, so the person mends it there instead of
    typing the reason again."""
    engine = engine_of(request)
    waiting = await unrouted_providers(engine.store, engine.catalog)
    gone = False
    if handle:
        named = provider_named(engine.settings, handle, (w.provider_id for w in waiting))
        gone, wanted = named is None, named or ""
    events: list[dict[str, Any]] = []
    if not gone:
        flt = build_event_filter(engine.settings, provider=wanted or None, unrouted=True)
        events = [listed_event_view(e) for e in await engine.store.list_events(flt, limit=SHOWN)]
    counted = sum(w.count for w in waiting if not wanted or w.provider_id == wanted)
    may_route = visitor.may(P.EVENTS_ROUTE)
    return page(
        request,
        visitor,
        "unrouted.html",
        status=422 if refused is not None else 404 if gone else 200,
        events=events,
        waiting=waiting,
        # The links narrowing the listing to a provider: its handle, never its id.
        handles={w.provider_id: provider_handle(engine.settings, w.provider_id) for w in waiting},
        of=OF,
        gone=gone,
        provider=wanted,
        # Counted a moment earlier: never fewer than shown (and none of a provider gone).
        total=0 if gone else max(counted, len(events)),
        shown=SHOWN,
        max_batch=ROUTED_HERE,
        export_limit=EXPORT_LIMIT,
        may_route=may_route,
        once=await issue(engine, visitor, ROUTE_ACTION) if may_route and events else "",
        refused=refused,
        reason_typed=reason,
        ticked=set(ticked),
    )


@router.get("/events/unrouted.csv")
async def unrouted_csv(request: Request, visitor: Exporter) -> Response:
    """The unrouted events as CSV, for a support or reports person to hand on."""
    if head_only(request):  # nothing exported, nothing audited
        return csv_head("unrouted-events.csv")
    engine = engine_of(request)
    page = await export_events(
        engine.store,
        build_event_filter(engine.settings, unrouted=True),
        actor=visitor.actor,
        terms={"unrouted": True},
        limit=EXPORT_LIMIT,
        zone=engine.settings.zone,
        source=source_of(request),
    )
    text = page.text
    return csv_attachment(text, "unrouted-events.csv")


async def _selected(engine: Engine, wanted: RouteRequest) -> list[str]:
    """The events the request names (the service selects them), at most ``ROUTED_HERE``."""
    selected = await select_events(engine.store, engine.settings, wanted, catalog=engine.catalog)
    if len(selected) > ROUTED_HERE:
        raise EventsRefused(
            "provider",
            f"{len(selected)} events: the console routes at most {ROUTED_HERE} at once; "
            "narrow it, or route them with POST /api/v1/events/route or "
            "`integrator events route`",
        ).coded("console.route_too_many", count=len(selected), most=ROUTED_HERE)
    return selected


@router.post("/events/route/confirm")
async def confirm(request: Request, visitor: Router_, provider: Provider = "") -> Response:
    """What routing every unrouted event of ``provider`` would do, as the service's dry run
    says it: how many, to which destinations, which not and why. Nothing is done yet; the
    form carries the one-time token of this provider's routing."""
    return await _confirmation(request, visitor, provider)


async def _confirmation(
    request: Request,
    visitor: Visitor,
    provider: str,
    *,
    refused: Said | None = None,
    reason: str = "",
) -> Response:
    """The confirmation; ``refused``: why its post did nothing (a blank reason), beside the
    reason (422), with the counts shown again."""
    engine = engine_of(request)
    wanted = RouteRequest(
        reason="(counting only)", actor=visitor.actor, provider=provider, dry_run=True
    )
    try:
        wanted = wanted.checked(engine.settings)
        selected = await _selected(engine, wanted)
        planned = await route_in_engine(engine, selected, wanted)
    except EventsRefused as exc:
        raise BadInput(said(exc)) from None
    going = [r for r in planned if r.routed]
    destinations: dict[str, int] = {}
    for result in going:
        for message in result.messages:
            destinations[message.destination_id] = destinations.get(message.destination_id, 0) + 1
    return page(
        request,
        visitor,
        "unrouted_confirm.html",
        status=422 if refused is not None else 200,
        refused=refused,
        reason_typed=reason,
        provider=wanted.provider,
        total=len(planned),
        going=len(going),
        destinations=sorted(destinations.items()),
        skipped=[
            {**r.to_json(), "notes": [note(n) for n in r.notes]} for r in planned if not r.routed
        ],
        once=await issue(engine, visitor, provider_action(wanted.provider or "")) if going else "",
    )


def _kept(result: RouteResult) -> dict[str, Any]:
    """One event's result as the confirmation keeps it (JSON): each note with its code and
    values, so the result page words it in the reader's language (``_shown``)."""
    notes = []
    for text in result.notes:
        code, values = code_of(text)
        notes.append({"text": str(text), "code": code, "values": dict(values)})
    return {**result.to_json(), "notes": notes}


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "notes": [
            Said(str(n.get("text", "")), n.get("code"), values=n.get("values") or {})
            for n in row.get("notes", [])
            if isinstance(n, dict)
        ],
    }


@router.post("/events/route")
async def route(
    request: Request,
    visitor: Router_,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Annotated[list[str], Form(max_length=ROUTED_HERE)] = [],  # noqa: B006 (FastAPI copies it)
    provider: Provider = "",
    once_token: Once = "",
    listing: Annotated[bool, Form()] = False,
    list_provider: Provider = "",
    from_event: Annotated[bool, Form()] = False,
) -> Response:
    """Route the ticked events, or a provider's as its confirmation showed, once per form: the
    result is a page of its own, which a reload only shows again. A refusal (nothing ticked,
    a blank reason) is said on the page the form was on, with what was typed and ticked:
    ``listing`` (of ``list_provider``'s events, when it was filtered), the confirmation (a
    ``provider`` given), or ``from_event`` (one event's page)."""
    engine = engine_of(request)
    action = provider_action(provider.strip()) if provider.strip() else ROUTE_ACTION
    asked = RouteRequest(
        reason=reason,
        actor=visitor.actor,
        event_ids=tuple(ids),
        provider=provider or None,
        source=source_of(request),
    )
    try:  # checked before the one-time token is claimed: a refusal leaves it unused
        wanted = asked.checked(engine.settings)
    except EventsRefused as exc:
        if listing:
            return await _listing(
                request,
                visitor,
                list_provider.strip(),
                refused=(exc.field, said(exc, field=False)),
                reason=reason,
                ticked=ids,
            )
        if from_event and len(ids) == 1 and exc.field == "reason":
            from integrator.console.pages.event import event_view  # it imports this module

            return await event_view(request, visitor, ids[0], refused=said(exc, field=False))
        if provider.strip() and exc.field == "reason":
            refused = said(exc, field=False)
            return await _confirmation(
                request, visitor, provider.strip(), refused=refused, reason=reason
            )
        raise BadInput(said(exc)) from None

    async def work() -> dict[str, Any]:
        try:
            results = await route_in_engine(engine, await _selected(engine, wanted), wanted)
        except EventsRefused as exc:
            raise BadInput(said(exc)) from None
        return {"rows": [_kept(r) for r in results]}

    return await once_then_result(
        engine, visitor, action, once_token, work, result_at="/events/routed"
    )


@router.get("/events/routed/{confirmation_id}")
async def routed(
    request: Request, visitor: Router_, confirmation_id: str, again: bool = False
) -> Response:
    """What a routing did, event by event; a reload shows it again and routes nothing."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or not row.action.startswith(ROUTE_ACTION):
        raise NotFound()
    kept = row.result.get("rows", []) if isinstance(row.result, dict) else []
    return page(
        request,
        visitor,
        "unrouted_done.html",
        rows=[_shown(r) for r in kept if isinstance(r, dict)],
        done=row,
        again=again,
        failed=failed(row),
        kind=KIND,
    )
