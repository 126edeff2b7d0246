"""A message's id in a route's path: whole, or its start as listings show it (``3f2a9c1e``).

The CLI (``integrator messages show 3f2a9c1e``), the console (``/messages/3f2a9c1e``) and the
API's ``/rejected/{id}`` took the short ids listings show; ``/messages/{id}`` answered them 404,
so a script had to search for the whole id first. Here the routes about one message
(``/messages/{id}``, its ``resend`` and ``try-now``, ``/deadletters/{id}/discard``) read it as
``message_service.locate_message`` does for the console: an id in either case, with or without
its dashes, or a start of at least 4 hex digits that only one message the caller may see (with
the route's permission) has. A message outside their clusters never counts, so a prefix tells
nothing of other clusters.

Refused as ``/rejected/{id}`` refuses (404, as an unknown id): a start too short to look up, or
one several of the caller's messages share, each saying so and never repeating what was sent.
A whole id is taken as it is: the route answers an unknown one (``messages`` says when it is an
event's or rejected input's id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

from fastapi import Depends, HTTPException, Path

from integrator.clusters import NotPermitted
from integrator.http.deps import EngineDep
from integrator.http.scope import Scope, ScopeDep, forbidden
from integrator.ids import stored_id
from integrator.message_reads import named_instead
from integrator.message_service import (
    NO_MESSAGE,
    AmbiguousMessageId,
    MessageNotFound,
    locate_message,
)
from integrator.store.idprefix import MIN_PREFIX, BadIdPrefix, could_start_id

if TYPE_CHECKING:
    from integrator.engine import Engine


def too_short(missing: str) -> str:
    """The 404 of a shortened id too short to look up, after ``missing``, the route's own."""
    return (
        f"{missing}: a shortened id needs at least {MIN_PREFIX} hex digits to be looked up by "
        "its start"
    )


def ambiguous(kind: str) -> str:
    """The 404 of a shortened id several of the caller's ``kind``s (message, event) share."""
    return (
        f"no one {kind} with that id: several {kind}s you may see have an id that starts so; "
        "give more of it, or the whole id"
    )


TOO_SHORT: Final = too_short(NO_MESSAGE)
AMBIGUOUS: Final = ambiguous("message")
DESCRIPTION: Final = (
    "the message's id (a UUID, in either case, with or without its dashes), or its start as "
    f"listings show it: at least {MIN_PREFIX} hex digits that only one message you may see has"
)


def _missing(detail: str = NO_MESSAGE) -> HTTPException:
    return HTTPException(status_code=404, detail=detail)


async def _message_named(
    message_id: Annotated[str, Path(description=DESCRIPTION)],
    engine: EngineDep,
    scope: ScopeDep,
) -> str:
    whole = stored_id(message_id)
    if whole is not None:
        return whole
    if not could_start_id(message_id):
        raise _missing()
    try:
        return await locate_message(engine, scope, message_id)
    except MessageNotFound:
        raise await not_a_message(engine, scope, message_id) from None
    except BadIdPrefix:
        raise _missing(TOO_SHORT) from None
    except AmbiguousMessageId:
        raise _missing(AMBIGUOUS) from None
    except NotPermitted as refusal:  # seen, without the route's permission in its cluster
        raise forbidden(refusal) from None


async def not_a_message(engine: Engine, scope: Scope, given: str) -> HTTPException:
    """The 404 of an id no message has; when it is an event's, rejected input's or an MSH-10
    (they look alike), said with the route that shows that, to who may read it
    (``message_reads.named_instead``), as the CLI and the console say it."""
    instead = await named_instead(engine.store, scope.identity, given)
    return _missing(NO_MESSAGE if instead is None else f"{NO_MESSAGE}; {_instead_route(*instead)}")


def _instead_route(kind: str, found: str) -> str:
    if kind == "event":
        return f"it is an event's id: GET /api/v1/events/{found}"
    if kind == "MSH-10":
        return f"it is an MSH-10: GET /api/v1/messages/{found} was sent with it"
    return f"it is the id of rejected input: GET /api/v1/rejected/{found}"


MessageNamed = Annotated[str, Depends(_message_named)]
"""A ``{message_id}`` of the path as the whole id it names (see the module's description)."""
