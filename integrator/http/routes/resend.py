"""Resending: one message, or a selection as a job followed at ``/api/v1/jobs/{id}``.

Which messages are resent or skipped is ``deadletter.resend``'s decision, for the dry run as
for the job; the routes only translate it into HTTP, and keep it within the caller's clusters:
a message outside them is unknown (404), a filter finds only messages inside them, and a resend
``to`` another destination needs the permission in that destination's cluster too (one outside
the caller's clusters is answered as one that is not configured).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from deadletter import (
    DeadLetterError,
    ResendRequest,
    ResendResult,
    Selection,
    UnknownMessageId,
    refusals,
    select_for_resend,
)
from integrator.catalog import Catalog
from integrator.http.bodies import BatchResendBody, ResendBody
from integrator.http.deps import EngineDep, JobsDep, SourceDep, filter_of
from integrator.http.scope import Scope, ScopeDep, cluster_of
from integrator.jobs import Job
from integrator.resending import engine_renderer, resend_in_engine
from integrator.store import MessageRecord

router = APIRouter(prefix="/api/v1", tags=["resend"])


def _request(
    body: ResendBody, scope: Scope, job_id: str | None, source: str | None
) -> ResendRequest:
    return ResendRequest(
        reason=body.reason,
        actor=scope.actor,
        mode=body.mode,
        to=body.to,
        job_id=job_id,
        source=source,
    )


def outcome_json(results: list[ResendResult], *, dry_run: bool) -> dict[str, Any]:
    """Counts and every message's outcome with why, as the dry run answers it."""
    return {
        "dry_run": dry_run,
        "total": len(results),
        "resend": sum(r.goes_out for r in results),
        "skip": sum(not r.goes_out for r in results),
        "results": [r.to_json() for r in results],
    }


def _require_visible(
    scope: Scope, catalog: Catalog, selection: Iterable[MessageRecord], *, detail: str | None
) -> None:
    """Refuse a selected message outside the caller's clusters as if unknown (404).

    A filter finds only messages inside them; this is for the ones named by id.
    """
    for message in selection:
        missing = HTTPException(status_code=404, detail=detail or str(UnknownMessageId(message.id)))
        scope.require_destination(catalog, message.destination_id, missing=missing)


def _require_target(scope: Scope, catalog: Catalog, to: str | None) -> None:
    """A resend ``to`` another destination needs the permission in that one's cluster too."""
    if to is None:
        return
    unknown = HTTPException(status_code=422, detail=f"destination {to} is not configured")
    scope.require_destination(catalog, to, missing=unknown)


def _clusters(
    catalog: Catalog, messages: Iterable[MessageRecord], to: str | None
) -> frozenset[str | None]:
    destinations = {m.destination_id for m in messages} | ({to} if to else set())
    return frozenset(cluster_of(catalog, d) for d in destinations)


@router.post("/messages/{message_id}/resend", status_code=201)
async def resend_message(
    message_id: str, body: ResendBody, engine: EngineDep, scope: ScopeDep, source: SourceDep
) -> Any:
    """Resend one message (a new, linked message; audited under the caller's identity).

    The message is named, so an earlier resend never stops it; what cannot be resent at all
    (still in delivery, held, no bytes) is a 422 with why.
    """
    catalog = engine.catalog
    try:
        selection = await select_for_resend(engine.store, message_ids=[message_id])
        _require_visible(scope, catalog, selection, detail="no message with that id")
        _require_target(scope, catalog, body.to)
        [result] = await resend_in_engine(engine, selection, _request(body, scope, None, source))
    except UnknownMessageId:
        raise HTTPException(status_code=404, detail="no message with that id") from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if not result.resent:
        raise HTTPException(status_code=422, detail=result.note)
    return result.to_json()


@router.post("/resend", status_code=202)
async def resend_batch(
    body: BatchResendBody,
    engine: EngineDep,
    scope: ScopeDep,
    registry: JobsDep,
    source: SourceDep,
) -> Any:
    """Resend a selection (ids and/or a filter) as a job; follow it at ``/api/v1/jobs/{id}``.

    ``dry_run`` answers at once (200) with what the job would do to each message, decided by
    the same code. The job and its progress are kept in the store, so it can be read after a
    restart (``integrator.jobs``). A filter finds the messages of the caller's clusters only.
    """
    catalog = engine.catalog
    flt = (
        filter_of(engine, body.filter, scope.destination_ids(catalog))
        if body.filter is not None
        else None
    )
    try:
        selection = await select_for_resend(engine.store, message_ids=body.message_ids, flt=flt)
        _require_visible(scope, catalog, selection, detail=None)
        _require_target(scope, catalog, body.to)
        if body.named_ids is not None:
            selection = selection.naming(body.named_ids)
        if body.dry_run:
            planned = await resend_in_engine(
                engine, selection, _request(body, scope, None, source), dry_run=True
            )
            return JSONResponse(outcome_json(planned, dry_run=True), status_code=200)
        refusals(selection, _request(body, scope, None, source), engine_renderer(engine))
    except UnknownMessageId as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None

    async def run_resend(job: Job, selected: Selection) -> list[dict[str, Any]]:
        def progress(done: int, _total: int) -> None:
            job.done = done

        results = await resend_in_engine(
            engine, selected, _request(body, scope, job.id, source), progress=progress
        )
        return [r.to_json() for r in results]

    job = await registry.start(
        "resend",
        len(selection),
        lambda job: run_resend(job, selection),
        clusters=_clusters(catalog, selection, body.to),
    )
    return job.to_json()


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, registry: JobsDep, scope: ScopeDep) -> dict[str, Any]:
    """A job, for those who hold the permission in every cluster it works in."""
    missing = HTTPException(status_code=404, detail="no job with that id")
    job = await registry.get(job_id)
    if job is None:
        raise missing
    scope.require(job.clusters, missing=missing)
    return job.to_json()
