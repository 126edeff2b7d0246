"""What routes ask for: the engine, the job registry, a change's reason, a message search's terms
(and the note a search by some terms is answered with).

Who is asking is ``IdentityDep`` / ``ScopeDep`` (``integrator.http.auth``, ``.scope``): the
authenticated identity, never a header.

Declared per route as typed dependencies (``EngineDep``), so a route's signature says what it
uses and tests can build an app around any engine. The integer parameters of every route use
the bounded types here (``Limit``, ``Offset``, ``TopLimit``, ``Revision``): a number the store
cannot hold is a 422 naming the parameter and the bound.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from integrator.engine import Engine
from integrator.http.auth import route_key
from integrator.http.bodies import (
    AFTER_TEXT,
    INT_MAX,
    LIMIT_TEXT,
    MAX_LIMIT,
    OFFSET_TEXT,
    TOP_LIMIT_TEXT,
    SearchTerms,
)
from integrator.http.errors import without_values
from integrator.http.json_body import bad_json, parse_json
from integrator.http.query import GIVEN_TWICE
from integrator.http.refused_intake import INTAKE
from integrator.http.served import engine_of, jobs_of
from integrator.ids import stored_id
from integrator.jobs import JobRegistry
from integrator.message_service import MessageTerms
from integrator.reasons import HOLDS_BSN, MAX_REASON, holds_bsn
from integrator.search import BadSearch, sent_values, status_note
from integrator.stated_reason import state


# Every dependency here is ``async def``, even where it awaits nothing: FastAPI runs a plain
# ``def`` dependency in a worker thread, a hand-over to a thread and back (and the GIL) per
# dependency per request; two of them were about a tenth of an intake POST's CPU
# (bench/results/perf.md, twelfth session). tests/http/test_dependencies.py holds them to it.
async def _engine(request: Request) -> Engine:
    return engine_of(request)


async def _jobs(request: Request) -> JobRegistry:
    return jobs_of(request)


EngineDep = Annotated[Engine, Depends(_engine)]
JobsDep = Annotated[JobRegistry, Depends(_jobs)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=LIMIT_TEXT)]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description=OFFSET_TEXT)]
After = Annotated[str | None, Query(max_length=64, description=AFTER_TEXT)]
"""``after`` of a listing of messages or events: the id of the last item of the page before."""
AfterEntry = Annotated[int | None, Query(ge=1, le=INT_MAX, description=AFTER_TEXT)]
"""``after`` of the audit listing: the id (a number) of the last entry of the page before."""
TopLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=TOP_LIMIT_TEXT)]
"""The ``limit`` of a listing that takes no offset (``/deadletters``, ``/rejected``)."""
ListLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"at most this many items (1 to {MAX_LIMIT}), in the listing's order",
    ),
]
ListOffset = Annotated[
    int,
    Query(
        ge=0,
        le=INT_MAX,
        description=(
            "items to skip, in the listing's order (the route says which); X-Total-Count says "
            "how many there are in all"
        ),
    ),
]
"""``limit`` and ``offset`` of a listing that is not newest first (``/people``, ``/tokens``):
the same names and bounds as ``Limit`` and ``Offset``, whose words are about time."""

TOTAL: Final = "X-Total-Count"
"""The header of a listing's answer that says how many items it has in all, beyond ``limit``."""


def total_header(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a listing that answers ``X-Total-Count``, saying what it counts."""
    return {
        200: {
            "headers": {
                TOTAL: {"description": description, "schema": {"type": "integer", "minimum": 0}}
            }
        }
    }


Revision = Annotated[
    int, Path(ge=1, le=INT_MAX, description="a revision number from the destination's history")
]


def uuid_path(what: str) -> Any:
    """A path parameter holding the id of ``what`` (a UUID), as the document shows it."""
    return Path(description=f"the {what}'s id (a UUID)", json_schema_extra={"format": "uuid"})


def id_in_path(text: str, missing: HTTPException) -> str:
    """An id of the path as the store keeps it (a UUID, lower case), or ``missing``.

    Text that is no id names nothing that exists, so it is answered as an unknown id is (404),
    on every route with an id in its path, rather than as a malformed parameter."""
    found = stored_id(text)
    if found is None:
        raise missing
    return found


async def _message_in_path(message_id: str) -> str:
    from integrator.message_service import NO_MESSAGE  # the service answers it too

    return id_in_path(message_id, HTTPException(status_code=404, detail=NO_MESSAGE))


MessageIdInPath = Annotated[str, Depends(_message_in_path)]
"""A ``{message_id}`` of the path, read as the store keeps ids (in either case, with or
without its dashes, as token and person ids are); text that is no id is a 404."""


REASON_HEADER: Final = "X-Integrator-Reason"


def _refused_reason(msg: str, kind: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("header", REASON_HEADER), "msg": msg, "type": kind}])


async def reason_of(
    raw: Annotated[
        str | None,
        Header(
            alias=REASON_HEADER,
            description=(
                f"why (goes into the audit trail and the history): UTF-8 text, at most "
                f"{MAX_REASON} characters"
            ),
        ),
    ] = None,
) -> str | None:
    """Why a destination changes or a token is revoked: the ``X-Integrator-Reason`` header
    (a DELETE has no body, and a destination's body is the definition itself).

    Header values travel as bytes, and the server hands them over decoded as latin-1, so
    ``één`` sent as UTF-8 would be stored as ``Ã©Ã©n``. They are read back as the UTF-8 that
    clients send (curl, browsers' fetch, httpx); bytes that are no UTF-8 are refused rather
    than guessed at. The length counts characters, not bytes.
    """
    if raw is None:
        return None
    try:
        reason = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise _refused_reason("must be UTF-8 text", "utf8") from None
    if len(reason) > MAX_REASON:
        raise _refused_reason(
            f"String should have at most {MAX_REASON} characters", "string_too_long"
        )
    return reason


ReasonDep = Annotated[str | None, Depends(reason_of)]


async def state_reason(request: Request) -> None:
    """State the request's ``X-Integrator-Reason`` as the why of any view of patient data or
    export it makes (``integrator.stated_reason``): on every route, so
    that a ``GET`` of a message records why it was looked at as a resend records why it was
    sent. Refused as ``reason_of`` refuses it, and when it writes out a BSN (the trail keeps it
    for years; ``integrator.reasons.HOLDS_BSN``), before anything is read. Where the engine
    requires a reason (``Settings.reason_required``), a view or export without the header is a
    422 naming it (``http.errors``). An event submission reads no reason: a header there never
    refuses an event. Every request begins with nothing stated (``http.reason_scope``), so one
    without the header, where none is required, has nothing to state: the common case costs a
    header lookup (bench/bench_app_layers.py)."""
    if route_key(request) == INTAKE:
        return
    given = request.headers.getlist(REASON_HEADER)
    required = engine_of(request).settings.reason_required
    if not given and not required:
        return  # as the request began: nothing stated (``http.reason_scope``)
    if len(given) > 1:  # read as Starlette reads headers, the first would win unrecorded
        raise RequestValidationError(
            [{"type": "duplicate_key", "loc": ("header", REASON_HEADER), "msg": GIVEN_TWICE}]
        )
    reason = await reason_of(given[0]) if given else None
    if reason is not None and holds_bsn(reason):
        raise _refused_reason(HOLDS_BSN, "holds_bsn")
    state(reason, required=required, named=REASON_HEADER)


def source_of(request: Request) -> str | None:
    """Where a request came from, for the audit trail: the client's address as the server
    sees it (behind a reverse proxy on the same host, the address it forwards)."""
    return request.client.host if request.client else None


async def _source(request: Request) -> str | None:
    return source_of(request)


SourceDep = Annotated[str | None, Depends(_source)]


def terms_of(body: SearchTerms) -> MessageTerms:
    """The service's search terms of a request's (``limit``, ``offset`` and ``after`` are the
    page's)."""
    return MessageTerms(**body.model_dump(exclude={"limit", "offset", "after"}))


NOTE: Final = "X-Integrator-Note"
"""The header of a note about a search (``search.status_note``: by status ``sending``, which
no message is ever in): a header, so the answer itself (a listing, a CSV, a resend's outcome)
keeps its shape."""


def search_headers(terms: MessageTerms) -> dict[str, str]:
    """The headers of the note about a search by ``terms``: none, or ``NOTE``. Decided by the
    terms alone, so a keyed request's replay (``http.idempotency``) carries them as well."""
    note = status_note(terms.status)
    return {} if note is None else {NOTE: note}


def note_search(response: Response, terms: MessageTerms) -> None:
    """Put the note about a search by ``terms``, if there is one, on ``response``."""
    response.headers.update(search_headers(terms))


def bad_search(exc: BadSearch, terms: MessageTerms) -> HTTPException:
    """The API's answer to a search term the service cannot use
    (``message_service.message_filter``): a 422 naming the term and the rule, with none of
    the values that were sent."""
    sent = sent_values(exc, terms.given().values())
    return HTTPException(status_code=422, detail=without_values(str(exc), sent))


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 422 in the validation shape naming the rule it
    breaks (``integrator.http.json_body``: no JSON, nested too deep, or not an object)."""
    body = parse_json(await request.body())
    if not isinstance(body, dict):
        raise bad_json("must be a JSON object", "dict_type")
    return body
