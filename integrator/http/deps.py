"""What routes ask for: the engine, the job registry, a change's reason, a message search's terms.

Who is asking is ``IdentityDep`` / ``ScopeDep`` (``integrator.http.auth``, ``.scope``): the
authenticated identity, never a header.

Declared per route as typed dependencies (``EngineDep``), so a route's signature says what it
uses and tests can build an app around any engine. The integer parameters of every route use
the bounded types here (``Limit``, ``Offset``, ``Revision``): a number the store cannot hold is
a 422 naming the parameter and the bound.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request

from integrator.engine import Engine
from integrator.http.bodies import INT_MAX, MAX_LIMIT, SearchTerms
from integrator.http.errors import without_values
from integrator.jobs import JobRegistry
from integrator.message_service import MessageTerms
from integrator.search import BadSearch


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _jobs(request: Request) -> JobRegistry:
    """The app's own registry if it was given one, else the engine's (kept in its store)."""
    jobs: JobRegistry | None = request.app.state.jobs
    if jobs is None:
        engine: Engine = request.app.state.engine
        return engine.jobs
    return jobs


EngineDep = Annotated[Engine, Depends(_engine)]
JobsDep = Annotated[JobRegistry, Depends(_jobs)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="rows to skip")]
Revision = Annotated[
    int, Path(ge=1, le=INT_MAX, description="a revision number from the destination's history")
]


def reason_of(request: Request) -> str | None:
    """Why a destination changes: the ``X-Integrator-Reason`` header (its body is the
    definition itself, so it has no room for one)."""
    return request.headers.get("x-integrator-reason")


def source_of(request: Request) -> str | None:
    """Where a request came from, for the audit trail: the client's address as the server
    sees it (behind a reverse proxy on the same host, the address it forwards)."""
    return request.client.host if request.client else None


SourceDep = Annotated[str | None, Depends(source_of)]


def terms_of(body: SearchTerms) -> MessageTerms:
    """The service's search terms of a request's (``limit`` and ``offset`` are the page's)."""
    return MessageTerms(**body.model_dump(exclude={"limit", "offset"}))


def bad_search(exc: BadSearch, terms: MessageTerms) -> HTTPException:
    """The API's answer to a search term the service cannot use
    (``message_service.message_filter``): a 422 naming the term and the rule, with none of
    the values that were sent."""
    return HTTPException(status_code=422, detail=without_values(str(exc), terms.given().values()))


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 422 saying it must be one."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(status_code=422, detail="the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise HTTPException(status_code=422, detail="the body must be a JSON object")
    return body
