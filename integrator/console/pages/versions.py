"""Message versions: status, the days left before a sunset, and which destinations use each.

The same table as ``GET /api/v1/versions`` (``presenters.versions_table``), whose users are the
destinations of the person's clusters (``Scope.visible_catalog``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from integrator.access.permissions import Permission
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.presenters import versions_table

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/versions", "nav.versions", P.DESTINATIONS_READ)]
Reader = Annotated[Visitor, Depends(needs(P.DESTINATIONS_READ))]


@router.get("/versions")
async def versions(request: Request, visitor: Reader) -> Response:
    engine = engine_of(request)
    today = engine.today()
    scope = visitor.scope(P.DESTINATIONS_READ)
    rows = versions_table(today, scope.visible_catalog(engine.catalog))
    for row in rows:
        sunset = row["sunset"]
        row["days_left"] = (date.fromisoformat(sunset) - today).days if sunset else None
    return page(request, visitor, "versions.html", rows=rows)
