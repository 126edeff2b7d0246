"""``/api/v1/deadletters``: the messages the engine gave up on; discarding one.

Discarding is ``deadletter.discard``, as ``integrator deadletter discard`` and the console do
it (``deadletters.discard`` in the message's cluster; a message outside the caller's clusters
is a 404, like an unknown id).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict

from deadletter import AlreadyResolved, DeadLetterError, discard, plan_discard
from integrator.clusters import NotPermitted, cluster_of
from integrator.http.bodies import AuditReason
from integrator.http.deps import EngineDep, MessageIdInPath, SourceDep, TopLimit, bad_search
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import answer
from integrator.http.scope import ScopeDep, forbidden
from integrator.message_service import (
    NO_MESSAGE,
    MessageNotFound,
    MessageTerms,
    find_dead_letters,
    visible_message,
)
from integrator.presenters import dead_letter_summary
from integrator.search import BadSearch

router = APIRouter(prefix="/api/v1", tags=["deadletters"], route_class=JsonBodyRoute)

Moment = Annotated[
    str | None,
    Query(
        max_length=64,
        description="When they died, from (since) or until: an ISO date or date-time (a date "
        "is that whole local day; without an offset, local time), or back from now: 2h, 3d",
    ),
]


@router.get("/deadletters")
async def deadletters(
    engine: EngineDep,
    scope: ScopeDep,
    destination: str | None = None,
    limit: TopLimit = 100,
    include_resolved: bool = Query(
        False,
        alias="all",
        description="Also the resolved ones: a later resend was delivered, or it was "
        "discarded (state discarded, with discarded_by and discarded_at).",
    ),
    since: Moment = None,
    until: Moment = None,
) -> list[dict[str, Any]]:
    """Dead letters that still need support, newest first; ``all=true`` adds the resolved ones
    (a later resend delivered) and the discarded ones (``state`` ``discarded``, with
    ``discarded_by`` and ``discarded_at``; no ``dead_since``, a discarded one selected by
    ``since`` and ``until`` on when it was discarded).

    Newest by the message (its ``seq``, the order messages were made), not by when it died; at
    most ``limit``, with no offset: for more, narrower periods of ``since`` and ``until``.

    Each has its ``state`` (``open``, ``resending``, ``resolved``) and the link to the resend
    that resolved it (``resolved_by``), the same shape as ``integrator deadletter list --json``.
    Only those of destinations in the caller's clusters; a ``destination`` that names none of
    them is a 422 naming the parameter, as in ``GET /api/v1/messages``. ``since`` and
    ``until`` select on when each died (``dead_since``), read as every period is; one that
    starts at or after its end is a 422 naming both.
    """
    try:
        letters = await find_dead_letters(
            engine,
            scope,
            destination=destination,
            limit=limit,
            include_resolved=include_resolved,
            since=since,
            until=until,
        )
    except BadSearch as exc:
        terms = MessageTerms(destination=destination, since=since, until=until)
        raise bad_search(exc, terms) from None
    seen = scope.destination_ids(engine.catalog)  # a resend elsewhere is not named
    return [dead_letter_summary(letter, seen=seen) for letter in letters]


class DiscardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: AuditReason


@router.post(
    "/deadletters/{message_id}/discard",
    responses={409: answer("Resolved already (discarded, or a later resend delivered)")},
)
async def discard_dead_letter(
    message_id: MessageIdInPath,
    body: DiscardBody,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    dry_run: bool = Query(
        False, description="Say what would be discarded and what stays open; change nothing."
    ),
) -> dict[str, Any]:
    """Close a dead letter without sending it again (``cancelled``), with a required reason,
    together with its resend chain (the other open dead letters of the same message to the
    same destination); each audited (``deadletter.discard``) under the caller's identity. The
    answer names them (``discarded``, ``resend_chain``) and what stays open with why
    (``stays_open``); ``dry_run=true`` answers the same and changes nothing. Not a dead
    letter, or no reason: 422 with why; one already resolved (discarded, or a later resend
    delivered): 409 saying how and when, nothing changed."""
    try:
        message = await visible_message(engine, scope, message_id)
        if dry_run:
            plan = await plan_discard(engine.store, message.id)
        else:
            plan = await discard(
                engine.store, message.id, actor=scope.actor, reason=body.reason, source=source
            )
    except MessageNotFound:
        raise HTTPException(status_code=404, detail=NO_MESSAGE) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except AlreadyResolved as exc:  # a resend that got through elsewhere is not named
        said = exc.seen_by(scope.destination_ids(engine.catalog))
        raise HTTPException(status_code=409, detail=str(said)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {
        "message_id": message.id,
        "status": "dead" if dry_run else "cancelled",
        "dry_run": dry_run,
        "discarded": plan.discarded,
        "resend_chain": [m.id for m in plan.chain],
        # Only what the caller may see: another destination's dead letter may be in a
        # cluster of someone else's (the audit entry names every one).
        "stays_open": [
            s.to_json()
            for s in plan.stays_open
            if scope.allows(cluster_of(engine.catalog, s.destination_id))
        ],
    }
