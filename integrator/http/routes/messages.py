"""``/api/v1/messages``: find messages and read one with its attempts, ACKs and resends.

Listings hold the messages of the caller's clusters only; one message outside them is a 404,
like an unknown id. Reading one in full, or searching by BSN, is audited (``patient_data.view``).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, HTTPException

from integrator.access.permissions import Permission
from integrator.http.bodies import SearchBody, SearchTerms
from integrator.http.deps import EngineDep, Limit, Offset, SourceDep, filter_of
from integrator.http.patient import record_view
from integrator.http.scope import ScopeDep, cluster_of
from integrator.presenters import message_detail, message_summary

router = APIRouter(prefix="/api/v1", tags=["messages"])

NO_MESSAGE: Final = "no message with that id"


@router.get("/messages")
async def list_messages(
    engine: EngineDep,
    scope: ScopeDep,
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
    flt = filter_of(engine, terms, scope.destination_ids(engine.catalog))
    rows = await engine.store.list_messages(flt, limit=limit, offset=offset)
    return [message_summary(m) for m in rows]


@router.post("/messages/search")
async def search_messages(
    body: SearchBody, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> list[dict[str, Any]]:
    """Like ``GET /api/v1/messages``, and by patient BSN, which never goes in a URL."""
    flt = filter_of(engine, body, scope.destination_ids(engine.catalog))
    rows = await engine.store.list_messages(flt, limit=body.limit, offset=body.offset)
    if flt.bsn_hash is not None:
        await record_view(
            engine.store,
            scope.identity,
            "messages.search",
            view="messages.search",
            bsn_hash=flt.bsn_hash,
            found=len(rows),
            source=source,
        )
    return [message_summary(m) for m in rows]


@router.get("/messages/{message_id}")
async def get_message(
    message_id: str, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> dict[str, Any]:
    """One message in full: its HL7 and its event's patient (audited as a view)."""
    missing = HTTPException(status_code=404, detail=NO_MESSAGE)
    message = await engine.store.get_message(message_id)
    if message is None:
        raise missing
    catalog = engine.catalog
    scope.require_destination(catalog, message.destination_id, missing=missing)
    attempts = await engine.store.list_attempts(message_id)
    event = await engine.store.get_event(message.event_id)
    resent_from, resends = await engine.store.list_resends(message_id)
    # A resend to another destination lies in that destination's cluster.
    shown = [r for r in resends if scope.allows_destination(catalog, r.destination_id)]
    await record_view(
        engine.store,
        scope.identity,
        message.id,
        view="message",
        bsn_hash=event.bsn_hash if event is not None else None,
        event_id=message.event_id,
        source=source,
    )
    # The receiver's words in ACKs may name the patient: only for who may read patient data here.
    receiver_text = scope.identity.may(
        Permission.PATIENT_DATA_READ, cluster_of(catalog, message.destination_id)
    )
    return message_detail(
        message,
        attempts,
        event=event,
        origin=resent_from,
        resends=shown,
        receiver_text=receiver_text,
    )
