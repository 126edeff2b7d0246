"""Every route's dependencies and every endpoint are ``async def``: FastAPI runs a plain ``def``
dependency or endpoint in a worker thread, a hand-over to a thread and back per call per request.
Two of them (the engine, the identity) were about a tenth of an intake POST's CPU
(bench/results/perf.md, twelfth session); none of them blocks, so none needs a thread."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Mount

from integrator.http.app import shared_app


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif isinstance(route, Mount):
            yield from _routes(list(getattr(route.app, "routes", [])))
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _routes(list(router.routes))  # a router included in the app


def _included_dependencies(routes: list[Any]) -> Iterator[Any]:
    """What ``include_router`` and the app add to every route of a router."""
    for route in routes:
        context = getattr(route, "include_context", None)
        for depends in getattr(context, "dependencies", None) or ():
            yield depends.dependency


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    method = getattr(call, "__call__", None)  # noqa: B004  # an instance FastAPI calls
    return not inspect.isroutine(call) and inspect.iscoroutinefunction(method)


def test_no_route_hands_a_dependency_or_its_endpoint_to_a_thread() -> None:
    app = shared_app()
    routes = list(_routes(app.routes))
    assert len(routes) > 50  # the API and the console, not an empty walk
    calls = [call for route in routes for call in _calls(route.dependant)]
    calls += [*_included_dependencies(app.routes), *(d.dependency for d in app.router.dependencies)]
    in_threads = sorted(
        {
            f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', repr(call))}"
            for call in calls
            if not _runs_on_the_loop(call)
        }
    )
    assert in_threads == []
