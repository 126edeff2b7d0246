"""Removing a destination: a page that says what happens, then the removal, acting once.

The same service call as ``DELETE /api/v1/destinations/{id}[?force=true]`` and ``integrator
destinations remove [--force]`` (``DestinationAdmin.remove``), for who holds
``destinations.write`` in the destination's cluster, recorded under ``person:<email>`` with the
reason asked for. The rule about messages still waiting is the service's: without *force* it
refuses (``DestinationBusy``), with it the waiting messages become dead letters. The console only
says beforehand how many wait and what ticking the box does, and words a refusal beside the form.

The removal deletes a file and may make dead letters, so its form acts once
(``integrator.console.once``): its result is a page of its own, and the same form posted again
shows that result, saying so. The result is the remover's own confirmation, shown to them
without asking for the destination's cluster: a removed destination lies in no cluster, and
someone held to some clusters would otherwise lose sight of what they just did.

A destination removed since (the browser's Back to this page after the removal, a second
tab's form posted after the first removed it, a colleague's removal) is said to be removed,
when and by whom (``pages.destinations.gone_page``), never offered the form again.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from integrator.access.errors import AccessDenied
from integrator.access.permissions import Permission
from integrator.console.errors import BadInput, ConsoleError, NotAllowed, NotFound
from integrator.console.once import FIELD, confirmation, failed, issue, once_then_result
from integrator.console.pages.destinations import (
    admin_for,
    blank_reason,
    gone_page,
    require_destination,
)
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.counting import counted
from integrator.engine import Engine
from integrator.errors import PermanentError
from integrator.operators import DestinationBusy, StrandedMessages, UnknownDestination
from integrator.reasons import MAX_REASON

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []  # reached from a destination's page
Operator = Annotated[Visitor, Depends(needs(P.DESTINATIONS_WRITE))]
Reason = Annotated[str, Form(max_length=MAX_REASON)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
REMOVE_ACTION: Final = "destination.remove"


def action_of_removal(destination_id: str) -> str:
    """What a removal form's one-time token confirms: removing that destination, no other.
    Hashed: the store keeps at most 100 characters of it, and an address may name any id."""
    return f"{REMOVE_ACTION}:{hashlib.sha256(destination_id.encode()).hexdigest()[:40]}"


class _Gone(ConsoleError):
    """No file defines the destination any more (removed meanwhile): a ``ConsoleError``, so
    the one-time token is released; said as the removal it was (``gone_page``)."""


class _RemoveRefused(BadInput):
    """The service refused before anything was removed: a ``ConsoleError``, so the one-time
    token is released and the same form may be posted again; ``refusal`` is said beside it,
    with ``status`` (409 for the destination's state, as the API answers it)."""

    def __init__(self, refusal: Said, status: int = 409) -> None:
        super().__init__(refusal)
        self.refusal = refusal
        self.status = status


async def _out_of_sight() -> dict[str, Any]:
    raise NotFound()


async def _confirmation_page(
    request: Request,
    visitor: Visitor,
    destination_id: str,
    *,
    status: int = 200,
    refused: Said | None = None,
    reason_refused: Said | None = None,
    reason: str = "",
    force: bool = False,
) -> Response:
    """What removing does, how many messages wait now, and the form that removes; with why a
    post of it did nothing. A destination gone meanwhile is shown by its id alone."""
    engine = engine_of(request)
    try:
        view = await engine.admin.view(destination_id)
    except UnknownDestination:
        view = None
    return page(
        request,
        visitor,
        "destination_remove.html",
        status=status,
        destination_id=destination_id,
        view=view,
        waiting=await engine.admin.waiting_for(destination_id),
        once=await issue(engine, visitor, action_of_removal(destination_id)),
        refused=refused,
        reason_refused=reason_refused,
        reason_typed=reason,
        force=force,
    )


@router.get("/destinations/{destination_id}/remove")
async def confirm_removal(request: Request, visitor: Operator, destination_id: str) -> Response:
    """Nothing changes on this page: it says what the removal does, and asks why."""
    engine = engine_of(request)
    try:
        require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
        await engine.admin.view(destination_id)
    except (NotFound, UnknownDestination):
        # Removed already (Back from the removal's result): said so, the form not offered.
        return await gone_page(request, visitor, destination_id)
    return await _confirmation_page(request, visitor, destination_id)


@router.post("/destinations/{destination_id}/remove")
async def remove(
    request: Request,
    visitor: Operator,
    destination_id: str,
    reason: Reason = "",
    force: Annotated[bool, Form()] = False,
    once_token: Once = "",
) -> Response:
    """The removal, as the API's ``DELETE``; ``force``: the waiting messages become dead
    letters. A blank reason, messages waiting without ``force``, or a destination gone since
    the page was drawn: the page again with why, nothing removed."""
    engine = engine_of(request)
    action = action_of_removal(destination_id)
    result_at = f"/destinations/{destination_id}/removed"
    try:
        require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
        gone = await _gone_meanwhile(engine, destination_id)
    except NotFound:
        gone = True
    if gone:
        # Removed by this very form a moment ago (a second click, Back and submit): what the
        # person did is theirs to see again (a removed destination stays in its cluster, but
        # whoever removed it may have lost that grant since). Removed otherwise (another
        # tab's form, a colleague): said so, nothing done. Any other post is the 404 of an id
        # out of sight, as the API answers it.
        try:
            return await once_then_result(
                engine, visitor, action, once_token, _out_of_sight, result_at=result_at
            )
        except (BadInput, NotFound):
            return await gone_page(request, visitor, destination_id, tried=True)
    refused = blank_reason(reason)
    if refused is not None:
        return await _confirmation_page(
            request,
            visitor,
            destination_id,
            status=422,
            reason_refused=refused,
            reason=reason,
            force=force,
        )
    admin = admin_for(request, visitor)

    async def work() -> dict[str, Any]:
        try:
            change = await admin.remove(
                destination_id, actor=visitor.actor, force=force, reason=reason.strip()
            )
        except DestinationBusy as exc:
            raise _RemoveRefused(_busy(exc)) from None
        except StrandedMessages:
            waiting = await engine.admin.waiting_for(destination_id)
            raise _RemoveRefused(_stranded(destination_id, waiting)) from None
        except UnknownDestination:
            raise _Gone() from None
        except AccessDenied as exc:
            raise NotAllowed(said(exc)) from None
        except PermanentError as exc:
            raise _RemoveRefused(said(exc), 422) from None
        # What the result page says again: an id and counts, no patient data.
        return {
            "destination": destination_id,
            "revision": change.revision,
            "dead_lettered": change.dead_lettered,
        }

    try:
        return await once_then_result(
            engine, visitor, action, once_token, work, result_at=result_at
        )
    except _Gone:
        return await gone_page(request, visitor, destination_id, tried=True)
    except _RemoveRefused as exc:
        return await _confirmation_page(
            request,
            visitor,
            destination_id,
            status=exc.status,
            refused=exc.refusal,
            reason=reason,
            force=force,
        )


def _busy(exc: DestinationBusy) -> Said:
    """Messages wait and the box was not ticked: said with the console's way of forcing it."""
    return Said(
        exc.explain("tick the box to make them dead letters"),
        "console.remove_busy",
        values={"destination": exc.destination_id, "count": exc.waiting},
    )


def _stranded(destination_id: str, waiting: int) -> Said:
    """No file defines it any more, yet messages wait for it: what to do, in the console."""
    return Said(
        f"{counted(waiting, 'message')} {'waits' if waiting == 1 else 'wait'} for "
        f"{destination_id}, which no file defines any more; "
        "nothing was done",
        "console.remove_stranded",
        values={"destination": destination_id, "count": waiting},
    )


async def _gone_meanwhile(engine: Engine, destination_id: str) -> bool:
    """No file defines it and nothing waits for it: removed since the form was drawn, so
    not asked for a reason again. (Messages that wait for one whose file was deleted by hand
    are the service's refusal to say, with what to do: ``StrandedMessages``.)"""
    try:
        await engine.admin.view(destination_id)
    except UnknownDestination:
        return not await engine.admin.waiting_for(destination_id)
    return False


@router.get("/destinations/{destination_id}/removed/{confirmation_id}")
async def removed(
    request: Request,
    visitor: Operator,
    destination_id: str,
    confirmation_id: str,
    again: bool = False,
) -> Response:
    """What the removal did, as its one post kept it; a reload shows it again and removes
    nothing. The person's own confirmation only (another's, or an unknown one, is a 404)."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or row.action != action_of_removal(destination_id):
        raise NotFound()
    result = row.result if isinstance(row.result, dict) else {}
    return page(
        request,
        visitor,
        "destination_removed.html",
        destination_id=destination_id,
        result=result,
        done=row,
        again=again,
        failed=failed(row),
        kind="remove",
    )
