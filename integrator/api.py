"""HTTP API, ``/api/v1`` (SPEC §7). OpenAPI at ``/docs``.

Identifiers only in URLs (message ids, never a BSN or a name); bodies carry the data.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.presenters import message_detail, message_summary, versions_table
from integrator.store import MessageFilter


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="Integrator", version="1", docs_url="/docs")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await engine.store.count_by_status()
        except Exception:
            return JSONResponse({"status": "store unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.post("/api/v1/events", status_code=202)
    async def post_event(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            result = await engine.intake.submit(raw, source="http")
        except InvalidEvent as exc:
            return JSONResponse(
                {
                    "detail": "event refused",
                    "errors": exc.to_json(),
                    "rejected_id": exc.rejected_id,
                },
                status_code=422,
            )
        return JSONResponse(result.to_json(), status_code=202)

    @app.get("/api/v1/messages")
    async def list_messages(
        zd_number: str | None = None,
        event_id: str | None = None,
        destination: str | None = None,
        status: str | None = None,
        version: str | None = None,
        control_id: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> list[dict[str, Any]]:
        flt = MessageFilter(
            zd_number=zd_number,
            event_id=event_id,
            destination_id=destination,
            status=status,
            version=version,
            control_id=control_id,
        )
        rows = await engine.store.list_messages(flt, limit=limit, offset=offset)
        return [message_summary(m) for m in rows]

    @app.get("/api/v1/messages/{message_id}")
    async def get_message(message_id: str) -> dict[str, Any]:
        message = await engine.store.get_message(message_id)
        if message is None:
            raise HTTPException(status_code=404, detail="no message with that id")
        attempts = await engine.store.list_attempts(message_id)
        return message_detail(message, attempts)

    @app.get("/api/v1/versions")
    async def versions() -> list[dict[str, Any]]:
        return versions_table(engine.today(), engine.catalog)

    return app
