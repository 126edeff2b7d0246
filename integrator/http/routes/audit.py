"""``/api/v1/audit``: the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from integrator.http.deps import EngineDep
from integrator.presenters import audit_view

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
async def audit(
    engine: EngineDep, target: str | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    return [audit_view(a) for a in await engine.store.list_audit(target=target, limit=limit)]
