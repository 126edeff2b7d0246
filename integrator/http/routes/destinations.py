"""``/api/v1/destinations``: operators' changes through ``DestinationAdmin``, like the CLI.

The rules live in the service; a route only maps its refusals to a status and, where the way
out differs from the CLI's, says it in API terms (``?force=true``, ``PATCH``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from integrator.catalog import version_warnings
from integrator.errors import PermanentError
from integrator.http.deps import EngineDep, Revision, actor_of, json_object, reason_of
from integrator.http.openapi import DESTINATION_BODY
from integrator.operators import (
    Change,
    DestinationBusy,
    MissingKeys,
    UnknownDestination,
    problem_view,
)

router = APIRouter(prefix="/api/v1", tags=["destinations"])


async def _change(call: Awaitable[Change]) -> dict[str, Any]:
    try:
        change = await call
    except UnknownDestination as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except DestinationBusy as exc:
        raise HTTPException(
            status_code=409, detail=exc.explain("repeat with ?force=true")
        ) from None
    except MissingKeys as exc:
        detail = f"{exc}; to change only some keys, send a PATCH"
        raise HTTPException(status_code=422, detail=detail) from None
    except PermanentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {
        "destination": change.destination_id,
        "action": change.action,
        "changed": change.changed,
        "revision": change.revision,
        "rewrote_refused_file": change.rewrote_refused_file,
        "warnings": list(change.warnings),
        "diff": change.diff,
    }


@router.get("/destinations")
async def list_destinations(engine: EngineDep) -> list[dict[str, Any]]:
    return await engine.admin.summaries()


@router.get("/destinations/{destination_id}")
async def get_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    """The definition in service; a broken one's last good definition, with why it is broken."""
    try:
        view = await engine.admin.view(destination_id)
    except UnknownDestination as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    config = view.config
    notices = (
        version_warnings(config, today=engine.today(), source=view.file, in_service=True)
        if config is not None
        else []
    )
    problems = view.broken.problems if view.broken else ()
    return {
        "id": view.id,
        "file": view.file,
        "state": view.state,
        "problem": problem_view(problems[0]) if problems else None,
        "problems": [problem_view(p) for p in problems],
        "revision": view.broken.revision if view.broken else None,
        "definition": config.model_dump(mode="json") if config is not None else None,
        "warnings": notices,
    }


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


@router.patch("/destinations/{destination_id}")
async def patch_destination(
    destination_id: str, request: Request, engine: EngineDep
) -> dict[str, Any]:
    """Change some keys: a JSON merge patch (RFC 7386); ``null`` takes a key back to default."""
    changes = await json_object(request)
    return await _change(
        engine.admin.patch(
            destination_id, changes, actor=actor_of(request), reason=reason_of(request)
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
