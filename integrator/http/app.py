"""``create_app``: assembles the routers; nothing else lives here."""

from __future__ import annotations

from fastapi import FastAPI

from integrator.engine import Engine
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
    app = FastAPI(title="Integrator", version="1", docs_url="/docs")
    app.state.engine = engine
    app.state.jobs = jobs or JobRegistry()
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
