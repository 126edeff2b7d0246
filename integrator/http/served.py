"""Which engine a request is served for: written into the request's state by
``integrator.http.app.EngineApp``, read here by the API's dependencies and the console.

One place for both sides, because the application is shared by every engine of a process and
the request's state is the only thing that tells them apart.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from integrator.engine import Engine
from integrator.jobs import JobRegistry


def served_state(engine: Engine, jobs: JobRegistry | None) -> dict[str, Any]:
    """What ``EngineApp`` adds to each request's state; ``jobs`` None: the engine's own."""
    return {"engine": engine, "jobs": jobs}


def engine_of(request: Request) -> Engine:
    engine: Engine = request.state.engine
    return engine


def jobs_of(request: Request) -> JobRegistry:
    """The server's own job registry if it was given one, else the engine's (in its store)."""
    jobs: JobRegistry | None = request.state.jobs
    return engine_of(request).jobs if jobs is None else jobs
