"""``create_app``: assembles the routers and the app-wide rules; nothing else lives here.

App-wide, so every route has them, including routes added later: unknown query parameters are
refused (``integrator.http.query``) and errors never quote the request
(``integrator.http.errors``).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from integrator.engine import Engine
from integrator.http.errors import install_error_handlers
from integrator.http.query import refuse_unknown_query
from integrator.http.routes import (
    audit,
    deadletters,
    destinations,
    events,
    health,
    messages,
    metrics,
    resend,
    versions,
)
from integrator.jobs import JobRegistry


def create_app(engine: Engine, jobs: JobRegistry | None = None) -> FastAPI:
    app = FastAPI(
        title="Integrator",
        version="1",
        docs_url="/docs",
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.engine = engine
    app.state.jobs = jobs or JobRegistry()
    install_error_handlers(app)
    for module in (
        health,
        events,
        messages,
        resend,
        destinations,
        deadletters,
        audit,
        versions,
        metrics,
    ):
        app.include_router(module.router)
    return app
