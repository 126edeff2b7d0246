"""``/api/v1/rejected``: input that failed validation, as ``integrator rejected list|show``.

Rejected input lies in no cluster (it never reached a destination), so both routes need their
permission for all clusters: the route table says so (``integrator.access.routes``), and the
service, which the console and the CLI call too, checks it again. The listing names the broken
rules and no byte of the body; one body in full may hold patient data and is audited first
(``integrator.rejected_reads``). An id the service cannot look up (malformed, too short, shared
by several) is answered as an unknown one: 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from integrator.http.auth import IdentityDep
from integrator.http.deps import EngineDep, Limit, SourceDep
from integrator.rejected_reads import (
    BadRejectedId,
    NeedsEveryCluster,
    RejectedNotFound,
    list_rejected,
    locate_rejected,
    read_rejected,
)

router = APIRouter(prefix="/api/v1", tags=["rejected"])


@router.get("/rejected")
async def rejected(
    engine: EngineDep, identity: IdentityDep, limit: Limit = 100
) -> list[dict[str, Any]]:
    """Rejected input, newest first: when, from where (``source``), its size in ``bytes`` and
    the rules it broke (``problems``, as ``field: rule``); no byte of the body."""
    try:
        return await list_rejected(engine.store, identity, limit=limit)
    except NeedsEveryCluster as refusal:
        raise HTTPException(status_code=403, detail=str(refusal)) from None


@router.get("/rejected/{rejected_id}")
async def rejected_one(
    rejected_id: str, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """One piece of rejected input in full: every broken rule with its message, and the
    ``body`` as it arrived (as text); it may hold patient data, so reading it is audited."""
    try:
        full_id = await locate_rejected(engine.store, identity, rejected_id)
        detail = await read_rejected(engine.store, identity, full_id, source=source)
    except (RejectedNotFound, BadRejectedId):
        raise HTTPException(status_code=404, detail="no rejected input with that id") from None
    except NeedsEveryCluster as refusal:
        raise HTTPException(status_code=403, detail=str(refusal)) from None
    if detail is None:
        raise HTTPException(status_code=404, detail="no rejected input with that id")
    return detail
