"""``/api/v1/events``: upstream systems submit events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from integrator.errors import InvalidEvent
from integrator.http.deps import EngineDep
from integrator.http.openapi import EVENT_BODY

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post("/events", status_code=202, openapi_extra=EVENT_BODY)
async def post_event(request: Request, engine: EngineDep) -> JSONResponse:
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
