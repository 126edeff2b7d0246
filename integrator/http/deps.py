"""What routes ask for: the engine, the job registry, who is asking, a checked search filter.

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
from integrator.search import BadSearch, build_filter
from integrator.store import MessageFilter


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _jobs(request: Request) -> JobRegistry:
    jobs: JobRegistry = request.app.state.jobs
    return jobs


EngineDep = Annotated[Engine, Depends(_engine)]
JobsDep = Annotated[JobRegistry, Depends(_jobs)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="rows to skip")]
Revision = Annotated[
    int, Path(ge=1, le=INT_MAX, description="a revision number from the destination's history")
]


def actor_of(request: Request) -> str:
    return request.headers.get("x-integrator-actor", "api")[:128]


def reason_of(request: Request) -> str | None:
    return request.headers.get("x-integrator-reason")


def filter_of(engine: Engine, terms: SearchTerms) -> MessageFilter:
    """The store filter of search terms; a bad term is a 422 naming it, without its value."""
    values = terms.model_dump(exclude_none=True, exclude={"limit", "offset"})
    try:
        return build_filter(engine.settings, **values)
    except BadSearch as exc:
        raise HTTPException(
            status_code=422, detail=without_values(str(exc), values.values())
        ) from None


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 422 saying it must be one."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(status_code=422, detail="the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise HTTPException(status_code=422, detail="the body must be a JSON object")
    return body
