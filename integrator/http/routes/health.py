"""``/healthz`` and ``/readyz``: open to all, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrator.http.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(engine: EngineDep) -> JSONResponse:
    try:
        await engine.store.count_by_status()
    except Exception:
        return JSONResponse({"status": "store unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})
