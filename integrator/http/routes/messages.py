"""``/api/v1/messages``: find messages and read one with its attempts, ACKs and resends.

The rules are ``integrator.message_service``'s, which the console's pages call too: listings
hold the messages of the caller's clusters only; one message outside them is a 404, like an
unknown id. Reading one in full, or searching by BSN, is audited (``patient_data.view``). This
module only says the service's refusals in HTTP. A message's id in the path may be shortened as
listings show it (``integrator.http.message_ids``); the CSV export pages as the listing does
(``integrator.http.csv_export``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from integrator.clusters import NotPermitted
from integrator.exports import export_messages
from integrator.http.answers import MESSAGE_LISTED, listing
from integrator.http.bodies import SearchBody
from integrator.http.csv_export import csv_page, csv_responses
from integrator.http.deps import (
    After,
    EngineDep,
    Limit,
    Offset,
    SourceDep,
    bad_search,
    note_search,
    terms_of,
)
from integrator.http.json_body import JsonBodyRoute
from integrator.http.message_ids import MessageNamed, not_a_message
from integrator.http.paging import next_page, paged_responses
from integrator.http.periods import since_query, until_query
from integrator.http.scope import ScopeDep, forbidden
from integrator.message_reads import listed_messages
from integrator.message_service import (
    MessageNotFound,
    MessageTerms,
    checked_filter,
    find_messages,
    page_start,
    read_message,
)
from integrator.search import BadSearch

router = APIRouter(prefix="/api/v1", tags=["messages"], route_class=JsonBodyRoute)


async def _query_terms(
    zd_number: str | None = None,
    event_id: str | None = None,
    destination: str | None = None,
    status: str | None = None,
    version: str | None = None,
    control_id: str | None = None,
    event_type: str | None = None,
    since: Annotated[str | None, since_query("Created", max_length=None)] = None,
    until: Annotated[str | None, until_query("Created", max_length=None)] = None,
) -> MessageTerms:
    """A search's identifier terms in the query (a BSN never is: it would be in the URL)."""
    return MessageTerms(
        zd_number=zd_number,
        event_id=event_id,
        destination=destination,
        status=status,
        version=version,
        control_id=control_id,
        event_type=event_type,
        since=since,
        until=until,
    )


QueryTerms = Annotated[MessageTerms, Depends(_query_terms)]


@router.get(
    "/messages",
    response_model=None,
    responses=listing(MESSAGE_LISTED, "The messages, newest first", paged_responses("messages")),
)
async def list_messages(
    engine: EngineDep,
    scope: ScopeDep,
    terms: QueryTerms,
    request: Request,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    after: After = None,
) -> list[dict[str, Any]]:
    """Search by identifiers, newest first (by ``seq``, the order messages were made; with
    ``since`` or ``until`` by ``created_at``, then ``seq``, which agree); a BSN search is
    ``POST /api/v1/messages/search``. ``status`` ``waiting`` finds the messages waiting for
    delivery (queued or retrying), what the dashboard counts as a destination's queue. A search by
    status ``sending`` answers an empty list with an ``X-Integrator-Note`` header saying why:
    the engine never writes that status. A full page links the next (``Link: rel="next"``,
    with ``after``)."""
    try:
        rows = await find_messages(engine, scope, terms, limit=limit, offset=offset, after=after)
    except BadSearch as exc:
        raise bad_search(exc, terms) from None
    note_search(response, terms)
    next_page(request, response, [row.id for row in rows], limit)
    return await listed_messages(engine.store, rows)


@router.get(
    "/messages.csv",
    response_class=Response,
    responses=csv_responses("messages", total=True),
)
async def export_messages_csv(
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    terms: QueryTerms,
    request: Request,
    limit: Limit = 1000,
    offset: Offset = 0,
    after: After = None,
) -> Response:
    """The messages ``GET /api/v1/messages`` finds, as the reports' CSV (identifiers and
    delivery facts, no BSN or name); the export is audited (``messages.export``) first. Refused
    as the listing refuses (a destination that names none is a 422, an ``after`` that names no
    message in sight or comes with an ``offset`` too), before anything is audited. Paged as the
    listing: a full page links the next (``Link: rel="next"``, with ``after``). A search by
    status ``sending`` gets the listing's ``X-Integrator-Note`` header; ``X-Total-Count`` says
    how many match in all, beyond ``limit``. ``HEAD`` exports nothing and audits nothing."""
    try:
        flt = await checked_filter(engine, scope, terms)
        start = await page_start(engine, scope, offset=offset, after=after)
    except BadSearch as exc:
        raise bad_search(exc, terms) from None
    exported = await csv_page(
        request,
        "messages.csv",
        limit,
        lambda: export_messages(
            engine.store,
            flt,
            actor=scope.actor,
            terms=terms.given(),
            limit=limit,
            zone=engine.settings.zone,
            source=source,
            offset=offset,
            after=start,
        ),
    )
    note_search(exported, terms)  # a header: the body stays pure CSV
    # How many match in all: a file of ``limit`` rows says nothing of being cut otherwise.
    exported.headers["X-Total-Count"] = str(await engine.store.count_messages(flt))
    return exported


@router.post(
    "/messages/search",
    response_model=None,
    responses=listing(MESSAGE_LISTED, "The messages, newest first"),
)
async def search_messages(
    body: SearchBody, engine: EngineDep, scope: ScopeDep, source: SourceDep, response: Response
) -> list[dict[str, Any]]:
    """Like ``GET /api/v1/messages``, and by patient BSN, which never goes in a URL."""
    terms = terms_of(body)
    try:
        rows = await find_messages(
            engine,
            scope,
            terms,
            limit=body.limit,
            offset=body.offset,
            after=body.after,
            source=source,
        )
    except BadSearch as exc:
        raise bad_search(exc, terms) from None
    note_search(response, terms)
    return await listed_messages(engine.store, rows)


@router.get("/messages/{message_id}")
async def get_message(
    message_id: MessageNamed, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> dict[str, Any]:
    """One message in full: its HL7 and its event's patient (audited as a view),
    ``released_at``, when it was last released from held (``null``: never held),
    ``discarded``, who discarded it, when and why (``null``: not discarded), and
    ``late_answers``, what the receiver answered after the answer that settled it (each
    ``received_at``, ``ack_code``, ``how``: ``skipped`` or ``dropped``; the first answer
    stood)."""
    try:
        reading = await read_message(engine, scope, message_id, source=source)
    except MessageNotFound:
        raise await not_a_message(engine, scope, message_id) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    return reading.to_json()
