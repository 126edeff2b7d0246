"""The ``Idempotency-Key`` header of the routes that do something a repeat must not do again
(resends, routings): the rules are ``integrator.idempotency``'s; this maps them to HTTP.

A route hands its work to :func:`answered_once` as a function that answers a status and a JSON
body; the status goes on the route's ``Response``, and a kept answer says so in
``Idempotency-Replayed: true``. The store keeps the status and body only: a header of the
answer (the note about a batch's search, ``X-Integrator-Note``) must be one the request alone
decides, handed over as ``headers``, so that a replay, whose request is the same, carries it
too. Set on the ``Response`` inside the work, it would be lost on the replay, where no work runs.

``POST /api/v1/events`` takes no ``Idempotency-Key``: an event's ``event_id`` is its key. A
client whose generic helper adds the header believed itself protected while each attempt with
a fresh ``event_id`` sent the referral again; so the header is refused there (422 naming it and
the rule, :func:`refuse_on_intake`), before the body is read and before anything is kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Final

from fastapi import Header, HTTPException, Request, Response

from integrator import idempotency
from integrator.access.permissions import Identity
from integrator.engine import Engine
from integrator.http.openapi import answer
from integrator.http.refused_intake import IDEMPOTENCY_KEY, is_intake

REPLAYED: Final = "Idempotency-Replayed"
NOT_ON_INTAKE: Final = (
    "Idempotency-Key: POST /api/v1/events takes no Idempotency-Key; the event's event_id is "
    "its idempotency key: to retry safely, send the same event with the same event_id again "
    "(it is accepted once; a repeat answers duplicate: true). Nothing was kept"
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "A key the client chooses for this request (a UUID, say; "
            f"{idempotency.RULE_TEXT}). Repeated with the same key and the same body within "
            "24 hours, the request is not done again: the answer is the first one's (same "
            f"status and body, with `{REPLAYED}: true`). The same key with another body: 422; "
            "while the first is still in progress: 409 (a first request left unfinished for 10 "
            "minutes counts as abandoned, and the repeat is done). A request refused (4xx) "
            "keeps no answer, so its repeat is judged afresh. Keys are the caller's own. Leave "
            "out to do the request every time."
        ),
    ),
]

KEY_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    409: answer(
        "The first request with this `Idempotency-Key` is still in progress; nothing was done. "
        "Repeat it in a moment for its answer."
    )
}
"""``responses`` of the routes that take an ``Idempotency-Key``."""


async def answered_once(
    engine: Engine,
    identity: Identity,
    key: str | None,
    response: Response,
    *,
    route: str,
    body: Any,
    work: Callable[[], Awaitable[idempotency.Answer]],
    headers: Mapping[str, str] | None = None,
) -> Any:
    """``work``'s body, its status and ``headers`` put on ``response``; done once per key (see
    above)."""
    try:
        done = await idempotency.once(
            engine.store, engine.clock, identity, key, route=route, body=body, work=work
        )
    except (idempotency.BadIdempotencyKey, idempotency.KeyReused) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except idempotency.KeyInProgress as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    response.status_code = done.status
    response.headers.update(headers or {})
    if done.replayed:
        response.headers[REPLAYED] = "true"
    return done.body


def refuse_on_intake(request: Request) -> None:
    """A 422 for an event submission that carries an ``Idempotency-Key`` (any, well formed or
    not), see the module's docstring; nothing for any other request."""
    if IDEMPOTENCY_KEY in request.headers and is_intake(request):
        raise HTTPException(status_code=422, detail=NOT_ON_INTAKE)
