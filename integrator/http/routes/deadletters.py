"""``/api/v1/deadletters``: the messages the engine gave up on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from deadletter import list_dead_letters
from integrator.http.deps import EngineDep, Limit
from integrator.http.scope import ScopeDep
from integrator.presenters import dead_letter_summary

router = APIRouter(prefix="/api/v1", tags=["deadletters"])


@router.get("/deadletters")
async def deadletters(
    engine: EngineDep,
    scope: ScopeDep,
    destination: str | None = None,
    limit: Limit = 100,
    include_resolved: bool = Query(
        False, alias="all", description="Also the resolved ones (a later resend was delivered)."
    ),
) -> list[dict[str, Any]]:
    """Dead letters that still need support, newest first; ``all=true`` adds the resolved ones.

    Each has its ``state`` (``open``, ``resending``, ``resolved``) and the link to the resend
    that resolved it (``resolved_by``), the same shape as ``integrator deadletter list --json``.
    Only those of destinations in the caller's clusters.
    """
    letters = await list_dead_letters(
        engine.store,
        destination_id=destination,
        limit=limit,
        include_resolved=include_resolved,
        destination_ids=scope.destination_ids(engine.catalog),
    )
    return [dead_letter_summary(letter) for letter in letters]
