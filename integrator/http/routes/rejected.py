"""``/api/v1/rejected``: input that failed validation, as ``integrator rejected list|show``.

Rejected input lies in no cluster (it never reached a destination), so both routes need their
permission for all clusters. The listing names the broken rules and no byte of the body; one
body in full may hold patient data and is audited first (``integrator.rejected_reads``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from integrator.http.deps import EngineDep, Limit, SourceDep
from integrator.http.scope import ScopeDep
from integrator.rejected_reads import list_rejected, read_rejected
from integrator.store import NotFound
from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix

router = APIRouter(prefix="/api/v1", tags=["rejected"])


@router.get("/rejected")
async def rejected(engine: EngineDep, limit: Limit = 100) -> list[dict[str, Any]]:
    """Rejected input, newest first: when, from where (``source``), its size in ``bytes`` and
    the rules it broke (``problems``, as ``field: rule``); no byte of the body."""
    return await list_rejected(engine.store, limit=limit)


@router.get("/rejected/{rejected_id}")
async def rejected_one(
    rejected_id: str, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> dict[str, Any]:
    """One piece of rejected input in full: every broken rule with its message, and the
    ``body`` as it arrived (as text); it may hold patient data, so reading it is audited."""
    try:
        full_id = await engine.store.resolve_rejected_id(rejected_id)
    except (NotFound, AmbiguousIdPrefix, BadIdPrefix):
        raise HTTPException(status_code=404, detail="no rejected input with that id") from None
    detail = await read_rejected(engine.store, scope.identity, full_id, source=source)
    if detail is None:
        raise HTTPException(status_code=404, detail="no rejected input with that id")
    return detail
