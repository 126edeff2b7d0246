"""``/api/v1/versions``: the message-version registry with status and usage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from integrator.http.deps import EngineDep
from integrator.http.json_body import JsonBodyRoute
from integrator.http.scope import ScopeDep
from integrator.presenters import versions_table

router = APIRouter(prefix="/api/v1", tags=["versions"], route_class=JsonBodyRoute)


@router.get("/versions")
async def versions(engine: EngineDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """Every message version; its users are the destinations in the caller's clusters."""
    return versions_table(engine.today(), scope.visible_catalog(engine.catalog))
