"""``/metrics``: Prometheus text format; the gauges counted from the store are refreshed first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from integrator.http.deps import EngineDep
from integrator.http.json_body import JsonBodyRoute
from integrator.scrape import refresh_metrics

router = APIRouter(tags=["metrics"], route_class=JsonBodyRoute)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,  # declared as text: Prometheus' exposition, not JSON
    responses={200: {"description": "the metrics in Prometheus' text exposition format"}},
)
async def metrics(engine: EngineDep, request: Request) -> Response:
    if not await refresh_metrics(engine):
        # Answered (its token remembered, integrator_store_up 0) while the store is away: not
        # a sign that the store is back (``integrator.http.errors.log_store_back``).
        request.state.store_away = True
    return Response(engine.metrics.render(), media_type=CONTENT_TYPE_LATEST)
