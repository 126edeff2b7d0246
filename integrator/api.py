"""HTTP API, ``/api/v1`` (SPEC §7). OpenAPI at ``/docs``.

Identifiers only in URLs (message ids, never a BSN or a name); bodies carry the data.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from deadletter import (
    DeadLetterError,
    ResendRequest,
    UnknownMessageId,
    list_dead_letters,
    select_for_resend,
)
from integrator.catalog import version_warnings
from integrator.engine import Engine
from integrator.errors import InvalidEvent, PermanentError
from integrator.jobs import Job, JobRegistry
from integrator.operators import Change, UnknownDestination
from integrator.presenters import (
    audit_view,
    dead_letter_summary,
    message_detail,
    message_summary,
    versions_table,
)
from integrator.resending import resend_in_engine
from integrator.search import BadSearch, build_filter
from integrator.store import MessageFilter, MessageRecord


class SearchTerms(BaseModel):
    """Message search terms; the only way to search by BSN (a body, never the URL)."""

    model_config = ConfigDict(extra="forbid")

    bsn: str | None = Field(None, repr=False)  # never in a repr, so never in a traceback
    zd_number: str | None = None
    event_id: str | None = None
    control_id: str | None = None
    destination: str | None = None
    status: str | None = None
    version: str | None = None
    event_type: str | None = None
    since: str | None = None  # ISO date or date-time; a date is that whole local day
    until: str | None = None


class SearchBody(SearchTerms):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class ResendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str
    mode: Literal["original", "remap"] | None = None
    to: str | None = None


class BatchResendBody(ResendBody):
    message_ids: list[str] = Field(default_factory=list, max_length=100_000)
    filter: SearchTerms | None = None
    # Of the selection, the ids a person named: the others (found by the filter, or listed by a
    # client that searched first) are skipped when they already have a live resend. Default:
    # ``message_ids`` are named, the filter's finds are not.
    named_ids: list[str] | None = None
    dry_run: bool = False


def create_app(engine: Engine, jobs: JobRegistry | None = None) -> FastAPI:
    app = FastAPI(title="Integrator", version="1", docs_url="/docs")
    registry = jobs or JobRegistry()
    app.state.jobs = registry

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await engine.store.count_by_status()
        except Exception:
            return JSONResponse({"status": "store unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.post("/api/v1/events", status_code=202)
    async def post_event(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            result = await engine.intake.submit(raw, source="http")
        except InvalidEvent as exc:
            return JSONResponse(
                {
                    "detail": "event refused",
                    "errors": exc.to_json(),
                    "rejected_id": exc.rejected_id,
                },
                status_code=422,
            )
        return JSONResponse(result.to_json(), status_code=202)

    @app.get("/api/v1/messages")
    async def list_messages(
        zd_number: str | None = None,
        event_id: str | None = None,
        destination: str | None = None,
        status: str | None = None,
        version: str | None = None,
        control_id: str | None = None,
        event_type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> list[dict[str, Any]]:
        """Search by identifiers; a BSN search is ``POST /api/v1/messages/search``."""
        terms = SearchTerms(
            zd_number=zd_number,
            event_id=event_id,
            destination=destination,
            status=status,
            version=version,
            control_id=control_id,
            event_type=event_type,
            since=since,
            until=until,
        )
        rows = await engine.store.list_messages(filter_of(terms), limit=limit, offset=offset)
        return [message_summary(m) for m in rows]

    @app.post("/api/v1/messages/search")
    async def search_messages(body: SearchBody) -> list[dict[str, Any]]:
        """Like ``GET /api/v1/messages``, and by patient BSN, which never goes in a URL."""
        rows = await engine.store.list_messages(
            filter_of(body), limit=body.limit, offset=body.offset
        )
        return [message_summary(m) for m in rows]

    def filter_of(terms: SearchTerms) -> MessageFilter:
        try:
            values = terms.model_dump(exclude_none=True, exclude={"limit", "offset"})
            return build_filter(engine.settings, **values)
        except BadSearch as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None

    @app.get("/api/v1/messages/{message_id}")
    async def get_message(message_id: str) -> dict[str, Any]:
        message = await engine.store.get_message(message_id)
        if message is None:
            raise HTTPException(status_code=404, detail="no message with that id")
        attempts = await engine.store.list_attempts(message_id)
        event = await engine.store.get_event(message.event_id)
        resent_from, resends = await engine.store.list_resends(message_id)
        return message_detail(message, attempts, event=event, origin=resent_from, resends=resends)

    def resend_request(body: ResendBody, request: Request, job_id: str | None) -> ResendRequest:
        return ResendRequest(
            reason=body.reason,
            actor=actor_of(request),
            mode=body.mode,
            to=body.to,
            job_id=job_id,
        )

    @app.post("/api/v1/messages/{message_id}/resend", status_code=201)
    async def resend_message(message_id: str, body: ResendBody, request: Request) -> Any:
        """Resend one message (a new, linked message; audited). Who: ``X-Integrator-Actor``."""
        try:
            [original] = await select_for_resend(engine.store, message_ids=[message_id])
            [result] = await resend_in_engine(
                engine, [original], resend_request(body, request, None)
            )
        except UnknownMessageId:
            raise HTTPException(status_code=404, detail="no message with that id") from None
        except DeadLetterError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        if not result.resent:
            raise HTTPException(status_code=422, detail=result.note)
        return result.to_json()

    @app.post("/api/v1/resend", status_code=202)
    async def resend_batch(body: BatchResendBody, request: Request) -> Any:
        """Resend a selection (ids and/or a filter) as a job; follow it at ``/api/v1/jobs/{id}``.

        The job lives in this process only; each resend it made is durable in the store.
        """
        flt = filter_of(body.filter) if body.filter is not None else None
        try:
            originals = await select_for_resend(engine.store, message_ids=body.message_ids, flt=flt)
            resend_request(body, request, None).checked()
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
                resend_request(body, request, job.id),
                progress=progress,
                explicit_ids=set(body.message_ids if body.named_ids is None else body.named_ids),
            )
            return [r.to_json() for r in results]

        job = registry.start("resend", len(originals), lambda job: run_resend(job, originals))
        return job.to_json()

    @app.get("/api/v1/jobs/{job_id}")
    async def get_job(job_id: str) -> dict[str, Any]:
        job = registry.get(job_id)
        if job is None:
            raise HTTPException(status_code=404, detail="no job with that id (jobs end at restart)")
        return job.to_json()

    def actor_of(request: Request) -> str:
        return request.headers.get("x-integrator-actor", "api")[:128]

    def reason_of(request: Request) -> str | None:
        return request.headers.get("x-integrator-reason")

    async def definition_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(status_code=422, detail="the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise HTTPException(status_code=422, detail="the body must be a JSON object")
        return body

    async def admin_call(call: Awaitable[Change]) -> dict[str, Any]:
        try:
            change = await call
        except UnknownDestination as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {
            "destination": change.destination_id,
            "action": change.action,
            "revision": change.revision,
            "warnings": list(change.warnings),
            "diff": change.diff,
        }

    @app.get("/api/v1/destinations")
    async def list_destinations() -> list[dict[str, Any]]:
        return await engine.admin.summaries()

    @app.get("/api/v1/destinations/{destination_id}")
    async def get_destination(destination_id: str) -> dict[str, Any]:
        try:
            config, source = await engine.admin.get(destination_id)
        except UnknownDestination as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        notices = version_warnings(config, today=engine.today(), source=source, in_service=True)
        return {"file": source, "definition": config.model_dump(mode="json"), "warnings": notices}

    @app.post("/api/v1/destinations", status_code=201)
    async def add_destination(request: Request) -> dict[str, Any]:
        definition = await definition_of(request)
        return await admin_call(
            engine.admin.add(definition, actor=actor_of(request), reason=reason_of(request))
        )

    @app.put("/api/v1/destinations/{destination_id}")
    async def replace_destination(destination_id: str, request: Request) -> dict[str, Any]:
        definition = await definition_of(request)
        return await admin_call(
            engine.admin.replace(
                destination_id, definition, actor=actor_of(request), reason=reason_of(request)
            )
        )

    @app.delete("/api/v1/destinations/{destination_id}")
    async def remove_destination(
        destination_id: str, request: Request, force: bool = False
    ) -> dict[str, Any]:
        return await admin_call(
            engine.admin.remove(
                destination_id, actor=actor_of(request), force=force, reason=reason_of(request)
            )
        )

    @app.post("/api/v1/destinations/{destination_id}/pause")
    async def pause_destination(destination_id: str, request: Request) -> dict[str, Any]:
        return await admin_call(
            engine.admin.set_enabled(
                destination_id, False, actor=actor_of(request), reason=reason_of(request)
            )
        )

    @app.post("/api/v1/destinations/{destination_id}/resume")
    async def resume_destination(destination_id: str, request: Request) -> dict[str, Any]:
        return await admin_call(
            engine.admin.set_enabled(
                destination_id, True, actor=actor_of(request), reason=reason_of(request)
            )
        )

    @app.get("/api/v1/destinations/{destination_id}/history")
    async def destination_history(destination_id: str) -> list[dict[str, Any]]:
        try:
            return await engine.admin.history(destination_id)
        except UnknownDestination as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None

    @app.post("/api/v1/destinations/{destination_id}/rollback/{revision}")
    async def rollback_destination(
        destination_id: str, revision: int, request: Request
    ) -> dict[str, Any]:
        return await admin_call(
            engine.admin.rollback(
                destination_id, revision, actor=actor_of(request), reason=reason_of(request)
            )
        )

    @app.post("/api/v1/destinations/{destination_id}/test")
    async def test_destination(destination_id: str, event_type: str | None = None) -> Any:
        try:
            result = await engine.admin.test(destination_id, event_type)
        except UnknownDestination as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return result.__dict__

    @app.get("/api/v1/deadletters")
    async def deadletters(
        destination: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        letters = await list_dead_letters(engine.store, destination_id=destination, limit=limit)
        return [dead_letter_summary(letter) for letter in letters]

    @app.get("/api/v1/audit")
    async def audit(
        target: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        return [audit_view(a) for a in await engine.store.list_audit(target=target, limit=limit)]

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(engine.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/v1/versions")
    async def versions() -> list[dict[str, Any]]:
        return versions_table(engine.today(), engine.catalog)

    return app
