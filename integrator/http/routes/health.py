"""``/healthz`` and ``/readyz``: open to all, for load balancers and orchestrators.

``/healthz`` says the process serves HTTP (restart it if not); ``/readyz`` says whether it can
do its work now, checking the store and the transport, and names each check so an operator
sees which one failed (take it out of the load balancer, do not restart it). Both answer
``HEAD`` too (the status alone, RFC 9110): a load balancer or monitor that probes by ``HEAD``
took the engine for down on a 405.
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
@router.head("/healthz", operation_id="healthz_head")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=READY_RESPONSES)
@router.head("/readyz", responses=READY_RESPONSES, operation_id="readyz_head")
async def readyz(engine: EngineDep) -> JSONResponse:
    checks = await readiness(engine)
    ready = all(state == "ok" for state in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
