"""Dead letters grouped by why they died; resend or discard a group or a selection of it.

Listing is ``deadletter.list_dead_letters`` narrowed as ``GET /api/v1/deadletters`` narrows it
(``messages.read``). Acting takes two steps: the selection is counted first (for a resend, the
dry run of ``resend_in_engine`` says which would go out and which would be skipped, and why)
and only the confirmation, with its required reason, acts. Resending is ``resend_in_engine``
as ``POST /api/v1/resend`` does it (``messages.resend`` in each message's cluster); discarding
is ``deadletter.discard`` as ``integrator deadletter discard`` does it
(``deadletters.discard`` in each message's cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from deadletter import (
    DeadLetterError,
    ResendRequest,
    Selection,
    discard,
    list_dead_letters,
)
from integrator.access.permissions import Permission
from integrator.clusters import cluster_of
from integrator.console.errors import BadInput, Forbidden
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.selections import selected_in_scope
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.presenters import dead_letter_summary
from integrator.resending import resend_in_engine

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/deadletters", "nav.deadletters", P.MESSAGES_READ)]
Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Resender = Annotated[Visitor, Depends(needs(P.MESSAGES_RESEND))]
Discarder = Annotated[Visitor, Depends(needs(P.DEADLETTERS_DISCARD))]
SHOWN: Final = 500
ACTIONS: Final = {"resend": P.MESSAGES_RESEND, "discard": P.DEADLETTERS_DISCARD}

Ids = Annotated[list[str], Form(max_length=SHOWN)]
Action = Annotated[str, Form(pattern="^(resend|discard)$")]


@router.get("/deadletters")
async def dead_letters(request: Request, visitor: Reader) -> Response:
    engine = engine_of(request)
    scope = visitor.scope(P.MESSAGES_READ)
    letters = await list_dead_letters(
        engine.store, limit=SHOWN, destination_ids=scope.destination_ids(engine.catalog)
    )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for letter in letters:
        row = dead_letter_summary(letter, engine.settings.zone)
        groups.setdefault((row["destination"], row["reason"] or ""), []).append(row)
    listed = [
        {
            "key": f"g{number}",
            "destination": destination,
            "cluster": cluster_of(engine.catalog, destination),
            "reason": reason,
            "letters": rows,
        }
        for number, ((destination, reason), rows) in enumerate(sorted(groups.items()), start=1)
    ]
    return page(
        request,
        visitor,
        "deadletters.html",
        groups=listed,
        shown=SHOWN,
    )


async def _selection(
    engine: Engine, visitor: Visitor, permission: Permission, ids: Sequence[str]
) -> Selection:
    """The named dead letters, each in a cluster where ``permission`` is held."""
    selection = await selected_in_scope(
        engine,
        visitor,
        permission,
        ids,
        none=Said("select at least one dead letter", "console.select_dead_letter"),
    )
    for message in selection:
        if message.status != "dead":
            raise BadInput(
                Said(
                    f"message {message.id} is {message.status}, not a dead letter",
                    "deadletter.not_dead",
                    values={"id": message.id, "status": message.status},
                )
            )
    return selection


@router.post("/deadletters/confirm")
async def confirm(request: Request, visitor: Reader, action: Action, ids: Ids) -> Response:
    """The count, and for a resend what would happen to each; nothing is done yet."""
    engine = engine_of(request)
    if not visitor.may_somewhere(ACTIONS[action]):
        raise Forbidden()
    messages = await _selection(engine, visitor, ACTIONS[action], ids)
    planned: list[dict[str, Any]] = []
    if action == "resend":
        request_ = ResendRequest(reason="(counting only)", actor=visitor.actor)
        try:
            results = await resend_in_engine(engine, messages, request_, dry_run=True)
        except DeadLetterError as exc:
            raise BadInput(said(exc)) from None
        planned = [r.to_json() for r in results]
    return page(
        request,
        visitor,
        "deadletters_confirm.html",
        action=action,
        messages=messages,
        planned=planned,
        going=sum(1 for p in planned if p["outcome"] == "would resend"),
    )


@router.post("/deadletters/resend")
async def resend(
    request: Request, visitor: Resender, ids: Ids, reason: Annotated[str, Form(max_length=1000)]
) -> Response:
    engine = engine_of(request)
    messages = await _selection(engine, visitor, P.MESSAGES_RESEND, ids)
    try:
        results = await resend_in_engine(
            engine, messages, ResendRequest(reason=reason, actor=visitor.actor)
        )
    except DeadLetterError as exc:
        raise BadInput(said(exc)) from None
    rows = [r.to_json() for r in results]
    return page(request, visitor, "deadletters_done.html", action="resend", rows=rows)


@router.post("/deadletters/discard")
async def discard_letters(
    request: Request, visitor: Discarder, ids: Ids, reason: Annotated[str, Form(max_length=1000)]
) -> Response:
    engine = engine_of(request)
    messages = await _selection(engine, visitor, P.DEADLETTERS_DISCARD, ids)
    if not reason.strip():
        raise BadInput(Said("a reason is required (it goes into the audit log)", "reason.required"))
    rows: list[dict[str, str | None]] = []
    for message in messages:
        outcome, note = "discarded", None
        try:
            await discard(engine.store, message.id, actor=visitor.actor, reason=reason)
        except DeadLetterError as exc:
            outcome, note = "skipped", said(exc)
        rows.append(
            {"original_id": message.id, "outcome": outcome, "message_id": None, "note": note}
        )
    return page(request, visitor, "deadletters_done.html", action="discard", rows=rows)
