"""Try now: a waiting retry's next attempt made at once (``integrator.try_now``'s rule).

For support when a receiver is back: the message waiting out its backoff is attempted now, the
same message with the same MSH-10, by whichever engine holds it. The reason, optional, is the
``X-Integrator-Reason`` header, as for a pause. Refusals: an unknown message or destination, or
one outside the caller's clusters, 404; seen without ``messages.resend`` there, 403; a message
that waits for no retry, 409 naming its status (nothing to bring forward), and a paused
destination, 409 (nothing would attempt it before it is resumed). A message whose attempt is
due or under way already answers 200 with it in ``due_already``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from integrator import try_now
from integrator.clusters import NotPermitted
from integrator.http.deps import EngineDep, ReasonDep, SourceDep
from integrator.http.json_body import JsonBodyRoute
from integrator.http.message_ids import MessageNamed
from integrator.http.openapi import answer
from integrator.http.scope import ScopeDep, forbidden
from integrator.message_service import NO_MESSAGE, MessageNotFound

router = APIRouter(prefix="/api/v1", tags=["resend"], route_class=JsonBodyRoute)


@router.post(
    "/messages/{message_id}/try-now",
    responses={
        409: answer("The message waits for no retry (naming its status), or is not delivered now")
    },
)
async def try_message_now(
    message_id: MessageNamed,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
) -> dict[str, Any]:
    """Attempt one message waiting for its next retry now (``messages`` names it)."""
    try:
        tried = await try_now.try_message_now(
            try_now.Where.engine(engine), scope, message_id, reason=reason, source=source
        )
    except MessageNotFound:
        raise HTTPException(status_code=404, detail=NO_MESSAGE) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except (try_now.NotWaiting, try_now.NotDelivering) as refusal:
        raise HTTPException(status_code=409, detail=str(refusal)) from None
    return tried.to_json()


@router.post(
    "/destinations/{destination_id}/try-now",
    responses={409: answer("The destination is paused: its messages are attempted when resumed")},
)
async def try_destination_now(
    destination_id: str, engine: EngineDep, scope: ScopeDep, source: SourceDep, reason: ReasonDep
) -> dict[str, Any]:
    """Attempt every message of the destination waiting for its next retry now; ``messages``
    lists them, and is empty when none waited."""
    try:
        tried = await try_now.try_destination_now(
            try_now.Where.engine(engine), scope, destination_id, reason=reason, source=source
        )
    except try_now.UnknownDestination:
        raise HTTPException(status_code=404, detail=try_now.NO_DESTINATION) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except try_now.NotDelivering as refusal:
        raise HTTPException(status_code=409, detail=str(refusal)) from None
    return tried.to_json()
