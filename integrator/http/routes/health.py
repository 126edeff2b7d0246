"""``/healthz`` and ``/readyz``: open to all, for load balancers and orchestrators.

``/healthz`` says the process serves HTTP (restart it if not); ``/readyz`` says whether the
requests a load balancer sends it can be answered now, and names each check's state so an
operator sees which one is wrong (take it out of the load balancer, do not restart it). Both
answer ``HEAD`` too (the status alone, RFC 9110): a load balancer or monitor that probes by
``HEAD`` took the engine for down on a 405.

Only the store decides: every request needs it. The transport (RabbitMQ) is reported, not
required: while the broker is away, ``POST /events`` still commits the event and its messages
to the store, which is the outbox, answers 202 with a note, and the messages are published
once the broker is back (``integrator.transport.committed``). A 503 then took every engine
out of the load balancer for a broker they all share, and HTTP intake stopped for nothing;
``integrator_transport_up`` and its alert ``IntegratorTransportDown`` say the broker is away.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrator.http.deps import EngineDep
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import READY_RESPONSES
from integrator.scrape import readiness

router = APIRouter(tags=["health"], route_class=JsonBodyRoute)

#: Checks that are named in the answer but do not make the engine not ready (see above).
REPORTED_ONLY = frozenset({"transport"})


@router.get("/healthz")
@router.head("/healthz", operation_id="healthz_head")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=READY_RESPONSES)
@router.head("/readyz", responses=READY_RESPONSES, operation_id="readyz_head")
async def readyz(engine: EngineDep) -> JSONResponse:
    checks = await readiness(engine)
    ready = all(state == "ok" for name, state in checks.items() if name not in REPORTED_ONLY)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
