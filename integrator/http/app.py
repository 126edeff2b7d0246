"""``create_app``: assembles the routers and the app-wide rules; nothing else lives here.

App-wide, so every route has them, including routes added later: every request is checked
against the permission its route declares, with an API token (``integrator.http.auth``),
bodies must be JSON (``integrator.http.media``) sent without a content coding
(``integrator.http.encoding``), unknown query parameters are
refused (``integrator.http.query``), bodies have a size limit checked before they are read
(``integrator.http.limits``), errors never quote the request (``integrator.http.errors``),
the OpenAPI document describes the bodies routes read raw (``integrator.http.openapi``),
``/docs`` needs no internet access, and a token or a console session (``integrator.http.docs``),
no answer may be kept by a browser or proxy (``integrator.http.caching``), every ``GET``
answers ``HEAD`` too (``integrator.http.head``), and a 405 names every method its path takes
(``integrator.http.methods``).
The web console is an application of its own, answering every path the API does not
(``integrator.console``).

Why the application holds no engine: FastAPI builds each included route's dependencies and
parameter validators when the route is first matched: about 0.2 s of CPU for this app's routes
and the console's, once per application object. The application is therefore built once per process
(:func:`shared_app`), and :class:`EngineApp` gives every request the engine it answers for in
its state (``integrator.http.served``): a server is one engine, while a
process that serves several (the test suite) builds the routes once, not once per engine.
"""

from __future__ import annotations

from functools import cache

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.types import Receive, Scope, Send

from integrator.engine import Engine
from integrator.http.auth import authorize
from integrator.http.caching import NoStore
from integrator.http.deps import state_reason
from integrator.http.docs import docs_router
from integrator.http.errors import install_error_handlers
from integrator.http.head import HeadAsGet
from integrator.http.idempotency import refuse_on_intake
from integrator.http.limits import BodyLimits
from integrator.http.media import require_json_body
from integrator.http.methods import install_allow
from integrator.http.nul import refuse_nul
from integrator.http.openapi import install_openapi
from integrator.http.query import refuse_unclear_parameters
from integrator.http.reason_scope import ReasonPerRequest
from integrator.http.refused_intake import body_refused, keep_with_query
from integrator.http.routes import (
    audit,
    deadletters,
    destinations,
    events,
    health,
    messages,
    metrics,
    people,
    rejected,
    resend,
    tokens,
    try_now,
    versions,
)
from integrator.http.served import served_state
from integrator.http.telemetry import NO_TELEMETRY
from integrator.jobs import JobRegistry


def create_app(engine: Engine, jobs: JobRegistry | None = None) -> EngineApp:
    """The application ``integrator run`` serves for ``engine``; ``jobs``: a registry of the
    server's own (None: the engine's, kept in its store)."""
    return EngineApp(shared_app(), engine, jobs)


class EngineApp:
    """An ASGI application answering for one engine: ``app`` with the engine and its job
    registry put into each request's state (a copy per request, as uvicorn makes one of the
    lifespan's state), where ``integrator.http.deps`` and the console read them.

    The server's own state is here, around ``app``, not in it: the limit on large bodies
    (its slots are one server's, and an asyncio semaphore belongs to one event loop).
    """

    def __init__(self, app: FastAPI, engine: Engine, jobs: JobRegistry | None = None) -> None:
        self.app = app
        self.engine = engine
        self.jobs = jobs
        # Outside every check: a 413 comes before anything else; a refused event submission
        # is kept as rejected input (integrator.http.refused_intake). Outermost of all,
        # NoStore: every answer, a 413 or a 500 included, says not to keep it, and the
        # token's expiry on the answer of a request whose token worked (http.caching).
        self._served = NoStore(BodyLimits(app, refused=body_refused))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            state = {**scope.get("state", {}), **served_state(self.engine, self.jobs)}
            scope = {**scope, "state": state}
        await self._served(scope, receive, send)


async def admit(request: Request) -> None:
    """The app's one dependency: who is asking and may they (``authorize``), first, so a
    caller without a token learns nothing about a route's body or parameters; then what the
    request may carry (``request_rules``).

    One dependency, not two or four: FastAPI's solving costs per dependency per request (its
    cache key, its scope, the call), about what these checks cost themselves, and every request
    the API answers pays it (bench/results/perf.md, fifteenth and sixteenth sessions)."""
    await authorize(request)
    await request_rules(request)


async def request_rules(request: Request) -> None:
    """The app-wide rules on what a request may carry, in this order. An event submission's
    ``Idempotency-Key`` first: it is refused before anything of the request is kept."""
    refuse_on_intake(request)
    await require_json_body(request)
    try:
        await refuse_unclear_parameters(request)
    except RequestValidationError:
        await keep_with_query(request)  # an event submission: kept, as a 415 is
        raise
    await refuse_nul(request)
    await state_reason(request)


@cache
def shared_app() -> FastAPI:
    """The process's one application (see the module's docstring). Never change it: a test
    that adds a route makes its own with :func:`build_app`."""
    return build_app()


def build_app() -> FastAPI:
    """The API and the console, answering for whichever engine a request's state names."""
    app = FastAPI(
        telemetry=NO_TELEMETRY,  # nothing leaves but what the engine sends (http.telemetry)
        title="Integrator",
        version="1",
        docs_url=None,  # served offline by docs_router
        openapi_url=None,  # served by docs_router too, behind the app's dependencies
        redoc_url=None,
        # A path with a slash too many is a 404, as any unknown path: answered with a redirect,
        # it went to the Host the request named, before anyone was asked who they are.
        redirect_slashes=False,
        dependencies=[Depends(admit)],  # who is asking first, then the request's rules
    )
    install_error_handlers(app)
    install_allow(app)  # a 405's Allow names every method of its path
    # HEAD on every GET route, as that GET (its permission too) without the body
    app.add_middleware(HeadAsGet, router=app.router)
    app.add_middleware(ReasonPerRequest)  # a request's why ends with it (http.reason_scope)
    install_openapi(app)
    for module in (
        health,
        events,
        rejected,
        messages,
        resend,
        try_now,
        destinations,
        deadletters,
        audit,
        versions,
        metrics,
        people,
        tokens,
    ):
        app.include_router(module.router)
    app.include_router(docs_router(app))
    # The console answers what no route of the API matches (its own sessions, docs/console.md):
    # the router's fallback rather than a catch-all mount, so an API path with a wrong method
    # is still a 405 and a route added to the app later is still reached.
    from integrator.console import create_console  # here: the console imports http helpers

    app.router.default = create_console()
    return app
