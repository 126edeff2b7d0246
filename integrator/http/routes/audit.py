"""``/api/v1/audit``: the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from integrator.http.deps import EngineDep, Limit
from integrator.presenters import audit_view

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
async def audit(
    engine: EngineDep, target: str | None = None, limit: Limit = 100
) -> list[dict[str, Any]]:
    return [audit_view(a) for a in await engine.store.list_audit(target=target, limit=limit)]
