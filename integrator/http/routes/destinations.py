"""``/api/v1/destinations``: operators' changes through ``DestinationAdmin``, like the CLI."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from integrator.catalog import version_warnings
from integrator.errors import PermanentError
from integrator.http.deps import EngineDep, Revision, actor_of, json_object, reason_of
from integrator.http.openapi import DESTINATION_BODY
from integrator.operators import Change, UnknownDestination

router = APIRouter(prefix="/api/v1", tags=["destinations"])


async def _change(call: Awaitable[Change]) -> dict[str, Any]:
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


@router.get("/destinations")
async def list_destinations(engine: EngineDep) -> list[dict[str, Any]]:
    return await engine.admin.summaries()


@router.get("/destinations/{destination_id}")
async def get_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    try:
        config, source = await engine.admin.get(destination_id)
    except UnknownDestination as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    notices = version_warnings(config, today=engine.today(), source=source, in_service=True)
    return {"file": source, "definition": config.model_dump(mode="json"), "warnings": notices}


@router.post("/destinations", status_code=201, openapi_extra=DESTINATION_BODY)
async def add_destination(request: Request, engine: EngineDep) -> dict[str, Any]:
    definition = await json_object(request)
    return await _change(
        engine.admin.add(definition, actor=actor_of(request), reason=reason_of(request))
    )


@router.put("/destinations/{destination_id}", openapi_extra=DESTINATION_BODY)
async def replace_destination(
    destination_id: str, request: Request, engine: EngineDep
) -> dict[str, Any]:
    definition = await json_object(request)
    return await _change(
        engine.admin.replace(
            destination_id, definition, actor=actor_of(request), reason=reason_of(request)
        )
    )


@router.delete("/destinations/{destination_id}")
async def remove_destination(
    destination_id: str, request: Request, engine: EngineDep, force: bool = False
) -> dict[str, Any]:
    return await _change(
        engine.admin.remove(
            destination_id, actor=actor_of(request), force=force, reason=reason_of(request)
        )
    )


@router.post("/destinations/{destination_id}/pause")
async def pause_destination(
    destination_id: str, request: Request, engine: EngineDep
) -> dict[str, Any]:
    return await _change(
        engine.admin.set_enabled(
            destination_id, False, actor=actor_of(request), reason=reason_of(request)
        )
    )


@router.post("/destinations/{destination_id}/resume")
async def resume_destination(
    destination_id: str, request: Request, engine: EngineDep
) -> dict[str, Any]:
    return await _change(
        engine.admin.set_enabled(
            destination_id, True, actor=actor_of(request), reason=reason_of(request)
        )
    )


@router.get("/destinations/{destination_id}/history")
async def destination_history(destination_id: str, engine: EngineDep) -> list[dict[str, Any]]:
    try:
        return await engine.admin.history(destination_id)
    except UnknownDestination as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.post("/destinations/{destination_id}/rollback/{revision}")
async def rollback_destination(
    destination_id: str, revision: Revision, request: Request, engine: EngineDep
) -> dict[str, Any]:
    return await _change(
        engine.admin.rollback(
            destination_id, revision, actor=actor_of(request), reason=reason_of(request)
        )
    )


@router.post("/destinations/{destination_id}/test")
async def send_test_message(
    destination_id: str, engine: EngineDep, event_type: str | None = None
) -> Any:
    try:
        result = await engine.admin.test(destination_id, event_type)
    except UnknownDestination as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except PermanentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return result.__dict__
