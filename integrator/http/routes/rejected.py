"""``/api/v1/rejected``: input that failed validation, as ``integrator rejected list|show``.

Rejected input lies in no cluster (it never reached a destination), so both routes need their
permission for all clusters: the route table says so (``integrator.access.routes``), and the
service, which the console and the CLI call too, checks it again. The listing names the broken
rules and no byte of the body; one body in full may hold patient data and is audited first
(``integrator.rejected_reads``). An id the service cannot look up (malformed, too short, shared
by several) is answered as an unknown one: 404.

The listing takes the terms every front door takes (``since``, ``until``, ``source``,
``zd_number``, ``provider``), checked by the service, which refuses one it cannot use with a 422
naming the term and the rule (the sources allowed), never the value sent. The body stays the
list it always was; how many the terms match in all, beyond ``limit``, is the ``X-Total-Count``
header. A search by BSN is ``POST /api/v1/rejected/search`` with the BSN in the body (never in
a URL, where proxies and access logs keep it); it needs ``patient_data.read`` for all clusters
and the service records it as a view of patient data before the rows are returned.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from integrator.http.answers import REJECTED_LISTED, listing
from integrator.http.auth import IdentityDep
from integrator.http.bodies import PageTopLimit
from integrator.http.deps import TOTAL, EngineDep, SourceDep, TopLimit, total_header
from integrator.http.errors import without_values
from integrator.http.json_body import JsonBodyRoute
from integrator.http.periods import since_field, since_query, until_field, until_query
from integrator.presenters import iso_time
from integrator.rejected_reads import (
    SOURCES,
    BadRejectedId,
    NeedsEveryCluster,
    RejectedListing,
    RejectedNotFound,
    find_rejected,
    locate_rejected,
    read_rejected,
)
from integrator.search import BadSearch, misplaced_bsn, sent_values

router = APIRouter(prefix="/api/v1", tags=["rejected"], route_class=JsonBodyRoute)

Since = Annotated[str | None, since_query("Received")]
Until = Annotated[str | None, until_query("Received")]
Source = Annotated[
    str | None,
    Query(
        max_length=16,
        description=f"How it arrived: one of {', '.join(SOURCES)}",
        json_schema_extra={"enum": list(SOURCES)},
    ),
]
ZdNumber = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ZD number read from the input (lower case is accepted)",
    ),
]
Provider = Annotated[
    str | None, Query(max_length=128, description="provider.id read from the input")
]
TOTAL_HEADER: Final = total_header("How many pieces the terms match in all, beyond limit")


class RejectedSearch(BaseModel):
    """The listing's terms and a BSN, which only ever travels in a body."""

    model_config = ConfigDict(extra="forbid")

    bsn: str | None = Field(None, repr=False)  # never in a repr, so never in a traceback
    zd_number: str | None = Field(None, max_length=64)
    provider: str | None = Field(None, max_length=128)
    since: str | None = since_field("Received")
    until: str | None = until_field("Received")
    source: str | None = Field(None, max_length=16)
    limit: PageTopLimit = 100


async def _listed(
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    terms: dict[str, str | None],
    *,
    limit: int,
    address: str | None = None,
) -> list[dict[str, Any]]:
    try:
        listing: RejectedListing = await find_rejected(
            engine.store, engine.settings, identity, limit=limit, address=address, **terms
        )
    except NeedsEveryCluster as refusal:
        raise HTTPException(status_code=403, detail=str(refusal)) from None
    except BadSearch as exc:
        raise HTTPException(
            status_code=422, detail=without_values(str(exc), sent_values(exc, terms.values()))
        ) from None
    response.headers[TOTAL] = str(listing.total)
    return [_times_written(row) for row in listing.rows]


def _times_written(row: dict[str, Any]) -> dict[str, Any]:
    """``received_at`` as the API writes every time: UTC with ``+00:00`` (``iso_time``). Left
    to the encoder it ended in ``Z`` here alone, which a script comparing the strings, or
    Python's ``fromisoformat`` before 3.11, does not take as the others."""
    return {**row, "received_at": iso_time(row["received_at"])}


@router.get(
    "/rejected",
    response_model=None,
    responses=listing(REJECTED_LISTED, "The rejected input, newest first", TOTAL_HEADER),
)
async def rejected(
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    zd_number: ZdNumber = None,
    provider: Provider = None,
    limit: TopLimit = 100,
) -> list[dict[str, Any]]:
    """Rejected input, newest first (by ``received_at``, then id; at most ``limit``, with no
    offset: for more, narrower periods of ``since`` and ``until``): when, from where
    (``source``), who sent it (``caller``:
    the API token that submitted it as ``token:<name>``, the server's CLI as
    ``local:<user>``, RabbitMQ as ``amqp``; null for input kept before the engine recorded
    it), the ``zd_number`` and ``provider_id`` read from it (null when they could not be), its
    size in ``bytes`` and the rules it broke (``problems``, as ``field: rule``, and
    ``reason``, each ``path``, ``rule`` and ``message`` as ``GET /api/v1/rejected/{id}`` words
    it); no byte of the body. Terms combine
    (AND); ``X-Total-Count`` says how many they match in all. By BSN:
    ``POST /api/v1/rejected/search``."""
    terms = {
        "since": since,
        "until": until,
        "source": source,
        "zd_number": zd_number,
        "provider": provider,
    }
    # A provider id read from the input may be anything, a BSN too: not in a URL (as events').
    if (pasted := misplaced_bsn({"provider": provider})) is not None:
        raise HTTPException(status_code=422, detail=str(pasted))
    return await _listed(engine, identity, response, terms, limit=limit)


@router.post(
    "/rejected/search",
    response_model=None,
    responses=listing(REJECTED_LISTED, "The rejected input, newest first", TOTAL_HEADER),
)
async def search_rejected(
    body: RejectedSearch,
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    source: SourceDep,
) -> list[dict[str, Any]]:
    """Like ``GET /api/v1/rejected``, and by the patient's BSN (as its keyed hash), which never
    goes in a URL. A search by BSN is audited as a view of patient data (``rejected.search``).
    A ``provider`` that holds a BSN is refused as in the query (``search.misplaced_bsn``), as
    ``POST /api/v1/events/search`` refuses it: it belongs in ``bsn``, where it is hashed and
    its search audited; as ``provider`` it was neither."""
    if (pasted := misplaced_bsn({"provider": body.provider})) is not None:
        raise HTTPException(status_code=422, detail=str(pasted))
    terms = body.model_dump(exclude={"limit"})
    return await _listed(engine, identity, response, terms, limit=body.limit, address=source)


@router.get("/rejected/{rejected_id}")
async def rejected_one(
    rejected_id: str, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """One piece of rejected input in full: the listing's fields (``caller`` among them),
    every broken rule with its message, and the ``body`` as it arrived (as text); it may hold
    patient data, so reading it is audited."""
    try:
        full_id = await locate_rejected(engine.store, identity, rejected_id)
        detail = await read_rejected(engine.store, identity, full_id, source=source)
    except (RejectedNotFound, BadRejectedId):
        raise HTTPException(status_code=404, detail=str(RejectedNotFound())) from None
    except NeedsEveryCluster as refusal:
        raise HTTPException(status_code=403, detail=str(refusal)) from None
    if detail is None:
        raise HTTPException(status_code=404, detail=str(RejectedNotFound()))
    return _times_written(detail)
