"""``/api/v1/versions``: the message-version registry with status and usage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from integrator.http.deps import EngineDep
from integrator.presenters import versions_table

router = APIRouter(prefix="/api/v1", tags=["versions"])


@router.get("/versions")
async def versions(engine: EngineDep) -> list[dict[str, Any]]:
    return versions_table(engine.today(), engine.catalog)
