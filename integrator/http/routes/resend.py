"""Resending: one message, or a selection as a job followed at ``/api/v1/jobs/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from deadletter import DeadLetterError, ResendRequest, UnknownMessageId, select_for_resend
from integrator.http.bodies import BatchResendBody, ResendBody
from integrator.http.deps import EngineDep, JobsDep, actor_of, filter_of
from integrator.jobs import Job
from integrator.presenters import message_summary
from integrator.resending import resend_in_engine
from integrator.store import MessageRecord

router = APIRouter(prefix="/api/v1", tags=["resend"])


def _request(body: ResendBody, request: Request, job_id: str | None) -> ResendRequest:
    return ResendRequest(
        reason=body.reason,
        actor=actor_of(request),
        mode=body.mode,
        to=body.to,
        job_id=job_id,
    )


@router.post("/messages/{message_id}/resend", status_code=201)
async def resend_message(
    message_id: str, body: ResendBody, request: Request, engine: EngineDep
) -> Any:
    """Resend one message (a new, linked message; audited). Who: ``X-Integrator-Actor``."""
    try:
        [original] = await select_for_resend(engine.store, message_ids=[message_id])
        [result] = await resend_in_engine(engine, [original], _request(body, request, None))
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

    The job lives in this process only; each resend it made is durable in the store.
    """
    flt = filter_of(engine, body.filter) if body.filter is not None else None
    try:
        originals = await select_for_resend(engine.store, message_ids=body.message_ids, flt=flt)
        _request(body, request, None).checked()
    except UnknownMessageId as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if body.dry_run:
        return JSONResponse(
            {"total": len(originals), "messages": [message_summary(m) for m in originals]},
            status_code=200,
        )

    async def run_resend(job: Job, selected: list[MessageRecord]) -> list[dict[str, Any]]:
        def progress(done: int, _total: int) -> None:
            job.done = done

        results = await resend_in_engine(
            engine,
            selected,
            _request(body, request, job.id),
            progress=progress,
            explicit_ids=set(body.message_ids if body.named_ids is None else body.named_ids),
        )
        return [r.to_json() for r in results]

    job = registry.start("resend", len(originals), lambda job: run_resend(job, originals))
    return job.to_json()


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, registry: JobsDep) -> dict[str, Any]:
    job = registry.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="no job with that id (jobs end at restart)")
    return job.to_json()
