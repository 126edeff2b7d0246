"""``/api/v1/rejected``: input that failed validation, as ``integrator rejected list|show``.

Rejected input lies in no cluster (it never reached a destination), so both routes need their
permission for all clusters: the route table says so (``integrator.access.routes``), and the
service, which the console and the CLI call too, checks it again. The listing names the broken
rules and no byte of the body; one body in full may hold patient data and is audited first
(``integrator.rejected_reads``). An id the service cannot look up (malformed, too short, shared
by several) is answered as an unknown one: 404.

The listing takes the terms every front door takes (``since``, ``until``, ``source``), checked
by the service, which refuses one it cannot use with a 422 naming the term and the rule (the
sources allowed), never the value sent. The body stays the list it always was; how many the
terms match in all, beyond ``limit``, is the ``X-Total-Count`` header.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Query, Response

from integrator.http.auth import IdentityDep
from integrator.http.deps import EngineDep, Limit, SourceDep
from integrator.http.errors import without_values
from integrator.rejected_reads import (
    SOURCES,
    BadRejectedId,
    NeedsEveryCluster,
    RejectedNotFound,
    find_rejected,
    locate_rejected,
    read_rejected,
)
from integrator.search import BadSearch

router = APIRouter(prefix="/api/v1", tags=["rejected"])

TOTAL: Final = "X-Total-Count"

Moment = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Received from (since) or until: an ISO date or date-time (a date is that "
        "whole local day), or back from now: 30m, 2h, 3d, 2w",
    ),
]
Source = Annotated[
    str | None,
    Query(
        max_length=16,
        description=f"How it arrived: one of {', '.join(SOURCES)}",
        json_schema_extra={"enum": list(SOURCES)},
    ),
]


@router.get(
    "/rejected",
    responses={
        200: {
            "headers": {
                TOTAL: {
                    "description": "How many pieces the terms match in all, beyond limit",
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
        }
    },
)
async def rejected(
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    since: Moment = None,
    until: Moment = None,
    source: Source = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """Rejected input, newest first: when, from where (``source``), its size in ``bytes`` and
    the rules it broke (``problems``, as ``field: rule``); no byte of the body. Terms combine
    (AND); ``X-Total-Count`` says how many they match in all."""
    terms = {"since": since, "until": until, "source": source}
    try:
        listing = await find_rejected(engine.store, engine.settings, identity, limit=limit, **terms)
    except NeedsEveryCluster as refusal:
        raise HTTPException(status_code=403, detail=str(refusal)) from None
    except BadSearch as exc:
        raise HTTPException(
            status_code=422, detail=without_values(str(exc), terms.values())
        ) from None
    response.headers[TOTAL] = str(listing.total)
    return listing.rows


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
