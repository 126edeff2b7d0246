"""Resending: one message, or a selection as a job followed at ``/api/v1/jobs/{id}``.

Which messages are resent or skipped is ``deadletter.resend``'s decision, for the dry run as
for the job; the routes only translate it into HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
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
from integrator.http.bodies import BatchResendBody, ResendBody
from integrator.http.deps import EngineDep, JobsDep, actor_of, filter_of
from integrator.jobs import Job
from integrator.resending import engine_renderer, resend_in_engine

router = APIRouter(prefix="/api/v1", tags=["resend"])


def _request(body: ResendBody, request: Request, job_id: str | None) -> ResendRequest:
    return ResendRequest(
        reason=body.reason,
        actor=actor_of(request),
        mode=body.mode,
        to=body.to,
        job_id=job_id,
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


@router.post("/messages/{message_id}/resend", status_code=201)
async def resend_message(
    message_id: str, body: ResendBody, request: Request, engine: EngineDep
) -> Any:
    """Resend one message (a new, linked message; audited). Who: ``X-Integrator-Actor``.

    The message is named, so an earlier resend never stops it; what cannot be resent at all
    (still in delivery, held, no bytes) is a 422 with why.
    """
    try:
        selection = await select_for_resend(engine.store, message_ids=[message_id])
        [result] = await resend_in_engine(engine, selection, _request(body, request, None))
    except UnknownMessageId:
        raise HTTPException(status_code=404, detail="no message with that id") from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if not result.resent:
        raise HTTPException(status_code=422, detail=result.note)
    return result.to_json()


@router.post("/resend", status_code=202)
async def resend_batch(
    body: BatchResendBody, request: Request, engine: EngineDep, registry: JobsDep
) -> Any:
    """Resend a selection (ids and/or a filter) as a job; follow it at ``/api/v1/jobs/{id}``.

    ``dry_run`` answers at once (200) with what the job would do to each message, decided by
    the same code. The job lives in this process only; each resend it made is durable in the
    store.
    """
    flt = filter_of(engine, body.filter) if body.filter is not None else None
    try:
        selection = await select_for_resend(engine.store, message_ids=body.message_ids, flt=flt)
        if body.named_ids is not None:
            selection = selection.naming(body.named_ids)
        if body.dry_run:
            planned = await resend_in_engine(
                engine, selection, _request(body, request, None), dry_run=True
            )
            return JSONResponse(outcome_json(planned, dry_run=True), status_code=200)
        refusals(selection, _request(body, request, None), engine_renderer(engine))
    except UnknownMessageId as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None

    async def run_resend(job: Job, selected: Selection) -> list[dict[str, Any]]:
        def progress(done: int, _total: int) -> None:
            job.done = done

        results = await resend_in_engine(
            engine, selected, _request(body, request, job.id), progress=progress
        )
        return [r.to_json() for r in results]

    job = registry.start("resend", len(selection), lambda job: run_resend(job, selection))
    return job.to_json()


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, registry: JobsDep) -> dict[str, Any]:
    job = registry.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="no job with that id (jobs end at restart)")
    return job.to_json()
