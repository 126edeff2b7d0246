"""``/healthz`` and ``/readyz``: open to all, for load balancers and orchestrators.

``/healthz`` says the process serves HTTP (restart it if not); ``/readyz`` says whether it can
do its work now, checking the store and the transport, and names each check so an operator
sees which one failed (take it out of the load balancer, do not restart it).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrator.http.deps import EngineDep
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import READY_RESPONSES
from integrator.scrape import readiness

router = APIRouter(tags=["health"], route_class=JsonBodyRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=READY_RESPONSES)
async def readyz(engine: EngineDep) -> JSONResponse:
    checks = await readiness(engine)
    ready = all(state == "ok" for state in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
