"""``/api/v1/messages``: find messages and read one with its attempts, ACKs and resends."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from integrator.http.bodies import SearchBody, SearchTerms
from integrator.http.deps import EngineDep, Limit, Offset, filter_of
from integrator.presenters import message_detail, message_summary

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.get("/messages")
async def list_messages(
    engine: EngineDep,
    zd_number: str | None = None,
    event_id: str | None = None,
    destination: str | None = None,
    status: str | None = None,
    version: str | None = None,
    control_id: str | None = None,
    event_type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Search by identifiers; a BSN search is ``POST /api/v1/messages/search``."""
    terms = SearchTerms(
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
    rows = await engine.store.list_messages(filter_of(engine, terms), limit=limit, offset=offset)
    return [message_summary(m) for m in rows]


@router.post("/messages/search")
async def search_messages(body: SearchBody, engine: EngineDep) -> list[dict[str, Any]]:
    """Like ``GET /api/v1/messages``, and by patient BSN, which never goes in a URL."""
    rows = await engine.store.list_messages(
        filter_of(engine, body), limit=body.limit, offset=body.offset
    )
    return [message_summary(m) for m in rows]


@router.get("/messages/{message_id}")
async def get_message(message_id: str, engine: EngineDep) -> dict[str, Any]:
    message = await engine.store.get_message(message_id)
    if message is None:
        raise HTTPException(status_code=404, detail="no message with that id")
    attempts = await engine.store.list_attempts(message_id)
    event = await engine.store.get_event(message.event_id)
    resent_from, resends = await engine.store.list_resends(message_id)
    return message_detail(message, attempts, event=event, origin=resent_from, resends=resends)
