"""*Try now* on a retrying message's page and on its destination's: ``integrator.try_now``'s rule,
as ``POST /api/v1/messages/{id}/try-now`` and ``/destinations/{id}/try-now`` answer it.

Who may: ``messages.resend`` in the cluster (``needs`` lets the person in; the service narrows
to the message's or destination's cluster). Done, the page it came from says so (``tried``),
and the message's status badge, which refreshes itself, shows the attempt's outcome. Pressed
twice, the second finds its attempt due or under way already: the message's page says so
instead of failing, as the first did what was asked. A message that waits for no retry, or
whose destination is paused, is refused with why and what to do instead.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator import try_now
from integrator.access.permissions import Permission
from integrator.clusters import NotPermitted
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.refusals import said
from integrator.console.render import NavItem
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.http.deps import source_of
from integrator.message_service import MessageNotFound
from integrator.reasons import MAX_REASON

router = APIRouter()
NAV: Final[list[NavItem]] = []

Resender = Annotated[Visitor, Depends(needs(Permission.MESSAGES_RESEND))]
Reason = Annotated[str, Form(max_length=MAX_REASON)]


@router.post("/messages/{message_id}/try-now")
async def try_message_now(
    request: Request, visitor: Resender, message_id: str, reason: Reason = ""
) -> Response:
    engine = engine_of(request)
    try:
        tried = await try_now.try_message_now(
            try_now.Where.engine(engine),
            visitor.scope(Permission.MESSAGES_RESEND),
            message_id,
            reason=reason.strip() or None,
            source=source_of(request),
        )
    except MessageNotFound:
        raise NotFound() from None
    except NotPermitted:
        raise Forbidden() from None
    except (try_now.NotWaiting, try_now.NotDelivering) as refusal:
        raise BadInput(said(refusal)) from None
    # Its attempt due or under way already (a second click): said, as the first did it.
    made = "1" if tried.message_ids else "0"
    return RedirectResponse(f"/messages/{message_id}?tried={made}", status_code=303)


@router.post("/destinations/{destination_id}/try-now")
async def try_destination_now(
    request: Request, visitor: Resender, destination_id: str, reason: Reason = ""
) -> Response:
    engine = engine_of(request)
    try:
        tried = await try_now.try_destination_now(
            try_now.Where.engine(engine),
            visitor.scope(Permission.MESSAGES_RESEND),
            destination_id,
            reason=reason.strip() or None,
            source=source_of(request),
        )
    except try_now.UnknownDestination:
        raise NotFound() from None
    except NotPermitted:
        raise Forbidden() from None
    except try_now.NotDelivering as refusal:
        raise BadInput(said(refusal)) from None
    count = len(tried.message_ids)
    return RedirectResponse(f"/destinations/{destination_id}?tried={count}", status_code=303)
